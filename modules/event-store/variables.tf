variable "table" {
  description = "The events table: name (EVENTS_TABLE); deletion_protection, refuse DeleteTable (default true; keep it on wherever the data matters; false also lets terraform destroy empty the payload bucket); kms_key_arn, a customer managed KMS key for the table and the payload bucket (default null: the AWS owned key for the table, no KMS charges, and SSE-S3 for the bucket); point_in_time_recovery, 35 days of restore (default true); stream_enabled, a NEW_IMAGE stream for downstream consumers (default true); legacy_by_source_index, keep the by_source index (source + event_id, projection ALL) of a table created before by_source_shard while `ingest events backfill-shards` gives its items a shard key, false once it has (default false; docs/storage-format.md; readers use it while it exists)."
  type = object({
    name                   = string
    deletion_protection    = optional(bool, true)
    kms_key_arn            = optional(string)
    point_in_time_recovery = optional(bool, true)
    stream_enabled         = optional(bool, true)
    legacy_by_source_index = optional(bool, false)
  })
  nullable = false

  validation {
    condition = alltrue([
      can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table.name)),
      var.table.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.table.kms_key_arn)),
    ])
    error_message = "table.name must be 3-255 characters of letters, digits, '_', '-' or '.', and table.kms_key_arn a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) or null."
  }
}

variable "payloads" {
  description = "The claim-check bucket holding the payloads too large for an item, under payloads/SHA256 (the item keeps the reference, size and SHA-256; docs/decisions/0034): bucket, its globally unique name (the function reads it from PAYLOAD_BUCKET); retention_days, the events' retention (RETENTION_DAYS; 0 keeps them forever): an object expires retention_days + 2 days after its last write (2 days for DynamoDB TTL's lag), never when 0."
  type = object({
    bucket         = string
    retention_days = number
  })
  nullable = false

  # No '.': a dotted name breaks TLS on virtual-hosted-style requests, and the bucket is TLS-only.
  validation {
    condition = alltrue([
      can(regex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", var.payloads.bucket)) && !startswith(var.payloads.bucket, "xn--"),
      var.payloads.retention_days >= 0 && var.payloads.retention_days <= 3650 && floor(var.payloads.retention_days) == var.payloads.retention_days,
    ])
    error_message = "payloads.bucket must be 3-63 lower-case letters, digits or '-' (no '.'), and payloads.retention_days a whole number from 0 to 3650."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
