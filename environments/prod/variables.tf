# ---- A fork must set these (in terraform.tfvars) ---------------------------------------------------
variable "aws_region" {
  description = "FORK: AWS region to deploy to."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as eu-west-1."
  }
}

variable "allowed_account_ids" {
  description = "FORK (recommended): the AWS account ID(s) this environment may be applied to; a plan against any other account fails. null disables the check."
  type        = list(string)
  default     = null

  validation {
    condition     = var.allowed_account_ids == null || alltrue([for a in coalesce(var.allowed_account_ids, []) : can(regex("^[0-9]{12}$", a))])
    error_message = "allowed_account_ids must be 12-digit account IDs."
  }
}

variable "alarm_email" {
  description = "FORK (optional): e-mail address that receives the alarms (confirm the subscription mail)."
  type        = string
  default     = null
}

# ---- Identity ---------------------------------------------------------------------------------------
variable "project" {
  description = "Project name: every resource is named PROJECT-ENVIRONMENT-*, the prefix the deploy role may manage. No '-' (it delimits the prefix)."
  type        = string
  default     = "ingest"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,20}$", var.project))
    error_message = "project must be 2-21 lower-case letters or digits, starting with a letter (no '-': it delimits PROJECT-ENVIRONMENT-*)."
  }
}

variable "environment" {
  description = "Environment name (dev, prod); matches the GitHub environment of the deploy role. No '-': ingest-dev-* must not match an environment called dev-eu."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,15}$", var.environment)) && !contains(["github", "terraform", "tfstate"], var.environment)
    error_message = "environment must be up to 16 lower-case letters or digits (no '-'); github, terraform and tfstate are reserved."
  }
}

variable "artifact_path" {
  description = "The deployment package written by `make package`."
  type        = string
  default     = "../../dist/ingest.zip"
}

variable "tags" {
  description = "Extra tags merged into every resource's tags."
  type        = map(string)
  default     = {}
}

variable "use_permissions_boundary" {
  description = "The environment is deployed with the bootstrap's roles: the function role carries the bootstrap's PROJECT-ENVIRONMENT-boundary (the apply role can only create roles that do) and the alarm key's policy names the apply role PROJECT-ENVIRONMENT-github-apply as its administrator. false for an account without the bootstrap."
  type        = bool
  default     = true
}

# ---- Service configuration --------------------------------------------------------------------------
variable "sources" {
  description = "Webhook sources document (JSON). Ignored when sources_parameter_name is set. Sources name their secrets with secret_id (a secret under PROJECT-ENVIRONMENT/); inline \"secrets\" are rejected: they would land in the Lambda environment, the state and the plan comment."
  type        = string
  default     = "{\"sources\":{}}"

  validation {
    condition     = try(alltrue([for s in values(jsondecode(var.sources).sources) : length(try(s.secrets, [])) == 0]), false)
    error_message = "sources must be a JSON document with a \"sources\" object and no inline \"secrets\": name each source's secret with secret_id (Secrets Manager)."
  }

  validation {
    condition = try(alltrue([
      for s in values(jsondecode(var.sources).sources) :
      try(startswith(s.secret_id, "${var.project}-${var.environment}/") || can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:${var.project}-${var.environment}/", s.secret_id)), !can(s.secret_id))
    ]), false)
    error_message = "Every secret_id must name a secret under PROJECT-ENVIRONMENT/ (for example ingest-prod/webhooks/github): the function may read no other."
  }
}

variable "sources_parameter_name" {
  description = "Name of an SSM parameter holding the sources document (SOURCES=ssm:NAME), under /PROJECT-ENVIRONMENT/ (for example /ingest-prod/sources). null uses `sources`."
  type        = string
  default     = null

  validation {
    condition     = try(startswith(var.sources_parameter_name, "/${var.project}-${var.environment}/"), var.sources_parameter_name == null)
    error_message = "sources_parameter_name must be under /PROJECT-ENVIRONMENT/ (for example /ingest-prod/sources): the function may read no other parameter."
  }
}

variable "secret_arns" {
  description = "Secrets Manager ARNs the sources reference with secret_id: secrets under PROJECT-ENVIRONMENT/ only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:${var.project}-${var.environment}/.+$", a))])
    error_message = "secret_arns must be Secrets Manager ARNs of secrets under PROJECT-ENVIRONMENT/ (for example ...:secret:ingest-prod/webhooks/github-AbCdEf)."
  }
}

variable "retention_days" {
  description = "Days events are kept (DynamoDB TTL)."
  type        = number
}

variable "deletion_protection" {
  description = "Deletion protection of the events table."
  type        = bool
}

variable "log_retention_days" {
  description = "Retention of the function and access log groups."
  type        = number
}

variable "memory_size" {
  description = "Function memory (MB)."
  type        = number
  default     = 512
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of the function; null for none."
  type        = number
  default     = null
}

variable "tracing_enabled" {
  description = "Active X-Ray tracing."
  type        = bool
  default     = false
}

variable "log_level" {
  description = "Service log level."
  type        = string
  default     = "INFO"
}

variable "throttling_rate_limit" {
  description = "API steady-state requests per second."
  type        = number
}

variable "throttling_burst_limit" {
  description = "API burst capacity."
  type        = number
}

variable "jwt_authorizer" {
  description = "Optional JWT authorizer for the /events route ({ issuer, audience })."
  type = object({
    issuer   = string
    audience = list(string)
  })
  default = null
}

variable "custom_domain" {
  description = "Optional custom domain ({ domain_name, certificate_arn })."
  type = object({
    domain_name     = string
    certificate_arn = string
  })
  default = null
}

# ---- Alarms -----------------------------------------------------------------------------------------
variable "alarm_evaluation_periods" {
  description = "Consecutive 5-minute periods before an alarm fires."
  type        = number
  default     = 1
}

variable "lambda_errors_threshold" {
  description = "Function errors per 5 minutes that raise the alarm."
  type        = number
}

variable "api_5xx_rate_threshold" {
  description = "Percentage of 5xx responses that raises the alarm."
  type        = number
}

variable "api_latency_p99_threshold_ms" {
  description = "p99 latency (ms) that raises the alarm."
  type        = number
}
