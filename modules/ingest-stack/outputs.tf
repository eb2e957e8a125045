output "api_endpoint" {
  description = "Base URL of the API (POST /events, POST /webhooks/{source}, GET /health)."
  value       = module.http_api.api_endpoint
}

output "custom_domain_target" {
  description = "Where to point the custom domain's DNS alias, when one is configured."
  value       = module.http_api.custom_domain_target
}

output "table_name" {
  description = "Events table (for `ingest events list --table`)."
  value       = module.event_store.table_name
}

output "function_name" {
  description = "Lambda function name."
  value       = module.ingest_function.function_name
}

output "alarm_topic_arn" {
  description = "SNS topic receiving the alarms."
  value       = module.alarms.topic_arn
}

output "dashboard_url" {
  description = "CloudWatch dashboard of the environment."
  value       = "https://console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards:name=${module.alarms.dashboard_name}"
}

output "consumers_bus_name" {
  description = "The EventBridge bus newly stored events arrive on, or null when consumers are off."
  value       = var.consumers.enabled ? module.consumers[0].bus_name : null
}
