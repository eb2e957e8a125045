output "table_name" {
  description = "Name of the events table."
  value       = aws_dynamodb_table.this.name
}

output "table_arn" {
  description = "ARN of the events table."
  value       = aws_dynamodb_table.this.arn
}

output "index_arns" {
  description = "ARNs of the table's global secondary indexes (for readers such as the CLI)."
  value = concat(
    ["${aws_dynamodb_table.this.arn}/index/by_source_shard"],
    var.table.legacy_by_source_index ? ["${aws_dynamodb_table.this.arn}/index/by_source"] : [],
  )
}

output "stream_arn" {
  description = "ARN of the NEW_IMAGE stream, or null when streams are off."
  value       = var.table.stream_enabled ? aws_dynamodb_table.this.stream_arn : null
}

output "payload_bucket" {
  description = "The claim-check bucket: name (PAYLOAD_BUCKET), arn, and kms_key_arn, the customer managed key encrypting it (null: SSE-S3)."
  value = {
    name        = aws_s3_bucket.payloads.bucket
    arn         = local.bucket_arn
    kms_key_arn = var.table.kms_key_arn
  }
}
