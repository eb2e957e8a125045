output "topic_arn" {
  description = "ARN of the SNS topic every alarm notifies."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of the alarms, by purpose."
  value = {
    lambda_errors          = aws_cloudwatch_metric_alarm.lambda_errors.alarm_name
    lambda_throttles       = aws_cloudwatch_metric_alarm.lambda_throttles.alarm_name
    api_5xx_rate           = aws_cloudwatch_metric_alarm.api_5xx_rate.alarm_name
    api_latency_p99        = aws_cloudwatch_metric_alarm.api_latency_p99.alarm_name
    dynamodb_throttles     = aws_cloudwatch_metric_alarm.dynamodb_throttles.alarm_name
    dynamodb_system_errors = aws_cloudwatch_metric_alarm.dynamodb_system_errors.alarm_name
    storage_unavailable    = aws_cloudwatch_metric_alarm.storage_unavailable.alarm_name
    webhook_rejections     = aws_cloudwatch_metric_alarm.webhook_rejections.alarm_name
  }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "kms_key_arn" {
  description = "ARN of the KMS key encrypting the alarm topic."
  value       = aws_sns_topic.alarms.kms_master_key_id
}
