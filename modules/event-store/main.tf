# One item per accepted event. The keys are fixed by the service (ensure_table in
# services/ingest/src/ingest/adapters/dynamodb.py declares the same; a test compares them):
#   pk (S)                              -> get by event_id, at-most-once per (source, id) via conditional writes
#   GSI by_source_shard: lsk + event_id -> one source's events in time order, spread over LISTING_SHARDS
#                                          partitions (lsk = SOURCE#N); keys and type only, readers
#                                          fetch full items from the table (docs/storage-format.md)
#   GSI by_source (legacy_by_source_index only): the index of tables written before lsk existed
resource "aws_dynamodb_table" "this" {
  #checkov:skip=CKV_AWS_119:AWS owned key by default (no KMS cost or key policy to manage); a customer key is the table.kms_key_arn input.
  name                        = var.table.name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  deletion_protection_enabled = var.table.deletion_protection
  stream_enabled              = var.table.stream_enabled
  stream_view_type            = var.table.stream_enabled ? "NEW_IMAGE" : null

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "lsk"
    type = "S"
  }

  attribute {
    name = "event_id"
    type = "S"
  }

  dynamic "attribute" {
    for_each = var.table.legacy_by_source_index ? ["source"] : []
    content {
      name = attribute.value
      type = "S"
    }
  }

  global_secondary_index {
    name               = "by_source_shard"
    hash_key           = "lsk"
    range_key          = "event_id"
    projection_type    = "INCLUDE"
    non_key_attributes = ["type"]
  }

  dynamic "global_secondary_index" {
    for_each = var.table.legacy_by_source_index ? ["by_source"] : []
    content {
      name            = global_secondary_index.value
      hash_key        = "source"
      range_key       = "event_id"
      projection_type = "ALL"
    }
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.table.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = var.table.kms_key_arn != null
    kms_key_arn = var.table.kms_key_arn
  }

  tags = var.tags
}
