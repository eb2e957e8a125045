output "api_id" {
  description = "ID of the HTTP API (the ApiId metric dimension)."
  value       = aws_apigatewayv2_api.this.id
}

output "api_endpoint" {
  description = "Default endpoint of the API (https://ID.execute-api.REGION.amazonaws.com)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "execution_arn" {
  description = "Execution ARN of the API."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_name" {
  description = "Name of the auto-deployed stage."
  value       = aws_apigatewayv2_stage.default.name
}

output "access_log_group_name" {
  description = "Name of the access log group."
  value       = aws_cloudwatch_log_group.access.name
}

output "custom_domain_target" {
  description = "Target domain name and hosted zone ID to alias the custom domain to, or null."
  value = var.custom_domain == null ? null : {
    domain_name    = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].target_domain_name
    hosted_zone_id = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].hosted_zone_id
  }
}
