variable "repository" {
  description = "The GitHub repository whose workflows assume the roles: owner (organisation or user) and name (without the owner). The roles trust exactly repo:OWNER/NAME:..."
  type = object({
    owner = string
    name  = string
  })

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", var.repository.owner)) && can(regex("^[A-Za-z0-9_.-]{1,100}$", var.repository.name))
    error_message = "repository.owner must be a GitHub user or organisation name and repository.name a repository name (no owner, no wildcards)."
  }
}

variable "project" {
  description = "Resource name prefix of the project: the deploy roles may only manage resources named PROJECT-ENVIRONMENT-* (or under PROJECT-ENVIRONMENT/). No '-': it is the delimiter that keeps one environment's prefix from matching another's."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,20}$", var.project))
    error_message = "project must be 2-21 lower-case letters or digits, starting with a letter (no '-': it delimits PROJECT-ENVIRONMENT-*)."
  }
}

variable "environments" {
  description = "GitHub environments that get an apply role (trusted only for repo:OWNER/REPO:environment:NAME). No '-' in a name: PROJECT-dev-* must not match an environment called dev-eu."
  type        = list(string)
  default     = ["dev", "prod"]

  validation {
    condition     = length(var.environments) > 0 && alltrue([for e in var.environments : can(regex("^[a-z][a-z0-9]{0,15}$", e))])
    error_message = "environments must be a non-empty list of lower-case names (letters and digits, up to 16 characters, no '-')."
  }

  validation {
    condition     = alltrue([for e in var.environments : !contains(["github", "terraform", "tfstate", "plan"], e)])
    error_message = "github, terraform, tfstate and plan are reserved: the first three would put the deploy roles or the state backend under an environment's prefix, and plan is the plan role's key among the deploy roles."
  }
}

variable "plan_branches" {
  description = "Branches whose workflows (besides pull requests) may assume the plan role, e.g. for scheduled drift checks."
  type        = list(string)
  default     = ["main"]

  validation {
    condition     = alltrue([for b in var.plan_branches : can(regex("^[A-Za-z0-9._/-]+$", b))])
    error_message = "plan_branches must be exact branch names (no wildcards)."
  }
}

variable "oidc_provider" {
  description = "GitHub's OIDC provider (token.actions.githubusercontent.com): create it (default), or, since an account holds only one, create = false and the arn of the existing one."
  type = object({
    create = optional(bool, true)
    arn    = optional(string)
  })
  default  = {}
  nullable = false

  validation {
    condition     = var.oidc_provider.arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.oidc_provider.arn))
    error_message = "oidc_provider.arn must be the ARN of the token.actions.githubusercontent.com provider."
  }

  validation {
    condition     = var.oidc_provider.create || var.oidc_provider.arn != null
    error_message = "oidc_provider.arn is required when oidc_provider.create is false."
  }
}

variable "state" {
  description = "The Terraform state backend the roles use: bucket_arn of the state bucket and lock_table_arn of the lock table."
  type = object({
    bucket_arn     = string
    lock_table_arn = string
  })

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.state.bucket_arn)) && can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/.+$", var.state.lock_table_arn))
    error_message = "state.bucket_arn must be an S3 bucket ARN and state.lock_table_arn a DynamoDB table ARN."
  }

  validation {
    condition     = alltrue([for e in var.environments : !startswith(try(element(split("/", var.state.lock_table_arn), 1), ""), "${var.project}-${e}-")])
    error_message = "The lock table must not be named PROJECT-ENVIRONMENT-*: that environment's apply role could delete it."
  }
}

variable "max_session_duration" {
  description = "Maximum session duration of the roles, in seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200."
  }
}

variable "allowed_tag_keys" {
  description = "Tag keys the environments put on their resources (Project, Environment, ManagedBy and the keys of their extra tags): HTTP APIs and custom domains can be created and retagged with these keys only."
  type        = list(string)
  default     = ["Environment", "ManagedBy", "Project"]

  validation {
    condition     = contains(var.allowed_tag_keys, "Environment") && alltrue([for k in var.allowed_tag_keys : can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", k)) && !strcontains(k, "*")])
    error_message = "allowed_tag_keys must include Environment and hold exact tag keys (no wildcards)."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
