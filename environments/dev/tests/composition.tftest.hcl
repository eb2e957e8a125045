# The dev environment as committed: environments/shared (modules/ingest-stack) with dev's
# terraform.tfvars, planned with the mock provider (tests/tooling/terraform/mocks). How the modules
# are wired is tested in modules/ingest-stack.
mock_provider "aws" {
  source = "../../tests/tooling/terraform/mocks"
}

variables {
  # The package itself is not needed to check the composition.
  artifact_path = "../../modules/ingest-function/tests/fixtures/artifact.zip"
}

run "the_committed_values_plan" {
  command = apply

  assert {
    condition     = output.stack.table_name == "ingest-dev-events" && output.stack.function_name == "ingest-dev-ingest"
    error_message = "Every resource is named PROJECT-ENV-*, ENV from terraform.tfvars."
  }

  assert {
    condition     = output.stack.dashboard_url == "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=ingest-dev" && output.stack.alarm_topic_arn == "arn:aws:sns:eu-west-1:123456789012:ingest-dev-alarms"
    error_message = "The outputs pass the stack's through."
  }

  assert {
    condition     = output.stack.custom_domain_target == null && output.api_endpoint == output.stack.api_endpoint && startswith(output.api_endpoint, "https://")
    error_message = "No custom domain unless one is configured."
  }
}

# A misspelt input would otherwise be dropped silently.
run "rejects_unknown_stack_inputs_and_a_malformed_account" {
  command = plan

  variables {
    stack = {
      environment = "dev"
      events      = { retention_days = 7, deletion_protection = false }
      logs        = { retention_days = 14 }
      api         = { throttling_rate_limit = 50, throttling_burst_limit = 100 }
      alarm       = { thresholds = { lambda_errors = 5 } }
    }
    allowed_account_ids = ["12345"]
  }

  # The region is dev's own (eu-west-1): the account alone fails aws_region's check.
  expect_failures = [var.stack, var.aws_region]
}

run "rejects_a_malformed_region" {
  command = plan

  variables {
    aws_region = "eu-west"
  }

  expect_failures = [var.aws_region]
}
