# ---- A fork must set these (in terraform.tfvars) ---------------------------------------------------
variable "aws_region" {
  description = "FORK: AWS region of the state bucket, the lock table and the environments."
  type        = string

  # Every FORK value at once, each against its pattern (a typo would name another region, account
  # or repository); modules/github-oidc checks the repository again, as its trust needs it.
  validation {
    condition = alltrue([for input, check in {
      aws_region          = { pattern = "^[a-z]{2}(-[a-z]+)+-[0-9]$", values = [var.aws_region] }
      github_owner        = { pattern = "^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$", values = [var.github_owner] }
      github_repository   = { pattern = "^[A-Za-z0-9_.-]{1,100}$", values = [var.github_repository] }
      allowed_account_ids = { pattern = "^[0-9]{12}$", values = coalesce(var.allowed_account_ids, []) }
      oidc_provider_arn   = { pattern = "^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", values = compact([var.oidc_provider_arn]) }
    } : alltrue([for v in check.values : can(regex(check.pattern, v))])])
    error_message = "The FORK values: aws_region a region code such as eu-west-1, github_owner a GitHub user or organisation, github_repository a repository name (without the owner), allowed_account_ids 12-digit account IDs (or null), oidc_provider_arn GitHub's OIDC provider ARN (or null)."
  }
}

variable "github_owner" {
  description = "FORK: GitHub organisation or user owning the repository."
  type        = string
}

variable "github_repository" {
  description = "FORK: GitHub repository name (without the owner)."
  type        = string
}

variable "allowed_account_ids" {
  description = "FORK (recommended): the AWS account ID(s) this configuration may be applied to. null disables the check."
  type        = list(string)
  default     = null
}

variable "create_oidc_provider" {
  description = "FORK: false when the account already has the token.actions.githubusercontent.com provider (then set oidc_provider_arn)."
  type        = bool
  default     = true
}

variable "oidc_provider_arn" {
  description = "Existing GitHub OIDC provider ARN (create_oidc_provider = false)."
  type        = string
  default     = null

  validation {
    condition     = var.create_oidc_provider || var.oidc_provider_arn != null
    error_message = "oidc_provider_arn is required when create_oidc_provider is false."
  }
}

# ---- Defaults that fit most forks -------------------------------------------------------------------
variable "project" {
  description = "Project name: prefix of every resource name (the environments use PROJECT-ENVIRONMENT-*). Letters and digits only."
  type        = string
  default     = "ingest"
}

variable "environments" {
  description = "Environments (GitHub environments) that get a deploy role. Letters and digits only."
  type        = list(string)
  default     = ["dev", "prod"]
}

variable "allowed_tag_keys" {
  description = "Tag keys the environments put on their resources (Project, Environment, ManagedBy and any extra keys of their `tags`): the apply roles create and retag HTTP APIs and custom domains with these keys only."
  type        = list(string)
  default     = ["Environment", "ManagedBy", "Project"]
}

variable "state_bucket_name" {
  description = "State bucket name. null derives PROJECT-tfstate-ACCOUNT-REGION (globally unique)."
  type        = string
  default     = null
}

variable "lock_table_name" {
  description = "Lock table name. null derives PROJECT-terraform-locks."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Deletion protection of the lock table."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Extra tags merged into every resource's tags."
  type        = map(string)
  default     = {}
}
