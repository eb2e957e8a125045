# The pipe's execution role, one definition for both of its owners: modules/event-bus-pipe creates
# it for an account without the bootstrap, and the bootstrap (modules/github-oidc) creates one per
# environment, out of the deploy roles' reach (docs/decisions/0031-pipe-role-from-the-bootstrap.md).
# Every ARN comes in built from names, so both documents are known at plan time.
locals {
  # This table's streams, this bus, this dead-letter queue, nothing else. ListStreams has no
  # resource-level permissions (it names the account's streams, never a record): EventBridge Pipes
  # documents it among a DynamoDB source's permissions.
  grants = {
    ReadTheStream = { actions = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"], resources = [var.grants.stream_arns] }
    ListStreams   = { actions = ["dynamodb:ListStreams"], resources = ["*"] }
    PutEvents     = { actions = ["events:PutEvents"], resources = [var.grants.bus_arn] }
    DeadLetters   = { actions = ["sqs:SendMessage"], resources = [var.grants.dead_letter_queue_arn] }
  }

  # Only this pipe, in this account, may assume the role.
  trust = {
    Effect    = "Allow"
    Principal = { Service = "pipes.amazonaws.com" }
    Action    = "sts:AssumeRole"
    Condition = { StringEquals = { "aws:SourceAccount" = split(":", var.grants.pipe_arn)[4] }, ArnEquals = { "aws:SourceArn" = var.grants.pipe_arn } }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.role.name
  path                 = var.role.path
  permissions_boundary = var.role.permissions_boundary_arn
  assume_role_policy   = jsonencode({ Version = "2012-10-17", Statement = [local.trust] })
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "stream-to-bus"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [for sid, s in local.grants : { Sid = sid, Effect = "Allow", Action = s.actions, Resource = s.resources }] })
}
