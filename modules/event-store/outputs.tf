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
    var.legacy_by_source_index ? ["${aws_dynamodb_table.this.arn}/index/by_source"] : [],
  )
}

output "stream_arn" {
  description = "ARN of the NEW_IMAGE stream, or null when streams are off."
  value       = var.stream_enabled ? aws_dynamodb_table.this.stream_arn : null
}
