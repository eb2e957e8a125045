data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # PROJECT-ENVIRONMENT-* names (and the PROJECT-ENVIRONMENT/ path) are what the bootstrap's apply
  # role of this environment may manage: see modules/github-oidc.
  prefix    = "${var.project}-${var.environment}"
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition

  # The bootstrap's names for this environment's boundary and apply role.
  boundary_arn   = "arn:${local.partition}:iam::${local.account}:policy/${local.prefix}-boundary"
  apply_role_arn = "arn:${local.partition}:iam::${local.account}:role/${local.prefix}-github-apply"

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  sources_parameter_arn = var.sources_parameter_name == null ? null : "arn:${local.partition}:ssm:${var.aws_region}:${local.account}:parameter/${trimprefix(var.sources_parameter_name, "/")}"
}

module "event_store" {
  source = "../../modules/event-store"

  name                = "${local.prefix}-events"
  deletion_protection = var.deletion_protection
  tags                = local.tags
}

module "ingest_function" {
  source = "../../modules/ingest-function"

  name                     = "${local.prefix}-ingest"
  artifact_path            = var.artifact_path
  table_name               = module.event_store.table_name
  table_arn                = module.event_store.table_arn
  sources                  = var.sources_parameter_name == null ? var.sources : "ssm:${var.sources_parameter_name}"
  sources_parameter_arn    = local.sources_parameter_arn
  secret_arns              = var.secret_arns
  retention_days           = var.retention_days
  memory_size              = var.memory_size
  reserved_concurrency     = var.reserved_concurrency
  tracing_enabled          = var.tracing_enabled
  log_level                = var.log_level
  log_retention_days       = var.log_retention_days
  role_path                = "/${local.prefix}/"
  permissions_boundary_arn = var.use_permissions_boundary ? local.boundary_arn : null
  tags                     = local.tags
}

module "http_api" {
  source = "../../modules/http-api"

  name                      = "${local.prefix}-http"
  function_name             = module.ingest_function.function_name
  function_invoke_arn       = module.ingest_function.invoke_arn
  throttling_rate_limit     = var.throttling_rate_limit
  throttling_burst_limit    = var.throttling_burst_limit
  access_log_retention_days = var.log_retention_days
  jwt_authorizer            = var.jwt_authorizer
  custom_domain             = var.custom_domain
  tags                      = local.tags
}

module "alarms" {
  source = "../../modules/alarms"

  name                         = local.prefix
  function_name                = module.ingest_function.function_name
  api_id                       = module.http_api.api_id
  table_name                   = module.event_store.table_name
  alarm_email                  = var.alarm_email
  evaluation_periods           = var.alarm_evaluation_periods
  lambda_errors_threshold      = var.lambda_errors_threshold
  api_5xx_rate_threshold       = var.api_5xx_rate_threshold
  api_latency_p99_threshold_ms = var.api_latency_p99_threshold_ms
  key_administrator_arns       = var.use_permissions_boundary ? [local.apply_role_arn] : []
  tags                         = local.tags
}
