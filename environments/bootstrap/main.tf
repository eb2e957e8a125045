data "aws_caller_identity" "current" {}

locals {
  bucket_name     = coalesce(var.state_bucket_name, "${var.project}-tfstate-${data.aws_caller_identity.current.account_id}-${var.aws_region}")
  lock_table_name = coalesce(var.lock_table_name, "${var.project}-terraform-locks")

  tags = merge(var.tags, {
    Project   = var.project
    ManagedBy = "terraform"
    Component = "bootstrap"
  })
}

module "state_backend" {
  source = "../../modules/state-backend"

  bucket     = { name = local.bucket_name }
  lock_table = { name = local.lock_table_name, deletion_protection = var.deletion_protection }
  tags       = local.tags
}

module "github_oidc" {
  source = "../../modules/github-oidc"

  github = { owner = var.github_owner, repository = var.github_repository, oidc_provider_arn = var.create_oidc_provider ? null : var.oidc_provider_arn }
  scope  = { project = var.project, environments = var.environments, allowed_tag_keys = var.allowed_tag_keys }
  state  = { bucket_arn = module.state_backend.bucket_arn, lock_table_arn = module.state_backend.lock_table_arn }
  tags   = local.tags
}
