output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "invoke_arn" {
  description = "ARN API Gateway uses to invoke the function."
  value       = aws_lambda_function.this.invoke_arn
}

output "role_name" {
  description = "Name of the function's execution role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.this.arn
}

output "policy_json" {
  description = "The execution role's inline policy document (for review and tests)."
  value       = data.aws_iam_policy_document.function.json
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "source_code_hash" {
  description = "Base64 SHA-256 of the deployed artifact."
  value       = aws_lambda_function.this.source_code_hash
}

output "environment_variables" {
  description = "The function's environment (no secrets: they stay in Secrets Manager)."
  value       = aws_lambda_function.this.environment[0].variables
}

output "permissions_boundary_arn" {
  description = "Permissions boundary of the execution role, or null."
  value       = aws_iam_role.this.permissions_boundary
}
