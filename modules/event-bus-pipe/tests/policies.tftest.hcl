# The pipe role's policies at plan time: Terraform renders them itself (jsonencode, every ARN built
# from the stream's), so a mock provider serves and nothing is looked up. scripts/tf/iam_lint.py
# lints the documents these runs render.
mock_provider "aws" {}

variables {
  environment = { name = "ingest-test", stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-test-events/stream/2026-01-01T00:00:00.000" }
}

run "rendered_pipe_policies" {
  command = plan

  assert {
    condition = toset(flatten([for s in jsondecode(module.role[0].policy).Statement : s.Resource])) == toset([
      "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-test-events/stream/*",
      "*",
      "arn:aws:events:eu-west-1:123456789012:event-bus/ingest-test-events",
      "arn:aws:sqs:eu-west-1:123456789012:ingest-test-pipe-dlq",
    ])
    error_message = "The pipe role reads this table's stream, puts to this bus and its dead-letter queue only (ListStreams has no resource-level permissions)."
  }

  assert {
    condition = jsonencode({
      for s in jsondecode(module.role[0].policy).Statement : s.Sid => sort(flatten([s.Action]))
      }) == jsonencode({
      DeadLetters   = ["sqs:SendMessage"]
      ListStreams   = ["dynamodb:ListStreams"]
      PutEvents     = ["events:PutEvents"]
      ReadTheStream = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    })
    error_message = "Stream reads, PutEvents and SendMessage: nothing more."
  }

  assert {
    condition     = jsondecode(module.role[0].assume_role_policy).Statement[0].Condition == { ArnEquals = { "aws:SourceArn" = "arn:aws:pipes:eu-west-1:123456789012:pipe/ingest-test-events" }, StringEquals = { "aws:SourceAccount" = "123456789012" } }
    error_message = "Only this pipe, in this account, may assume the role."
  }
}
