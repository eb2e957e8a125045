# One environment: modules/ingest-stack with the values of terraform.tfvars. environments/prod's
# main.tf, variables.tf and outputs.tf are links to these files: the environments differ only in
# their terraform.tfvars, their ENV.s3.tfbackend and their provider pin (versions.tf and the lock).
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

# The environment called the modules itself before modules/ingest-stack did.
moved {
  from = module.event_store
  to   = module.stack.module.event_store
}

moved {
  from = module.ingest_function
  to   = module.stack.module.ingest_function
}

moved {
  from = module.http_api
  to   = module.stack.module.http_api
}

moved {
  from = module.alarms
  to   = module.stack.module.alarms
}
