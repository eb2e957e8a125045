# One item per accepted event. The keys are fixed by the service:
#   pk (S)                          -> get by event_id, at-most-once per (source, id) via conditional writes
#   GSI by_source: source + event_id -> one source's events in time order (event_id is time-ordered)
resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:AWS owned key by default (no KMS cost or key policy to manage); a customer key is the kms_key_arn input.
  name                        = var.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection
  stream_enabled              = var.stream_enabled
  stream_view_type            = var.stream_enabled ? "NEW_IMAGE" : null

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "source"
    type = "S"
  }

  attribute {
    name = "event_id"
    type = "S"
  }

  global_secondary_index {
    name            = "by_source"
    hash_key        = "source"
    range_key       = "event_id"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = var.kms_key_arn != null
    kms_key_arn = var.kms_key_arn
  }

  tags = var.tags
}
