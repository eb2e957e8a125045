# What the mock provider answers in the Terraform tests of modules/ and environments/dev
# (mock_provider "aws" { source = "../../tests/tooling/terraform/mocks" }, with a test's own
# mock_resource blocks on top): account 123456789012 in eu-west-1; an empty policy document where a
# test does not look at the rendered JSON (the tests/policies.tftest.hcl runs render the real one);
# and for the resources whose computed ARNs other resources validate, the values a real apply of
# ingest-dev would compute.
mock_data "aws_iam_policy_document" {
  defaults = {
    json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
  }
}

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition = "aws"
  }
}

mock_data "aws_region" {
  defaults = {
    name = "eu-west-1"
  }
}

mock_resource "aws_dynamodb_table" {
  defaults = {
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-dev-events"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::123456789012:role/ingest-dev/ingest-dev-ingest-role"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:ingest-dev-ingest/invocations"
  }
}

mock_resource "aws_apigatewayv2_api" {
  defaults = {
    execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
    api_endpoint  = "https://abc123.execute-api.eu-west-1.amazonaws.com"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock"
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}

mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:eu-west-1:123456789012:ingest-dev-alarms"
  }
}

mock_resource "aws_cloudwatch_metric_alarm" {
  defaults = {
    arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:ingest-dev"
  }
}
