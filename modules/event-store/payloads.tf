# The claim check: a body too large for an item is written here by the function (PAYLOAD_BUCKET)
# and the item keeps its key, size and SHA-256; every reader fetches the bytes back through it.
# One bucket per environment, private, TLS-only, and emptied by the lifecycle as the table's TTL
# empties the table.
data "aws_partition" "current" {}

locals {
  # Built from the name (not read from the bucket) so every policy naming it is known at plan time.
  bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${var.payloads.bucket}"

  # Encryption follows the table's key. A customer managed key (table.kms_key_arn) encrypts both:
  # SSE-KMS with an S3 bucket key, so S3 asks KMS for a data key per bucket and period rather than
  # per object. Without one the table uses the AWS owned key, which S3 cannot use; its counterpart
  # is SSE-S3 (keys owned and rotated by S3, no KMS charges, no key policy). The AWS managed aws/s3
  # key would add a KMS request per object and a key policy nobody can edit, and control nothing more.
  sse = var.table.kms_key_arn == null ? { algorithm = "AES256", bucket_key = false } : { algorithm = "aws:kms", bucket_key = true }
}

resource "aws_s3_bucket" "payloads" {
  #checkov:skip=CKV_AWS_18:Server access logs would need a second bucket per environment; object access is audited by CloudTrail (add S3 data events if required).
  #checkov:skip=CKV_AWS_144:Cross-region replication would copy every body to a second region and outlive the retention there; the bodies follow the table, which has no replica either.
  #checkov:skip=CKV2_AWS_62:No consumer for event notifications: the table's stream announces every stored event, bodies included by reference.
  #checkov:skip=CKV_AWS_21:Not versioned: a payload's key is its SHA-256, so a write can only put the same bytes again; the function may only put, no role of the service deletes; versions would keep the bodies the lifecycle expires beyond the retention.
  #checkov:skip=CKV_AWS_19:Encrypted at rest by aws_s3_bucket_server_side_encryption_configuration.payloads (SSE-S3, or SSE-KMS with the table's customer key): checkov does not evaluate the choice in local.sse.
  #checkov:skip=CKV_AWS_145:SSE-S3 unless table.kms_key_arn names a customer key (then SSE-KMS with it): the AWS managed aws/s3 key adds KMS requests and no control (see local.sse).
  bucket = var.payloads.bucket
  # Like the table: destroyed with its bodies only where deletion protection is off (dev).
  force_destroy = !var.table.deletion_protection
  tags          = var.tags
}

resource "aws_s3_bucket_public_access_block" "payloads" {
  bucket = aws_s3_bucket.payloads.id
  # All four: no ACL or policy can make a body public, now or later.
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "payloads" {
  bucket = aws_s3_bucket.payloads.id
  # ACLs disabled: every body belongs to the bucket owner, whoever wrote it.
  rule { object_ownership = "BucketOwnerEnforced" }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "payloads" {
  bucket = aws_s3_bucket.payloads.id

  rule {
    bucket_key_enabled = local.sse.bucket_key
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.sse.algorithm
      kms_master_key_id = var.table.kms_key_arn
    }
  }
}

# A body lives as long as its events: it expires retention_days + 2 days after its last write (a
# repeat of the same payload writes its key again and restarts the clock; the 2 days cover
# DynamoDB TTL deleting an expired item up to two days late: docs/decisions/0034). An object whose
# item was never written is removed the same way, and an upload left incomplete after a day.
# retention_days 0 keeps events forever, and their bodies with them.
resource "aws_s3_bucket_lifecycle_configuration" "payloads" {
  bucket = aws_s3_bucket.payloads.id

  rule {
    id     = "retention"
    status = "Enabled"
    filter {}

    dynamic "expiration" {
      for_each = var.payloads.retention_days > 0 ? [var.payloads.retention_days + 2] : []
      content {
        days = expiration.value
      }
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

# TLS only: any request over plain HTTP is denied, whoever makes it.
resource "aws_s3_bucket_policy" "payloads" {
  bucket = aws_s3_bucket.payloads.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })

  depends_on = [aws_s3_bucket_public_access_block.payloads]
}
