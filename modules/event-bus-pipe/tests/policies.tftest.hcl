# The pipe role's policies as the real provider renders them, at plan time and offline (fake
# credentials from make tf-test and scripts/tf/iam_lint.py, no account lookup). The lint reads the
# documents these runs render.
provider "aws" {
  region                      = "eu-west-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
}

variables {
  name       = "ingest-test"
  stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-test-events/stream/2026-01-01T00:00:00.000"
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

run "rendered_pipe_policies" {
  command = plan

  assert {
    condition = toset(flatten([for s in jsondecode(data.aws_iam_policy_document.pipe.json).Statement : s.Resource])) == toset([
      "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-test-events/stream/*",
      "*",
      "arn:aws:events:eu-west-1:123456789012:event-bus/ingest-test-events",
      "arn:aws:sqs:eu-west-1:123456789012:ingest-test-pipe-dlq",
    ])
    error_message = "The pipe role reads this table's stream, puts to this bus and its dead-letter queue only (ListStreams has no resource-level permissions)."
  }

  assert {
    condition = jsonencode({
      for s in jsondecode(data.aws_iam_policy_document.pipe.json).Statement : s.Sid => sort(flatten([s.Action]))
      }) == jsonencode({
      ReadTheStream = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
      ListStreams   = ["dynamodb:ListStreams"]
      PutEvents     = ["events:PutEvents"]
      DeadLetters   = ["sqs:SendMessage"]
    })
    error_message = "Stream reads, PutEvents and SendMessage: nothing more."
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.assume.json).Statement[0].Condition.ArnEquals["aws:SourceArn"] == "arn:aws:pipes:eu-west-1:123456789012:pipe/ingest-test-events"
    error_message = "Only this pipe may assume the role."
  }
}
