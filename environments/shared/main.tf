# The root configuration of every deployed environment, written once: environments/dev and
# environments/prod link main.tf, variables.tf, outputs.tf and moved.tf.json to these files and
# hold only their own terraform.tfvars, ENV.s3.tfbackend and provider pin (versions.tf; the lock).
# It is not a working directory itself: run Terraform in an environment.
provider "aws" {
  region              = var.aws_region
  allowed_account_ids = var.allowed_account_ids
}

module "stack" {
  source = "../../modules/ingest-stack"

  artifact_path            = var.artifact_path
  alarm_email              = var.alarm_email
  environment              = var.stack.environment
  events                   = var.stack.events
  logs                     = var.stack.logs
  api                      = var.stack.api
  project                  = try(var.stack.project, null)
  function                 = try(var.stack.function, null)
  webhooks                 = try(var.stack.webhooks, null)
  alarms                   = try(var.stack.alarms, null)
  consumers                = try(var.stack.consumers, null)
  tags                     = try(var.stack.tags, null)
  use_permissions_boundary = try(var.stack.use_permissions_boundary, null)
}
