variable "name" {
  description = "Name prefix (PROJECT-ENVIRONMENT): names the pipe, the bus, the queues, the role and the alarm."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "name must be 2-41 lower-case letters, digits or '-'."
  }
}

variable "stream_arn" {
  description = "ARN of the events table's stream (NEW_IMAGE): the pipe's only source, and the only stream its role may read."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/.+$", var.stream_arn))
    error_message = "stream_arn must be a DynamoDB stream ARN."
  }
}

variable "filters" {
  description = "Forward only events whose source / type starts with one of these prefixes (empty: every source / type). Only INSERTs are ever forwarded."
  type = object({
    source_prefixes = optional(list(string), [])
    type_prefixes   = optional(list(string), [])
  })
  default  = {}
  nullable = false
}

variable "delivery" {
  description = "Retries of a batch the bus refuses (maximum_retry_attempts, 0-185) and the oldest record still sent (maximum_record_age_seconds, 60-86400: a stream keeps records 24 h); batch_size records per read. Then the records go to the dead-letter queue."
  type = object({
    maximum_retry_attempts     = optional(number, 10)
    maximum_record_age_seconds = optional(number, 86400)
    batch_size                 = optional(number, 10)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.delivery.maximum_retry_attempts >= 0 && var.delivery.maximum_retry_attempts <= 185 && var.delivery.maximum_record_age_seconds >= 60 && var.delivery.maximum_record_age_seconds <= 86400 && var.delivery.batch_size >= 1 && var.delivery.batch_size <= 10
    error_message = "maximum_retry_attempts 0-185, maximum_record_age_seconds 60-86400, batch_size 1-10."
  }
}

variable "example_queue" {
  description = "Also create one example consumer: an EventBridge rule matching event_pattern (a JSON pattern over the shaped event; null: every event) to an encrypted SQS queue with its own dead-letter queue."
  type = object({
    enabled       = optional(bool, false)
    event_pattern = optional(string)
  })
  default  = {}
  nullable = false
}

variable "alarm_topic_arn" {
  description = "SNS topic the dead-letter queues' alarms notify (null: the alarms notify nobody)."
  type        = string
  default     = null
}

variable "role" {
  description = "The pipe role's path and permissions boundary (the environment's deploy role creates roles only with it; null without the bootstrap)."
  type = object({
    path                     = optional(string, "/")
    permissions_boundary_arn = optional(string)
  })
  default  = {}
  nullable = false
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
