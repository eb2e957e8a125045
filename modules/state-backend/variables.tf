variable "bucket" {
  description = "The S3 bucket holding Terraform state: name (globally unique); kms_key_arn of its default encryption (null: the AWS managed aws/s3 key; SSE-KMS either way, with an S3 bucket key to keep KMS requests low); noncurrent_version_retention_days, the days a superseded state version is kept, the undo window for a bad apply (default 90); noncurrent_versions_to_keep, the newest noncurrent versions kept regardless of age (0-100; default 10). The bucket is never force-destroyed (force_destroy = false): deleting it requires emptying every version first."
  type = object({
    name                              = string
    kms_key_arn                       = optional(string)
    noncurrent_version_retention_days = optional(number, 90)
    noncurrent_versions_to_keep       = optional(number, 10)
  })

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket.name)) && !can(regex("\\.\\.", var.bucket.name))
    error_message = "bucket.name must be a valid S3 bucket name: 3-63 lower-case letters, digits, '.' or '-'."
  }

  validation {
    condition = alltrue([
      var.bucket.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.bucket.kms_key_arn)),
      var.bucket.noncurrent_version_retention_days >= 1,
      var.bucket.noncurrent_versions_to_keep >= 0 && var.bucket.noncurrent_versions_to_keep <= 100,
    ])
    error_message = "bucket.kms_key_arn must be a KMS key ARN or null, bucket.noncurrent_version_retention_days at least 1, and bucket.noncurrent_versions_to_keep between 0 and 100."
  }
}

variable "lock_table" {
  description = "The DynamoDB table holding state locks (LockID): name, and deletion_protection (default true)."
  type = object({
    name                = string
    deletion_protection = optional(bool, true)
  })

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.lock_table.name))
    error_message = "lock_table.name must be 3-255 characters of letters, digits, '_', '-' or '.'."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
