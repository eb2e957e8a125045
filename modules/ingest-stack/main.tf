# One environment of the service: the events table, the function, the HTTP API in front of it and
# the alarms watching all three, named PROJECT-ENVIRONMENT-* (the prefix the environment's deploy
# role may manage: modules/github-oidc, docs/decisions/0021).
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  prefix    = "${var.project}-${var.environment}"
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name

  # The bootstrap's names for this environment's boundary, apply role and pipe role.
  boundary_arn   = "arn:${local.partition}:iam::${local.account}:policy/${local.prefix}-boundary"
  apply_role_arn = "arn:${local.partition}:iam::${local.account}:role/${local.prefix}-github-apply"
  pipe_role_arn  = "arn:${local.partition}:iam::${local.account}:role/${local.prefix}-events-pipe"

  tags = merge(var.tags, {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  })

  parameter             = var.webhooks.sources_parameter_name
  sources_parameter_arn = local.parameter == null ? null : "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter/${trimprefix(local.parameter, "/")}"
}

module "event_store" {
  source = "../event-store"

  table = {
    name                   = "${local.prefix}-events"
    deletion_protection    = var.events.deletion_protection
    legacy_by_source_index = var.events.legacy_by_source_index
  }
  # The account in the name makes it globally unique (at most 60 characters: project and
  # environment are at most 21 and 16); the apply role may manage PROJECT-ENV-payloads-* only.
  payloads = { bucket = "${local.prefix}-payloads-${local.account}", retention_days = var.events.retention_days }
  tags     = local.tags
}

module "ingest_function" {
  source = "../ingest-function"

  function       = merge(var.function, { name = "${local.prefix}-ingest", artifact_path = var.artifact_path })
  table          = { name = module.event_store.table_name, listing_shards = var.events.listing_shards }
  retention_days = var.events.retention_days
  payloads       = module.event_store.payload_bucket
  tags           = local.tags

  sources = {
    document      = local.parameter == null ? var.webhooks.sources : "ssm:${local.parameter}"
    parameter_arn = local.sources_parameter_arn
    secret_arns   = var.webhooks.secret_arns
  }
  logs = {
    level             = var.logs.level
    debug_sample_rate = var.logs.debug_sample_rate
    system_level      = var.logs.system_level
    retention_days    = var.logs.retention_days
  }
  role = {
    path                     = "/${local.prefix}/"
    permissions_boundary_arn = var.use_permissions_boundary ? local.boundary_arn : null
  }
}

module "http_api" {
  source = "../http-api"

  api            = { name = "${local.prefix}-http", rate_limit = var.api.throttling_rate_limit, burst_limit = var.api.throttling_burst_limit }
  function       = { name = module.ingest_function.function_name, invoke_arn = module.ingest_function.invoke_arn }
  access_logs    = { retention_days = var.logs.retention_days }
  jwt_authorizer = var.api.jwt_authorizer
  custom_domain  = var.api.custom_domain
  tags           = local.tags
}

module "alarms" {
  source = "../alarms"

  service    = { name = local.prefix, function_name = module.ingest_function.function_name, api_id = module.http_api.api_id, table_name = module.event_store.table_name }
  evaluation = { periods = var.alarms.evaluation_periods }
  thresholds = var.alarms.thresholds
  tags       = local.tags

  topic = {
    email                  = var.alarm_email
    key_administrator_arns = var.use_permissions_boundary ? [local.apply_role_arn] : []
  }
}

# Consumers, off by default: the table's stream (NEW_IMAGE, always on: enabling it costs nothing)
# to an EventBridge bus through EventBridge Pipes. docs/decisions/0030-consumers.md.
module "consumers" {
  source = "../event-bus-pipe"
  count  = var.consumers.enabled ? 1 : 0

  environment   = { name = local.prefix, stream_arn = module.event_store.stream_arn, alarm_topic_arn = module.alarms.topic_arn }
  filters       = var.consumers.filters
  delivery      = var.consumers.delivery
  example_queue = var.consumers.example_queue
  tags          = local.tags
  # With the bootstrap's deploy roles: the bootstrap's pipe role, the only one the apply role may
  # pass to Pipes (docs/decisions/0031). Without them: the module's own, under the prefix's path.
  role = { arn = var.use_permissions_boundary ? local.pipe_role_arn : null, path = "/${local.prefix}/" }
}
