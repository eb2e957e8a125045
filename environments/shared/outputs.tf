output "api_endpoint" {
  description = "Base URL of the API (POST /events, POST /webhooks/{source}, GET /health): the deploy workflow smoke-tests it."
  value       = module.stack.api_endpoint
}

output "stack" {
  description = "Every output of modules/ingest-stack, by name (its README): table_name, function_name, alarm_topic_arn, dashboard_url, custom_domain_target, consumers_bus_name, ..."
  value       = module.stack
}
