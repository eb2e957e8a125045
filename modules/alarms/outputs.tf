output "topic_arn" {
  description = "ARN of the SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of the alarms, by key (lambda_errors, lambda_throttles, api_5xx_rate, api_latency_p99, dynamodb_throttles, dynamodb_system_errors, storage_unavailable, webhook_rejections)."
  value       = { for k, a in aws_cloudwatch_metric_alarm.this : k => a.alarm_name }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the alarm topic."
  value       = aws_sns_topic.alarms.kms_master_key_id
}
