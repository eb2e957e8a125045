variable "service" {
  description = "The service watched: name, the prefix of the alarm names, the SNS topic and the dashboard (for example ingest-prod); function_name, api_id (the HTTP API's ApiId) and table_name, its Lambda function, HTTP API and DynamoDB table; metrics_namespace, the namespace of its EMF metrics (POWERTOOLS_METRICS_NAMESPACE, dimension service=ingest; default Ingest)."
  type = object({
    name              = string
    function_name     = string
    api_id            = string
    table_name        = string
    metrics_namespace = optional(string, "Ingest")
  })

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,200}$", var.service.name))
    error_message = "service.name must be 1-200 characters of letters, digits, '-' or '_'."
  }
}

variable "topic" {
  description = "The SNS topic every alarm notifies: email, an address subscribed to it (the subscription must be confirmed; null for none); kms_key_arn, a customer managed key encrypting it, whose key policy must let cloudwatch.amazonaws.com use it (null creates a dedicated key; the AWS managed alias/aws/sns key cannot be used: CloudWatch alarms cannot publish to topics encrypted with it); key_administrator_arns, IAM roles the created key's policy names as its administrators besides the account (the environment's deploy role: no IAM policy grants it existing keys; ignored with kms_key_arn)."
  type = object({
    email                  = optional(string)
    kms_key_arn            = optional(string)
    key_administrator_arns = optional(list(string), [])
  })
  default  = {}
  nullable = false

  # Every value given against its pattern: [pattern, values].
  validation {
    condition = alltrue(flatten([
      for check in [
        ["^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", compact([var.topic.email])],
        ["^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", compact([var.topic.kms_key_arn])],
        ["^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$", var.topic.key_administrator_arns],
      ] : [for v in check[1] : can(regex(check[0], v))]
    ]))
    error_message = "topic.email must be an e-mail address or null, topic.kms_key_arn a KMS key ARN or null (alias/aws/sns is not usable by CloudWatch alarms), and topic.key_administrator_arns IAM role ARNs (no wildcards)."
  }
}

variable "evaluation" {
  description = "How every alarm evaluates its metric: period_seconds (60, 300, 900 or 3600; default 300) and periods, the consecutive breaching periods before it fires (1-24; default 1)."
  type = object({
    period_seconds = optional(number, 300)
    periods        = optional(number, 1)
  })
  default  = {}
  nullable = false

  validation {
    condition     = contains([60, 300, 900, 3600], var.evaluation.period_seconds) && var.evaluation.periods >= 1 && var.evaluation.periods <= 24
    error_message = "evaluation.period_seconds must be 60, 300, 900 or 3600, and evaluation.periods between 1 and 24."
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
