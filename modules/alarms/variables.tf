variable "name" {
  description = "Prefix of the alarm names, the SNS topic and the dashboard (for example ingest-prod)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.name))
    error_message = "name must be 1-200 characters of letters, digits, '-' or '_'."
  }
}

variable "function_name" {
  description = "Lambda function to watch."
  type        = string
}

variable "api_id" {
  description = "HTTP API to watch (ApiId dimension)."
  type        = string
}

variable "table_name" {
  description = "DynamoDB table to watch."
  type        = string
}

variable "metrics_namespace" {
  description = "Namespace of the service's EMF metrics (POWERTOOLS_METRICS_NAMESPACE); dimension service=ingest."
  type        = string
  default     = "Ingest"
}

variable "alarm_email" {
  description = "Optional e-mail address subscribed to the alarm topic (the subscription must be confirmed)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

variable "sns_kms_key_arn" {
  description = "Customer managed KMS key ARN encrypting the alarm topic; its key policy must let cloudwatch.amazonaws.com use it. null creates a dedicated key. (The AWS managed alias/aws/sns key cannot be used: CloudWatch alarms cannot publish to topics encrypted with it.)"
  type        = string
  default     = null

  validation {
    condition     = var.sns_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.sns_kms_key_arn))
    error_message = "sns_kms_key_arn must be a KMS key ARN or null (alias/aws/sns is not usable by CloudWatch alarms)."
  }
}

variable "key_administrator_arns" {
  description = "IAM roles the created key's policy names as its administrators besides the account (the environment's deploy role: no IAM policy grants it existing keys). Ignored with sns_kms_key_arn."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.key_administrator_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", a))])
    error_message = "key_administrator_arns must hold IAM role ARNs (no wildcards)."
  }
}

variable "period_seconds" {
  description = "Period of every alarm's metric (seconds)."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600], var.period_seconds)
    error_message = "period_seconds must be 60, 300, 900 or 3600."
  }
}

variable "evaluation_periods" {
  description = "Consecutive breaching periods before an alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.evaluation_periods >= 1 && var.evaluation_periods <= 24
    error_message = "evaluation_periods must be between 1 and 24."
  }
}

variable "lambda_errors_threshold" {
  description = "Lambda Errors (sum per period) at or above which the alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_errors_threshold >= 1
    error_message = "lambda_errors_threshold must be at least 1."
  }
}

variable "lambda_throttles_threshold" {
  description = "Lambda Throttles (sum per period) at or above which the alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.lambda_throttles_threshold >= 1
    error_message = "lambda_throttles_threshold must be at least 1."
  }
}

variable "api_5xx_rate_threshold" {
  description = "Share of API responses that are 5xx, in percent, above which the alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.api_5xx_rate_threshold > 0 && var.api_5xx_rate_threshold <= 100
    error_message = "api_5xx_rate_threshold is a percentage in (0, 100]."
  }
}

variable "api_latency_p99_threshold_ms" {
  description = "p99 API latency in milliseconds above which the alarm fires."
  type        = number
  default     = 1000

  validation {
    condition     = var.api_latency_p99_threshold_ms > 0 && var.api_latency_p99_threshold_ms <= 30000
    error_message = "api_latency_p99_threshold_ms must be in (0, 30000]."
  }
}

variable "dynamodb_throttles_threshold" {
  description = "DynamoDB throttled requests (read + write throttle events, sum per period) at or above which the alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.dynamodb_throttles_threshold >= 1
    error_message = "dynamodb_throttles_threshold must be at least 1."
  }
}

variable "dynamodb_system_errors_threshold" {
  description = "DynamoDB system errors (sum per period over the operations the service uses) at or above which the alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.dynamodb_system_errors_threshold >= 1
    error_message = "dynamodb_system_errors_threshold must be at least 1."
  }
}

variable "storage_unavailable_threshold" {
  description = "StorageUnavailable (the service answered 503; sum per period) at or above which the alarm fires."
  type        = number
  default     = 1

  validation {
    condition     = var.storage_unavailable_threshold >= 1
    error_message = "storage_unavailable_threshold must be at least 1."
  }
}

variable "webhook_rejections_threshold" {
  description = "WebhookRejected (deliveries answered 401/404/413; sum per period) at or above which the alarm fires."
  type        = number
  default     = 25

  validation {
    condition     = var.webhook_rejections_threshold >= 1
    error_message = "webhook_rejections_threshold must be at least 1."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
