variable "environment" {
  description = "What the environment gives the pipe: name, its prefix PROJECT-ENVIRONMENT (it names the pipe, the bus, the queues, the role and the alarms); stream_arn, the events table's NEW_IMAGE stream (the pipe's only source, and the only stream its role may read); alarm_topic_arn, the SNS topic the dead-letter queues' alarms notify (null: nobody)."
  type = object({
    name            = string
    stream_arn      = string
    alarm_topic_arn = optional(string)
  })
  nullable = false

  validation {
    condition = alltrue([for k, pattern in {
      name            = "^[a-z][a-z0-9-]{1,40}$"
      stream_arn      = "^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/.+$"
      alarm_topic_arn = "^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]+$"
    } : var.environment[k] == null ? k == "alarm_topic_arn" : can(regex(pattern, var.environment[k]))])
    error_message = "environment.name must be 2-41 lower-case letters, digits or '-'; environment.stream_arn a DynamoDB stream ARN; environment.alarm_topic_arn an SNS topic ARN or null."
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

variable "role" {
  description = "The pipe's execution role: arn of an existing one (with the bootstrap's deploy roles: its PROJECT-ENVIRONMENT-events-pipe, since they may pass no other role to Pipes); or null, and this module creates NAME-pipe under path with permissions_boundary_arn (null: none)."
  type = object({
    arn                      = optional(string)
    path                     = optional(string, "/")
    permissions_boundary_arn = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.role.arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.role.arn))
    error_message = "role.arn must be an IAM role ARN or null."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
  nullable    = false
}
