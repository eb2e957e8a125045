# The key and topic policies as the real provider renders them, at plan time and offline: the
# credentials are fake ones from the environment (make tf-test and scripts/tf/iam_lint.py set
# them) and there is no account lookup. scripts/tf/iam_lint.py lints the documents these runs
# render.
provider "aws" {
  region                      = "eu-west-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
}

run "rendered_key_and_topic_policies" {
  command = plan

  variables {
    service = { name = "ingest-test", function_name = "ingest-test-ingest", api_id = "abc123", table_name = "ingest-test-events" }
    topic   = { key_administrator_arns = ["arn:aws:iam::123456789012:role/ingest-test-github-apply"] }
  }

  # The caller identity is the only lookup the policies need.
  override_data {
    target = data.aws_caller_identity.current
    values = { account_id = "123456789012" }
  }

  assert {
    condition = alltrue([
      for s in jsondecode(data.aws_iam_policy_document.this["topic"].json).Statement :
      s.Condition.StringEquals["aws:SourceAccount"] == "123456789012" && s.Condition.ArnLike["aws:SourceArn"] == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:ingest-test-*"
      if s.Effect == "Allow"
    ])
    error_message = "The rendered topic policy lets only this account's alarms publish."
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.this["topic"].json).Statement[0].Resource == "arn:aws:sns:eu-west-1:123456789012:ingest-test-alarms"
    error_message = "The topic policy names the topic's own ARN, known at plan time."
  }
}
