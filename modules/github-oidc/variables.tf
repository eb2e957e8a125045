variable "github" {
  description = "The GitHub side: owner (organisation or user) and repository (its name, without the owner) whose workflows assume the roles, which trust exactly repo:OWNER/REPOSITORY:...; plan_branches, the branches whose workflows (besides pull requests) may assume the plan role, e.g. for scheduled drift checks (default main); oidc_provider_arn, GitHub's OIDC provider (token.actions.githubusercontent.com) when the account has it already (an account holds only one), null to create it."
  type = object({
    owner             = string
    repository        = string
    plan_branches     = optional(list(string), ["main"])
    oidc_provider_arn = optional(string)
  })
  nullable = false

  # Exact names only: a wildcard would widen the trust.
  validation {
    condition     = can(regex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", var.github.owner)) && can(regex("^[A-Za-z0-9_.-]{1,100}$", var.github.repository)) && alltrue([for b in var.github.plan_branches : can(regex("^[A-Za-z0-9._/-]+$", b))])
    error_message = "github.owner must be a GitHub user or organisation name, github.repository a repository name (no owner) and github.plan_branches exact branch names (no wildcards)."
  }

  validation {
    condition     = var.github.oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.github.oidc_provider_arn))
    error_message = "github.oidc_provider_arn must be the ARN of GitHub's provider (oidc-provider/token.actions.githubusercontent.com), or null to create it."
  }
}

variable "scope" {
  description = "What the apply roles may reach: project, the resource name prefix, and environments, the GitHub environments that get an apply role (trusted only for repo:OWNER/REPO:environment:NAME); each may only manage resources named PROJECT-ENVIRONMENT-* (or under PROJECT-ENVIRONMENT/). Neither holds a '-': it is the delimiter that keeps one environment's prefix from matching another's (PROJECT-dev-* must not match an environment called dev-eu). allowed_tag_keys: the tag keys the environments put on their resources (Project, Environment, ManagedBy and the keys of their extra tags); HTTP APIs and custom domains can be created and retagged with these keys only."
  type = object({
    project          = string
    environments     = optional(list(string), ["dev", "prod"])
    allowed_tag_keys = optional(list(string), ["Environment", "ManagedBy", "Project"])
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,20}$", var.scope.project)) && length(var.scope.environments) > 0 && alltrue([for e in var.scope.environments : can(regex("^[a-z][a-z0-9]{0,15}$", e))])
    error_message = "scope.project must be 2-21 lower-case letters or digits, starting with a letter, and scope.environments a non-empty list of lower-case names (letters and digits, up to 16 characters): no '-', it delimits PROJECT-ENVIRONMENT-*."
  }

  validation {
    condition     = length(setintersection(var.scope.environments, ["github", "terraform", "tfstate", "plan"])) == 0
    error_message = "github, terraform, tfstate and plan are reserved environment names: the first three would put the deploy roles or the state backend under an environment's prefix, and plan is the plan role's key among the deploy roles."
  }

  validation {
    condition     = contains(var.scope.allowed_tag_keys, "Environment") && alltrue([for k in var.scope.allowed_tag_keys : can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", k)) && !strcontains(k, "*")])
    error_message = "scope.allowed_tag_keys must include Environment and hold exact tag keys (no wildcards)."
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
    condition     = alltrue([for e in var.scope.environments : !startswith(try(element(split("/", var.state.lock_table_arn), 1), ""), "${var.scope.project}-${e}-")])
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

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
