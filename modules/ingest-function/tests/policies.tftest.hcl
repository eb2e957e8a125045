# The execution role's policies as the real provider renders them, at plan time and offline: the
# credentials are fake ones from the environment (make tf-test and scripts/tf/iam_lint.py set
# them) and there is no account lookup. scripts/tf/iam_lint.py lints the documents these runs
# render.
provider "aws" {
  region                      = "eu-west-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
}

run "rendered_execution_role" {
  command = plan

  variables {
    function = { name = "ingest-test-ingest", artifact_path = "tests/fixtures/artifact.zip", tracing_enabled = true }
    table    = { name = "ingest-test-events" }
    role     = { path = "/ingest-test/", permissions_boundary_arn = "arn:aws:iam::123456789012:policy/ingest-test-boundary" }
    sources = {
      document      = "ssm:/ingest-test/sources"
      parameter_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/ingest-test/sources"
      secret_arns   = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-test/webhooks/github-AbCdEf"]
    }
    payloads = { name = "ingest-test-payloads-123456789012", arn = "arn:aws:s3:::ingest-test-payloads-123456789012", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
  }

  # The caller identity is the only lookup the policies need.
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.assume.json).Statement[0].Principal == { Service = "lambda.amazonaws.com" }
    error_message = "Only Lambda assumes the execution role."
  }

  assert {
    condition     = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.function.json).Statement : s.Action if s.Sid == "WriteEvents"])) == toset(["dynamodb:BatchWriteItem", "dynamodb:PutItem"])
    error_message = "The rendered policy writes events and reads none."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.function.json).Statement :
      try(contains(s.Condition.ArnLike["lambda:SourceFunctionArn"], "arn:aws:lambda:eu-west-1:123456789012:function:ingest-test-ingest"), false) if !contains(["Tracing", "PayloadKey"], s.Sid)
    ])
    error_message = "Every grant but X-Ray and the payload key (used by S3, not by the function's code) is tied to this function's own requests."
  }

  assert {
    condition = { for s in jsondecode(data.aws_iam_policy_document.function.json).Statement : s.Sid => [s.Resource, try(s.Condition.StringEquals["kms:ViaService"], null)] if startswith(s.Sid, "Payload") } == {
      PayloadObjects = ["arn:aws:s3:::ingest-test-payloads-123456789012/payloads/*", null]
      PayloadKey     = [var.payloads.kms_key_arn, "s3.eu-west-1.amazonaws.com"]
    }
    error_message = "The rendered policy reaches only the payload bucket's payloads/ objects, and its key only through S3."
  }
}
