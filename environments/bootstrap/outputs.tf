output "state_bucket" {
  description = "State bucket: the `bucket` of environments/*/ENV.s3.tfbackend."
  value       = module.state_backend.bucket_name
}

output "lock_table" {
  description = "Lock table: the `dynamodb_table` of environments/*/ENV.s3.tfbackend."
  value       = module.state_backend.lock_table_name
}

output "plan_role_arn" {
  description = "GitHub repository variable AWS_PLAN_ROLE_ARN."
  value       = module.github_oidc.plan_role_arn
}

output "apply_role_arns" {
  description = "GitHub environment variable AWS_APPLY_ROLE_ARN, per environment."
  value       = module.github_oidc.apply_role_arns
}

output "backend_configs" {
  description = "Contents of environments/ENV/ENV.s3.tfbackend for each environment."
  value = { for e in var.environments : e => join("\n", [
    "bucket         = \"${module.state_backend.bucket_name}\"",
    "key            = \"${e}/terraform.tfstate\"",
    "region         = \"${var.aws_region}\"",
    "dynamodb_table = \"${module.state_backend.lock_table_name}\"",
    "use_lockfile   = true",
    "encrypt        = true",
  ]) }
}

output "pipe_role_arns" {
  description = "The pipe role of each environment's consumers (PROJECT-ENV-events-pipe): the environments name it by convention (modules/ingest-stack), nothing to copy."
  value       = module.github_oidc.pipe_role_arns
}
