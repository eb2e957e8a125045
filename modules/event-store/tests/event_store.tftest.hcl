mock_provider "aws" {}

variables {
  name = "ingest-test-events"
  tags = { Project = "ingest" }
}

run "table_has_the_promised_shape" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.this.billing_mode == "PAY_PER_REQUEST"
    error_message = "The table must be on-demand."
  }

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "pk" && aws_dynamodb_table.this.range_key == null
    error_message = "Keys are fixed by the service: hash key pk, no range key."
  }

  assert {
    condition = one([
      for g in aws_dynamodb_table.this.global_secondary_index : g
      if g.name == "by_source_shard" && g.hash_key == "lsk" && g.range_key == "event_id" && g.projection_type == "INCLUDE" && toset(g.non_key_attributes) == toset(["type"])
    ]) != null && length(aws_dynamodb_table.this.global_secondary_index) == 1
    error_message = "Exactly one GSI by_source_shard (lsk, event_id), projecting type only."
  }

  assert {
    condition     = length(output.index_arns) == 1 && endswith(output.index_arns[0], "/index/by_source_shard")
    error_message = "Readers are granted the listing index."
  }

  assert {
    condition     = aws_dynamodb_table.this.ttl[0].enabled && aws_dynamodb_table.this.ttl[0].attribute_name == "expires_at"
    error_message = "TTL must be on expires_at."
  }

  assert {
    condition     = aws_dynamodb_table.this.point_in_time_recovery[0].enabled
    error_message = "PITR must be on."
  }

  assert {
    condition     = aws_dynamodb_table.this.stream_enabled && aws_dynamodb_table.this.stream_view_type == "NEW_IMAGE"
    error_message = "The stream must publish NEW_IMAGE."
  }

  assert {
    condition     = aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "Deletion protection is on by default."
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled == false
    error_message = "Default encryption is the AWS owned key."
  }

  assert {
    condition     = aws_dynamodb_table.this.tags["Project"] == "ingest"
    error_message = "Tags are applied."
  }
}

run "legacy_index_during_the_migration" {
  command = apply

  variables {
    legacy_by_source_index = true
  }

  assert {
    condition = toset([for g in aws_dynamodb_table.this.global_secondary_index : g.name]) == toset(["by_source_shard", "by_source"]) && one([
      for g in aws_dynamodb_table.this.global_secondary_index : g
      if g.name == "by_source" && g.hash_key == "source" && g.range_key == "event_id" && g.projection_type == "ALL"
    ]) != null
    error_message = "legacy_by_source_index keeps by_source (source, event_id, ALL) beside by_source_shard."
  }

  assert {
    condition     = length(output.index_arns) == 2
    error_message = "Readers are granted both indexes while both exist."
  }
}

run "customer_managed_key" {
  command = apply

  variables {
    kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    deletion_protection = false
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled && aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.kms_key_arn
    error_message = "A customer key is used when given."
  }

  assert {
    condition     = !aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "deletion_protection is an input."
  }
}

run "rejects_bad_name" {
  command = plan

  variables {
    name = "x"
  }

  expect_failures = [var.name]
}

run "rejects_a_key_alias" {
  command = plan

  variables {
    kms_key_arn = "alias/aws/dynamodb"
  }

  expect_failures = [var.kms_key_arn]
}
