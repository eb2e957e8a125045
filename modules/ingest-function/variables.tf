variable "name" {
  description = "Function name; also names its role and log group."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,56}$", var.name))
    error_message = "name must be 1-56 characters of letters, digits, '-' or '_' (the role name adds a suffix)."
  }
}

variable "artifact_path" {
  description = "Path of the deployment zip written by `make package` (dist/ingest.zip)."
  type        = string

  validation {
    condition     = endswith(var.artifact_path, ".zip")
    error_message = "artifact_path must point at the .zip written by `make package`."
  }
}

variable "table_name" {
  description = "Events table name (EVENTS_TABLE)."
  type        = string
}

variable "table_arn" {
  description = "Events table ARN: the only table the function may write to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+$", var.table_arn))
    error_message = "table_arn must be a DynamoDB table ARN."
  }
}

variable "sources" {
  description = "SOURCES: the webhook sources document as JSON, or ssm:NAME to read it from SSM Parameter Store. Sources name their secrets with secret_id (Secrets Manager); inline \"secrets\" are rejected: they would sit in the Lambda environment, the state and every plan."
  type        = string
  default     = "{\"sources\":{}}"

  validation {
    condition     = startswith(var.sources, "ssm:") || can(jsondecode(var.sources).sources)
    error_message = "sources must be a JSON document with a top-level \"sources\" object, or ssm:PARAMETER_NAME."
  }

  validation {
    condition     = startswith(var.sources, "ssm:") || try(alltrue([for s in values(jsondecode(var.sources).sources) : length(try(s.secrets, [])) == 0]), false)
    error_message = "sources must not carry inline \"secrets\": in AWS a source names its secret with secret_id (Secrets Manager), so no secret reaches the Lambda environment, the state or a plan."
  }
}

variable "sources_parameter_arn" {
  description = "ARN of the SSM parameter named by sources = \"ssm:NAME\" (the function may read only this one). null when sources is inline JSON."
  type        = string
  default     = null

  validation {
    condition     = var.sources_parameter_arn == null || can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", var.sources_parameter_arn))
    error_message = "sources_parameter_arn must be an SSM parameter ARN or null."
  }
}

variable "secret_arns" {
  description = "Secrets Manager secret ARNs the sources name with secret_id: the only secrets the function may read."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", arn))])
    error_message = "secret_arns must hold Secrets Manager secret ARNs only (no wildcards)."
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

variable "memory_size" {
  description = "Memory in MB (CPU is proportional)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "timeout" {
  description = "Function timeout in seconds; stays below the API Gateway integration timeout (30 s)."
  type        = number
  default     = 10

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 29
    error_message = "timeout must be between 1 and 29 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions (caps cost and protects the table). null leaves the function unreserved."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 0, false)
    error_message = "reserved_concurrency must be null or a number >= 0."
  }
}

variable "tracing_enabled" {
  description = "Active X-Ray tracing. When off, POWERTOOLS_TRACE_DISABLED=true and no X-Ray permissions are granted."
  type        = bool
  default     = false
}

variable "log_level" {
  description = "POWERTOOLS_LOG_LEVEL."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the service's EMF metrics (POWERTOOLS_METRICS_NAMESPACE)."
  type        = string
  default     = "Ingest"

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#:-]{1,255}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters and must not start with AWS/."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's CloudWatch log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key ARN encrypting the log group. null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN or null."
  }
}

variable "role_path" {
  description = "IAM path of the execution role (the bootstrap's apply roles create roles only under /PROJECT-ENV/)."
  type        = string
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path)) && length(var.role_path) <= 512
    error_message = "role_path must start and end with '/' (for example /ingest-prod/)."
  }
}

variable "permissions_boundary_arn" {
  description = "IAM permissions boundary for the function's role (the bootstrap's deploy roles may only create roles that carry it). null for none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN or null."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
