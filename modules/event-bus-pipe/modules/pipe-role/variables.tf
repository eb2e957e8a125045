variable "role" {
  description = "The role: name, path (default /) and permissions_boundary_arn (default none)."
  type = object({
    name                     = string
    path                     = optional(string, "/")
    permissions_boundary_arn = optional(string)
  })
  nullable = false
}

variable "grants" {
  description = "The exact ARNs the role is for: pipe_arn (the one pipe that may assume it), stream_arns (the table's streams, TABLE_ARN/stream/*), bus_arn (events:PutEvents) and dead_letter_queue_arn (sqs:SendMessage)."
  type = object({
    pipe_arn              = string
    stream_arns           = string
    bus_arn               = string
    dead_letter_queue_arn = string
  })
  nullable = false

  validation {
    condition     = alltrue([for k, service in { pipe_arn = "pipes", stream_arns = "dynamodb", bus_arn = "events", dead_letter_queue_arn = "sqs" } : can(regex("^arn:aws[a-z-]*:${service}:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_./:-]+$", trimsuffix(var.grants[k], "/stream/*")))]) && endswith(var.grants.stream_arns, "/stream/*")
    error_message = "grants: exact ARNs of one pipe, one table's streams (TABLE_ARN/stream/*), one event bus and one SQS queue."
  }
}

variable "tags" {
  description = "Tags of the role."
  type        = map(string)
  default     = {}
  nullable    = false
}
