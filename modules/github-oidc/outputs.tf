output "oidc_provider_arn" {
  description = "ARN of the GitHub OIDC provider (created or reused)."
  value       = local.oidc_provider_arn
}

output "plan_role_arn" {
  description = "Role for terraform plan (pull requests and the plan branches): the AWS_PLAN_ROLE_ARN repository variable."
  value       = aws_iam_role.this["plan"].arn
}

output "apply_role_arns" {
  description = "Apply role per GitHub environment: the AWS_APPLY_ROLE_ARN variable of each environment."
  value       = { for e in var.scope.environments : e => aws_iam_role.this[e].arn }
}

output "managed_role_paths" {
  description = "IAM path under which each environment's apply role may create roles (named PROJECT-ENV-*)."
  value       = local.role_paths
}

output "permissions_boundary_arns" {
  description = "Permissions boundary each environment's function role must carry."
  value       = { for e in var.scope.environments : e => aws_iam_policy.this[e].arn }
}

output "subjects" {
  description = "The exact token subjects each role trusts (for review)."
  value = merge(
    { plan = local.plan_subjects },
    { for e in var.scope.environments : "apply-${e}" => local.roles[e].subjects },
  )
}

output "pipe_role_arns" {
  description = "The pipe role per environment (PROJECT-ENV-events-pipe): the only role its apply role may pass to EventBridge Pipes, for the environment's consumers (modules/event-bus-pipe)."
  value       = { for e, m in module.pipe_role : e => m.arn }
}
