variable "bucket_name" {
  description = "Name of the S3 bucket holding Terraform state (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name: 3-63 lower-case letters, digits, '.' or '-'."
  }
}

variable "lock_table_name" {
  description = "Name of the DynamoDB table holding state locks (LockID)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.lock_table_name))
    error_message = "lock_table_name must be 3-255 characters of letters, digits, '_', '-' or '.'."
  }
}

variable "deletion_protection" {
  description = "Deletion protection of the lock table. The bucket is never force-destroyed (force_destroy = false): deleting it requires emptying every version first."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "KMS key ARN for the bucket's default encryption. null uses the AWS managed aws/s3 key (SSE-KMS, with an S3 bucket key to keep KMS requests low)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN or null."
  }
}

variable "noncurrent_version_retention_days" {
  description = "Days a superseded state version is kept (the undo window for a bad apply)."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_retention_days >= 1
    error_message = "noncurrent_version_retention_days must be at least 1."
  }
}

variable "noncurrent_versions_to_keep" {
  description = "Newest noncurrent versions kept regardless of age."
  type        = number
  default     = 10

  validation {
    condition     = var.noncurrent_versions_to_keep >= 0 && var.noncurrent_versions_to_keep <= 100
    error_message = "noncurrent_versions_to_keep must be between 0 and 100."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
