output "arn" {
  description = "ARN of the role."
  value       = aws_iam_role.this.arn
}

output "policy" {
  description = "The role's inline policy (JSON)."
  value       = aws_iam_role_policy.this.policy
}

output "assume_role_policy" {
  description = "The role's trust policy (JSON)."
  value       = aws_iam_role.this.assume_role_policy
}
