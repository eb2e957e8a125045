variable "api" {
  description = "The API: name, which also names its access log group; rate_limit, steady-state requests per second, and burst_limit, the burst capacity in requests, of the default route settings (the whole $default stage)."
  type        = object({ name = string, rate_limit = number, burst_limit = number })

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.api.name)) && var.api.rate_limit > 0 && var.api.burst_limit > 0 && floor(var.api.burst_limit) == var.api.burst_limit
    error_message = "api.name must be 1-128 characters of letters, digits, '-' or '_', api.rate_limit positive and api.burst_limit a positive whole number."
  }
}

variable "function" {
  description = "The Lambda function every route integrates with: name, invoke_arn, and timeout_ms, the integration timeout in milliseconds (HTTP APIs allow 50-30000; default 15000)."
  type        = object({ name = string, invoke_arn = string, timeout_ms = optional(number, 15000) })

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:apigateway:", var.function.invoke_arn)) && var.function.timeout_ms >= 50 && var.function.timeout_ms <= 30000
    error_message = "function.invoke_arn must be a Lambda invoke ARN (arn:aws:apigateway:REGION:lambda:path/...) and function.timeout_ms between 50 and 30000."
  }
}

variable "access_logs" {
  description = "The access log group: retention_days (default 30), kms_key_arn (null: CloudWatch Logs' own encryption) and log_group_class (default INFREQUENT_ACCESS: half the ingestion price, read with Logs Insights; STANDARD adds Live Tail, metric and subscription filters), applied when the group is created: an existing group keeps its class (changing it would replace the group and delete its logs)."
  type = object({
    retention_days  = optional(number, 30)
    kms_key_arn     = optional(string)
    log_group_class = optional(string, "INFREQUENT_ACCESS")
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.access_logs.retention_days)
    error_message = "access_logs.retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }

  validation {
    condition     = var.access_logs.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.access_logs.kms_key_arn))
    error_message = "access_logs.kms_key_arn must be a KMS key ARN or null."
  }

  validation {
    condition     = contains(["STANDARD", "INFREQUENT_ACCESS"], var.access_logs.log_group_class)
    error_message = "access_logs.log_group_class must be STANDARD or INFREQUENT_ACCESS."
  }
}

variable "jwt_authorizer" {
  description = "Optional JWT authorizer for the /events route only (webhooks authenticate by signature, /health stays open). issuer is the OIDC issuer URL, audience the accepted aud values."
  type = object({
    issuer   = string
    audience = list(string)
  })
  default = null

  validation {
    condition     = var.jwt_authorizer == null || try(startswith(var.jwt_authorizer.issuer, "https://") && length(var.jwt_authorizer.audience) > 0, false)
    error_message = "jwt_authorizer.issuer must be an https:// URL and audience must not be empty."
  }
}

variable "custom_domain" {
  description = "Optional custom domain: domain_name and the ARN of an ACM certificate for it in the same region. DNS (an alias to the outputs' target) stays outside the module."
  type = object({
    domain_name     = string
    certificate_arn = string
  })
  default = null

  validation {
    condition     = var.custom_domain == null || try(can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$", var.custom_domain.certificate_arn)) && can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", var.custom_domain.domain_name)), false)
    error_message = "custom_domain needs a lower-case domain_name and an ACM certificate ARN."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
