variable "function" {
  description = "The function: name, which also names its role and log group; artifact_path, the deployment zip written by `make package` (dist/ingest.zip); metrics_namespace, the CloudWatch namespace of the service's EMF metrics (POWERTOOLS_METRICS_NAMESPACE, default Ingest); tracing_enabled, active X-Ray (default false: POWERTOOLS_TRACE_DISABLED=true and no X-Ray permission); memory_size in MB (CPU is proportional; default 512); timeout in seconds, below the API Gateway integration timeout of 30 s (default 10); reserved_concurrency, reserved concurrent executions that cap cost and protect the table (default none)."
  type = object({
    name                 = string
    artifact_path        = string
    metrics_namespace    = optional(string, "Ingest")
    tracing_enabled      = optional(bool, false)
    memory_size          = optional(number, 512)
    timeout              = optional(number, 10)
    reserved_concurrency = optional(number)
  })
  nullable = false

  validation {
    condition = alltrue([
      can(regex("^[A-Za-z0-9_-]{1,56}$", var.function.name)),
      endswith(var.function.artifact_path, ".zip"),
      var.function.memory_size >= 128 && var.function.memory_size <= 10240,
      var.function.timeout >= 1 && var.function.timeout <= 29,
      try(var.function.reserved_concurrency >= 0, var.function.reserved_concurrency == null),
      can(regex("^[A-Za-z0-9_./#:-]{1,255}$", var.function.metrics_namespace)) && !startswith(var.function.metrics_namespace, "AWS/"),
    ])
    error_message = "function: name must be 1-56 characters of letters, digits, '-' or '_' (the role name adds a suffix), artifact_path the .zip written by `make package`, memory_size between 128 and 10240 MB, timeout between 1 and 29 seconds, reserved_concurrency null or a number >= 0, and metrics_namespace 1-255 characters not starting with AWS/."
  }
}

variable "table" {
  description = "The events table, the only one the function may write to (in this account and region): name (EVENTS_TABLE); listing_shards (LISTING_SHARDS, default 16, at most 64), the listing index partitions one source's events spread over (docs/storage-format.md)."
  type = object({
    name           = string
    listing_shards = optional(number, 16)
  })

  validation {
    condition = alltrue([
      can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table.name)),
      var.table.listing_shards >= 1 && var.table.listing_shards <= 64 && floor(var.table.listing_shards) == var.table.listing_shards,
    ])
    error_message = "table.name must be a DynamoDB table name (3-255 letters, digits, '_', '-' or '.'), and table.listing_shards a whole number from 1 to 64 (readers query 64 shards)."
  }
}

variable "sources" {
  description = "The webhook sources: document, the SOURCES value (the sources document as JSON, or ssm:NAME to read it from SSM Parameter Store; sources name their secrets with secret_id, and inline \"secrets\" are rejected: they would sit in the Lambda environment, the state and every plan); parameter_arn, the SSM parameter ssm:NAME names; secret_arns, the Secrets Manager secrets the sources name. The function may read that parameter and those secrets, and no other."
  type        = object({ document = optional(string, "{\"sources\":{}}"), parameter_arn = optional(string), secret_arns = optional(list(string), []) })
  default     = {}
  nullable    = false

  # An ssm:NAME document is read at run time; a JSON one is checked here.
  validation {
    condition = alltrue(concat(
      [startswith(var.sources.document, "ssm:") || try(alltrue([for s in values(jsondecode(var.sources.document).sources) : length(try(s.secrets, [])) == 0]), false)],
      [for arn in var.sources.secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", arn))],
      [var.sources.parameter_arn == null || can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", var.sources.parameter_arn))],
    ))
    error_message = "sources.document must be ssm:PARAMETER_NAME or a JSON document with a top-level \"sources\" object and no inline \"secrets\" (in AWS a source names its secret with secret_id, Secrets Manager, so no secret reaches the Lambda environment, the state or a plan); sources.secret_arns must hold Secrets Manager secret ARNs only (no wildcards), and sources.parameter_arn an SSM parameter ARN or null."
  }
}

variable "payloads" {
  description = "The claim-check bucket of the bodies too large for an item (PAYLOAD_BUCKET; modules/event-store): name, arn, and kms_key_arn, the customer managed key encrypting it (null: SSE-S3). The function may put objects under payloads/ (never read, list or delete one) and use that key through S3 for it; nothing else of S3. null: no bucket (webhook bodies stay within one item)."
  type = object({
    name        = string
    arn         = string
    kms_key_arn = optional(string)
  })
  default = null

  validation {
    condition = var.payloads == null || try(alltrue([
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.payloads.name)),
      can(regex("^arn:aws[a-z-]*:s3:::", var.payloads.arn)) && endswith(var.payloads.arn, ":s3:::${var.payloads.name}"),
      var.payloads.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.payloads.kms_key_arn)),
    ]), false)
    error_message = "payloads.arn must be the ARN of the bucket payloads.name (arn:aws:s3:::NAME, no wildcard or key), and payloads.kms_key_arn a KMS key ARN or null."
  }
}

variable "retention_days" {
  description = "Days an event is kept before DynamoDB TTL removes it (RETENTION_DAYS, sets expires_at); 0 keeps events forever."
  type        = number
  default     = 30

  validation {
    condition     = var.retention_days >= 0 && var.retention_days <= 3650 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number between 0 and 3650."
  }
}

variable "logs" {
  description = "level, the service's log level (POWERTOOLS_LOG_LEVEL, default INFO); debug_sample_rate, the share of requests logged at DEBUG (POWERTOOLS_LOGGER_SAMPLE_RATE, default 0); system_level, Lambda's own platform records (default WARN: no platform.start or platform.report line per request); the function's CloudWatch log group: retention_days (default 30) and kms_key_arn (null: CloudWatch Logs' own encryption). Logs are JSON; Lambda's application log level is DEBUG when level is DEBUG or requests are sampled, else INFO, never above: a success's line is at DEBUG, and the lines that carry metrics (failures, and the success metrics each execution environment holds and writes once a minute) are at INFO (docs/decisions/0038)."
  type = object({
    level             = optional(string, "INFO")
    debug_sample_rate = optional(number, 0)
    system_level      = optional(string, "WARN")
    retention_days    = optional(number, 30)
    kms_key_arn       = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition = alltrue([
      contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.logs.level),
      var.logs.debug_sample_rate >= 0 && var.logs.debug_sample_rate <= 1,
      contains(["DEBUG", "INFO", "WARN"], var.logs.system_level),
      contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.logs.retention_days),
      var.logs.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.logs.kms_key_arn)),
    ])
    error_message = "logs: level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL; debug_sample_rate a fraction from 0 to 1; system_level one of DEBUG, INFO, WARN; retention_days a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653); kms_key_arn a KMS key ARN or null."
  }
}

variable "role" {
  description = "The execution role: path (the bootstrap's apply roles create roles only under /PROJECT-ENV/; default /) and permissions_boundary_arn (the bootstrap's deploy roles may only create roles that carry it; null for none)."
  type        = object({ path = optional(string, "/"), permissions_boundary_arn = optional(string) })
  default     = {}
  nullable    = false

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role.path)) && length(var.role.path) <= 512 && (var.role.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.role.permissions_boundary_arn)))
    error_message = "role.path must start and end with '/' (for example /ingest-prod/), and role.permissions_boundary_arn must be an IAM policy ARN or null."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
