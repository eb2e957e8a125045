# ---- Identity: every resource is named PROJECT-ENVIRONMENT-* ----------------------------------------
variable "project" {
  description = "Project name: every resource is named PROJECT-ENVIRONMENT-*, the prefix the environment's deploy role may manage. No '-' (it delimits the prefix)."
  type        = string
  default     = "ingest"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,20}$", var.project))
    error_message = "project must be 2-21 lower-case letters or digits, starting with a letter (no '-': it delimits PROJECT-ENVIRONMENT-*)."
  }
}

variable "environment" {
  description = "Environment name (dev, prod); matches the GitHub environment of the deploy role. No '-': ingest-dev-* must not match an environment called dev-eu."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,15}$", var.environment)) && !contains(["github", "terraform", "tfstate", "plan"], var.environment)
    error_message = "environment must be up to 16 lower-case letters or digits (no '-'); github, terraform, tfstate and plan are reserved."
  }
}

variable "tags" {
  description = "Extra tags merged into every resource's tags (Project, Environment and ManagedBy are set here)."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "use_permissions_boundary" {
  description = "The environment is deployed with the bootstrap's roles: the function role carries the bootstrap's PROJECT-ENVIRONMENT-boundary (the apply role can only create roles that do) the alarm key's policy names the apply role PROJECT-ENVIRONMENT-github-apply as its administrator, and the consumers' pipe runs with the bootstrap's PROJECT-ENVIRONMENT-events-pipe (the only role the apply role may pass to Pipes). false for an account without the bootstrap (the pipe module then creates its own role)."
  type        = bool
  default     = true
  nullable    = false
}

# ---- The service --------------------------------------------------------------------------------------
variable "artifact_path" {
  description = "The deployment package written by `make package` (a path relative to where Terraform runs)."
  type        = string
}

variable "events" {
  description = "The events table: retention_days, the days an event is kept (DynamoDB TTL); deletion_protection of the table; listing_shards, the listing index partitions one source's events spread over (default 16, at most 64: about 1,000 events/s each); legacy_by_source_index, keep the by_source index of a table created before by_source_shard until `ingest events backfill-shards` has run (default false; docs/storage-format.md)."
  type = object({
    retention_days         = number
    deletion_protection    = bool
    listing_shards         = optional(number, 16)
    legacy_by_source_index = optional(bool, false)
  })
}

variable "logs" {
  description = "retention_days of the function's and the API's log groups; level, the service's log level (default INFO); debug_sample_rate, the share of requests logged at DEBUG (default 0); system_level, Lambda's platform records (default WARN: none per request)."
  type = object({
    retention_days    = number
    level             = optional(string, "INFO")
    debug_sample_rate = optional(number, 0)
    system_level      = optional(string, "WARN")
  })
}

variable "function" {
  description = "The function: memory_size in MB (default 512), reserved_concurrency (default none), tracing_enabled (active X-Ray, default false)."
  type = object({
    memory_size          = optional(number, 512)
    reserved_concurrency = optional(number)
    tracing_enabled      = optional(bool, false)
  })
  default  = {}
  nullable = false
}

variable "webhooks" {
  description = "The webhook sources: sources, the sources document (JSON; sources name their secret with secret_id, a secret under PROJECT-ENVIRONMENT/: inline \"secrets\" are rejected, they would land in the Lambda environment, the state and the plan comment); or sources_parameter_name, an SSM parameter under /PROJECT-ENVIRONMENT/ holding it (SOURCES=ssm:NAME); secret_arns, the Secrets Manager secrets the sources name (the function may read only those)."
  type = object({
    sources                = optional(string, "{\"sources\":{}}")
    sources_parameter_name = optional(string)
    secret_arns            = optional(list(string), [])
  })
  default  = {}
  nullable = false

  validation {
    condition     = try(alltrue([for s in values(jsondecode(var.webhooks.sources).sources) : length(try(s.secrets, [])) == 0]), false)
    error_message = "webhooks.sources must be a JSON document with a \"sources\" object and no inline \"secrets\": name each source's secret with secret_id (Secrets Manager)."
  }

  validation {
    condition = try(alltrue([
      for s in values(jsondecode(var.webhooks.sources).sources) :
      try(startswith(s.secret_id, "${var.project}-${var.environment}/") || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:${var.project}-${var.environment}/", s.secret_id)), !can(s.secret_id))
    ]), false)
    error_message = "Every secret_id must name a secret under PROJECT-ENVIRONMENT/ (for example ingest-prod/webhooks/github): the function may read no other."
  }

  validation {
    condition     = try(startswith(var.webhooks.sources_parameter_name, "/${var.project}-${var.environment}/"), var.webhooks.sources_parameter_name == null)
    error_message = "webhooks.sources_parameter_name must be under /PROJECT-ENVIRONMENT/ (for example /ingest-prod/sources): the function may read no other parameter."
  }

  validation {
    condition     = alltrue([for a in var.webhooks.secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:${var.project}-${var.environment}/.+$", a))])
    error_message = "webhooks.secret_arns must be Secrets Manager ARNs of secrets under PROJECT-ENVIRONMENT/ (for example ...:secret:ingest-prod/webhooks/github-AbCdEf)."
  }
}

variable "api" {
  description = "The HTTP API: throttling_rate_limit (steady-state requests per second) and throttling_burst_limit of the stage; optionally jwt_authorizer ({ issuer, audience }) on /events and custom_domain ({ domain_name, certificate_arn })."
  type = object({
    throttling_rate_limit  = number
    throttling_burst_limit = number
    jwt_authorizer = optional(object({
      issuer   = string
      audience = list(string)
    }))
    custom_domain = optional(object({
      domain_name     = string
      certificate_arn = string
    }))
  })
}

# ---- Alarms -----------------------------------------------------------------------------------------
variable "alarm_email" {
  description = "E-mail address that receives the alarms (confirm the subscription mail); null for none."
  type        = string
  default     = null
}

variable "alarms" {
  description = "evaluation_periods, the consecutive 5-minute periods before an alarm fires (default 1); thresholds, by alarm key, overriding modules/alarms' defaults (for example { lambda_errors = 5, api_5xx_rate = 5, api_latency_p99 = 3000 })."
  type = object({
    evaluation_periods = optional(number, 1)
    thresholds         = optional(map(number), {})
  })
  default  = {}
  nullable = false
}

# ---- Consumers ----------------------------------------------------------------------------------------
variable "consumers" {
  description = "Newly stored events to an EventBridge bus through EventBridge Pipes (modules/event-bus-pipe): enabled (default false); filters (source_prefixes, type_prefixes); delivery (maximum_retry_attempts, maximum_record_age_seconds, batch_size); example_queue (enabled, event_pattern): one rule to an SQS queue."
  type = object({
    enabled = optional(bool, false)
    filters = optional(object({
      source_prefixes = optional(list(string), [])
      type_prefixes   = optional(list(string), [])
    }), {})
    delivery = optional(object({
      maximum_retry_attempts     = optional(number, 10)
      maximum_record_age_seconds = optional(number, 86400)
      batch_size                 = optional(number, 10)
    }), {})
    example_queue = optional(object({
      enabled       = optional(bool, false)
      event_pattern = optional(string)
    }), {})
  })
  default  = {}
  nullable = false
}
