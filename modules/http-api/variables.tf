variable "name" {
  description = "Name of the HTTP API; also names its access log group."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.name))
    error_message = "name must be 1-128 characters of letters, digits, '-' or '_'."
  }
}

variable "function_name" {
  description = "Name of the Lambda function every route integrates with."
  type        = string
}

variable "function_invoke_arn" {
  description = "Invoke ARN of that function."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:apigateway:", var.function_invoke_arn))
    error_message = "function_invoke_arn must be a Lambda invoke ARN (arn:aws:apigateway:REGION:lambda:path/...)."
  }
}

variable "integration_timeout_ms" {
  description = "Integration timeout in milliseconds (API Gateway HTTP APIs allow 50-30000)."
  type        = number
  default     = 15000

  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 30000
    error_message = "integration_timeout_ms must be between 50 and 30000."
  }
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second of the default route settings (whole stage)."
  type        = number

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be positive."
  }
}

variable "throttling_burst_limit" {
  description = "Burst capacity (requests) of the default route settings."
  type        = number

  validation {
    condition     = var.throttling_burst_limit > 0 && floor(var.throttling_burst_limit) == var.throttling_burst_limit
    error_message = "throttling_burst_limit must be a positive whole number."
  }
}

variable "access_log_retention_days" {
  description = "Retention of the access log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.access_log_retention_days)
    error_message = "access_log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key ARN encrypting the access log group. null uses CloudWatch Logs' own encryption."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN or null."
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
