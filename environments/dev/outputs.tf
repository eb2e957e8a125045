output "api_endpoint" {
  description = "Base URL of the API (POST /events, POST /webhooks/{source}, GET /health)."
  value       = module.stack.api_endpoint
}

output "custom_domain_target" {
  description = "Where to point the custom domain's DNS alias, when one is configured."
  value       = module.stack.custom_domain_target
}

output "table_name" {
  description = "Events table (for `ingest events list --table`)."
  value       = module.stack.table_name
}

output "function_name" {
  description = "Lambda function name."
  value       = module.stack.function_name
}

output "alarm_topic_arn" {
  description = "SNS topic receiving the alarms."
  value       = module.stack.alarm_topic_arn
}

output "dashboard_url" {
  description = "CloudWatch dashboard of the environment."
  value       = module.stack.dashboard_url
}
