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

variable "thresholds" {
  description = "Threshold by alarm, overriding the defaults: lambda_errors 1, lambda_throttles 1, dynamodb_throttles 1, dynamodb_system_errors 1, storage_unavailable 1, webhook_rejections 25 (sums per period, at or above which the alarm fires); api_5xx_rate 1 (percent of responses, above which it fires); api_latency_p99 1000 (milliseconds, above which it fires)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.thresholds : try(v > 0 && v >= local.threshold_limits[k][0] && v <= coalesce(local.threshold_limits[k][1], v), false)])
    error_message = "thresholds: the keys are alarm keys (lambda_errors, lambda_throttles, api_5xx_rate, api_latency_p99, dynamodb_throttles, dynamodb_system_errors, storage_unavailable, webhook_rejections); sums are at least 1, api_5xx_rate is a percentage in (0, 100] and api_latency_p99 in (0, 30000] ms."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
