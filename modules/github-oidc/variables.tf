variable "github_owner" {
  description = "GitHub organisation or user owning the repository."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", var.github_owner))
    error_message = "github_owner must be a GitHub user or organisation name (no wildcards)."
  }
}

variable "github_repository" {
  description = "Repository name (without the owner)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,100}$", var.github_repository))
    error_message = "github_repository must be a repository name (no owner, no wildcards)."
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

variable "create_oidc_provider" {
  description = "Create the token.actions.githubusercontent.com OIDC provider. An account holds only one: set false and pass oidc_provider_arn to reuse it."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "ARN of an existing GitHub OIDC provider (when create_oidc_provider is false)."
  type        = string
  default     = null

  validation {
    condition     = var.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be the ARN of the token.actions.githubusercontent.com provider."
  }

  validation {
    condition     = var.create_oidc_provider || var.oidc_provider_arn != null
    error_message = "oidc_provider_arn is required when create_oidc_provider is false."
  }
}

variable "state_bucket_arn" {
  description = "ARN of the Terraform state bucket."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", var.state_bucket_arn))
    error_message = "state_bucket_arn must be an S3 bucket ARN."
  }
}

variable "lock_table_arn" {
  description = "ARN of the Terraform lock table."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/.+$", var.lock_table_arn))
    error_message = "lock_table_arn must be a DynamoDB table ARN."
  }

  validation {
    condition     = alltrue([for e in var.environments : !startswith(element(split("/", var.lock_table_arn), 1), "${var.project}-${e}-")])
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
