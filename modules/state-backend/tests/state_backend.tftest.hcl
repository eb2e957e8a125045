mock_provider "aws" {
  source = "../../tests/tooling/terraform/mocks"

  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::ingest-tfstate-test"
    }
  }
}

variables {
  bucket     = { name = "ingest-tfstate-test" }
  lock_table = { name = "ingest-terraform-locks" }
}

run "state_bucket_is_private_versioned_encrypted_tls_only" {
  command = apply

  assert {
    condition     = aws_s3_bucket.state.force_destroy == false
    error_message = "The state bucket is never force-destroyed."
  }

  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning is on."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.state.block_public_acls,
      aws_s3_bucket_public_access_block.state.block_public_policy,
      aws_s3_bucket_public_access_block.state.ignore_public_acls,
      aws_s3_bucket_public_access_block.state.restrict_public_buckets,
    ])
    error_message = "All public access is blocked."
  }

  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.state.rule : r.apply_server_side_encryption_by_default[0].sse_algorithm]) == "aws:kms"
    error_message = "Default encryption is SSE-KMS."
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.state.statement :
      s.effect == "Deny" && anytrue([for c in s.condition : c.variable == "aws:SecureTransport" && toset(c.values) == toset(["false"])])
    ])
    error_message = "The bucket policy denies requests without TLS."
  }

  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.state.statement : s.resources])) == toset([aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"])
    error_message = "The bucket policy covers the bucket and its objects."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.state.rule[0].noncurrent_version_expiration[0].noncurrent_days == 90
    error_message = "Noncurrent state versions expire after the retention input."
  }

  assert {
    condition     = aws_dynamodb_table.lock.hash_key == "LockID" && aws_dynamodb_table.lock.billing_mode == "PAY_PER_REQUEST" && aws_dynamodb_table.lock.deletion_protection_enabled
    error_message = "Lock table: LockID hash key, on-demand, deletion protection on by default."
  }
}

run "rejects_bad_names" {
  command = plan

  variables {
    bucket     = { name = "Not_A_Bucket", noncurrent_version_retention_days = 0 }
    lock_table = { name = "x" }
  }

  expect_failures = [var.bucket, var.lock_table]
}

run "rejects_versions_outside_the_lifecycle_limits_and_a_key_alias" {
  command = plan

  variables {
    bucket = { name = "ingest-tfstate-test", noncurrent_versions_to_keep = 101, kms_key_arn = "alias/aws/s3" }
  }

  expect_failures = [var.bucket]
}
