mock_provider "aws" {
  source = "../../tests/tooling/terraform/mocks"
}

variables {
  table    = { name = "ingest-test-events" }
  payloads = { bucket = "ingest-test-payloads-123456789012", retention_days = 30 }
  tags     = { Project = "ingest" }
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
    condition     = aws_dynamodb_table.this.deletion_protection_enabled && !aws_s3_bucket.payloads.force_destroy
    error_message = "Deletion protection is on by default, and the bucket is then never destroyed with bodies in it."
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled == false
    error_message = "Default encryption is the AWS owned key."
  }

  assert {
    condition     = aws_dynamodb_table.this.tags["Project"] == "ingest" && aws_s3_bucket.payloads.tags["Project"] == "ingest"
    error_message = "Tags are applied."
  }
}

run "payload_bucket_is_private_encrypted_and_tls_only" {
  command = apply

  assert {
    condition     = [output.payload_bucket.name, output.payload_bucket.arn] == ["ingest-test-payloads-123456789012", "arn:aws:s3:::ingest-test-payloads-123456789012"] && output.payload_bucket.kms_key_arn == null
    error_message = "The output names the bucket by its exact ARN, SSE-S3 without a table key."
  }

  assert {
    condition     = [for k in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"] : aws_s3_bucket_public_access_block.payloads[k]] == [true, true, true, true]
    error_message = "All four public access blocks are on."
  }

  assert {
    condition     = aws_s3_bucket_ownership_controls.payloads.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs are disabled: the bucket owner owns every body."
  }

  assert {
    condition = [for r in aws_s3_bucket_server_side_encryption_configuration.payloads.rule : [
      for d in r.apply_server_side_encryption_by_default : [d.sse_algorithm, d.kms_master_key_id == null, r.bucket_key_enabled]
    ]] == [[["AES256", true, false]]]
    error_message = "Without a customer key the bucket is encrypted with SSE-S3."
  }

  assert {
    condition = jsondecode(aws_s3_bucket_policy.payloads.policy).Statement == [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["arn:aws:s3:::ingest-test-payloads-123456789012", "arn:aws:s3:::ingest-test-payloads-123456789012/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
    error_message = "The bucket policy denies every request without TLS, on the bucket and its objects, and says nothing else."
  }
}

run "lifecycle_follows_the_retention" {
  command = apply

  assert {
    condition = [for r in aws_s3_bucket_lifecycle_configuration.payloads.rule : {
      status  = r.status
      expires = [for e in r.expiration : e.days]
      aborts  = [for a in r.abort_incomplete_multipart_upload : a.days_after_initiation]
    }] == [{ status = "Enabled", expires = [32], aborts = [1] }]
    error_message = "One rule: a body expires two days after its event (retention 30 + 2, for TTL's lag), incomplete uploads are aborted after a day."
  }
}

# retention_days 0 keeps events forever; a customer key encrypts the table and the bucket alike;
# without deletion protection the bucket is emptied on destroy; the migration's legacy index.
run "kept_forever_customer_key_unprotected_legacy_index" {
  command = apply

  variables {
    table = {
      name                   = "ingest-test-events"
      kms_key_arn            = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
      deletion_protection    = false
      legacy_by_source_index = true
    }
    payloads = { bucket = "ingest-test-payloads-123456789012", retention_days = 0 }
  }

  assert {
    condition     = [for r in aws_s3_bucket_lifecycle_configuration.payloads.rule : [length(r.expiration), length(r.abort_incomplete_multipart_upload)]] == [[0, 1]]
    error_message = "Events kept forever keep their bodies: no expiration, incomplete uploads still aborted."
  }

  assert {
    condition     = aws_dynamodb_table.this.server_side_encryption[0].enabled && aws_dynamodb_table.this.server_side_encryption[0].kms_key_arn == var.table.kms_key_arn
    error_message = "A customer key encrypts the table when given."
  }

  assert {
    condition = [for r in aws_s3_bucket_server_side_encryption_configuration.payloads.rule : [
      for d in r.apply_server_side_encryption_by_default : [d.sse_algorithm, d.kms_master_key_id, r.bucket_key_enabled]
    ]] == [[["aws:kms", var.table.kms_key_arn, true]]] && output.payload_bucket.kms_key_arn == var.table.kms_key_arn
    error_message = "The table's customer key encrypts the bucket (SSE-KMS, bucket key on), and the output names it for the function's grant."
  }

  assert {
    condition     = !aws_dynamodb_table.this.deletion_protection_enabled && aws_s3_bucket.payloads.force_destroy
    error_message = "Without deletion protection, terraform destroy removes the table and empties the bucket."
  }

  assert {
    condition = toset([for g in aws_dynamodb_table.this.global_secondary_index : g.name]) == toset(["by_source_shard", "by_source"]) && one([
      for g in aws_dynamodb_table.this.global_secondary_index : g
      if g.name == "by_source" && g.hash_key == "source" && g.range_key == "event_id" && g.projection_type == "ALL"
    ]) != null && length(output.index_arns) == 2
    error_message = "legacy_by_source_index keeps by_source (source, event_id, ALL) beside by_source_shard, and readers are granted both."
  }
}

run "rejects_bad_names_a_key_alias_and_a_fractional_retention" {
  command = plan

  variables {
    table    = { name = "x", kms_key_arn = "alias/aws/dynamodb" }
    payloads = { bucket = "ingest.test.payloads", retention_days = 1.5 }
  }

  expect_failures = [var.table, var.payloads]
}
