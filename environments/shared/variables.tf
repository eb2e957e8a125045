# ---- A fork must set these (in terraform.tfvars; scripts/fork.py writes them) -----------------------
variable "aws_region" {
  description = "FORK: AWS region to deploy to."
  type        = string

  # Where the provider may deploy, checked at once: [pattern, the values that must match it]
  # (modules/alarms checks alarm_email).
  validation {
    condition = alltrue(flatten([
      for check in [
        ["^[a-z]{2}(-[a-z]+)+-[0-9]$", [var.aws_region]],
        ["^[0-9]{12}$", coalesce(var.allowed_account_ids, [])],
      ] : [for v in check[1] : can(regex(check[0], v))]
    ]))
    error_message = "aws_region must be a region code such as eu-west-1 and allowed_account_ids 12-digit account IDs (or null)."
  }
}

variable "allowed_account_ids" {
  description = "FORK (recommended): the AWS account ID(s) this environment may be applied to; a plan against any other account fails. null disables the check."
  type        = list(string)
  default     = null
}

variable "alarm_email" {
  description = "FORK (optional): e-mail address that receives the alarms (confirm the subscription mail)."
  type        = string
  default     = null
}

# ---- Everything else --------------------------------------------------------------------------------
variable "artifact_path" {
  description = "The deployment package written by `make package`."
  type        = string
  default     = "../../dist/ingest.zip"
}

variable "stack" {
  description = "The other inputs of modules/ingest-stack, by name: environment, events, logs and api; optionally function, webhooks, alarms, consumers, project, tags, use_permissions_boundary. The module types, describes and validates them (modules/ingest-stack/README.md)."
  type        = any

  validation {
    condition     = length(setsubtract(keys(var.stack), ["environment", "events", "logs", "api", "function", "webhooks", "alarms", "consumers", "project", "tags", "use_permissions_boundary"])) == 0
    error_message = "stack holds inputs of modules/ingest-stack only: environment, events, logs, api, function, webhooks, alarms, consumers, project, tags, use_permissions_boundary."
  }
}
