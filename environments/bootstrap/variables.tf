# ---- A fork must set these (in terraform.tfvars) ---------------------------------------------------
variable "aws_region" {
  description = "FORK: AWS region of the state bucket, the lock table and the environments."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region code such as eu-west-1."
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
