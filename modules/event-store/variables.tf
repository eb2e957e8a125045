variable "name" {
  description = "Table name. The service reads it from EVENTS_TABLE."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 characters of letters, digits, '_', '-' or '.'."
  }
}

variable "deletion_protection" {
  description = "Refuse DeleteTable while true. Keep it on wherever the data matters."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "Customer managed KMS key ARN for server-side encryption. null keeps the AWS owned key (no KMS charges)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) or null."
  }
}

variable "point_in_time_recovery" {
  description = "Continuous backups (35 days of point-in-time restore)."
  type        = bool
  default     = true
}

variable "stream_enabled" {
  description = "Publish a DynamoDB stream (NEW_IMAGE) for downstream consumers."
  type        = bool
  default     = true
}

variable "legacy_by_source_index" {
  description = "Keep the by_source index (source + event_id, projection ALL) of tables created before by_source_shard, while `ingest events backfill-shards` gives their items a shard key; false once it has (docs/storage-format.md). Readers use it while it exists."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
