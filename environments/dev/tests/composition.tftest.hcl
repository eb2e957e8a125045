# The composed dev environment, planned with a mock provider and the committed terraform.tfvars.
mock_provider "aws" {
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
      arn = "arn:aws:iam::123456789012:role/ingest-dev-ingest-role"
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
}

variables {
  # The package itself is not needed to check the composition.
  artifact_path = "../../modules/ingest-function/tests/fixtures/artifact.zip"
}

run "modules_are_wired_together" {
  command = apply

  assert {
    condition     = module.event_store.table_name == "ingest-dev-events" && module.ingest_function.function_name == "ingest-dev-ingest"
    error_message = "Every resource is named PROJECT-ENV-*."
  }

  assert {
    condition     = module.ingest_function.environment_variables["EVENTS_TABLE"] == module.event_store.table_name && module.ingest_function.environment_variables["RETENTION_DAYS"] == "7"
    error_message = "The function is configured with the environment's table and retention."
  }

  assert {
    condition     = module.ingest_function.permissions_boundary_arn == "arn:aws:iam::123456789012:policy/ingest-dev-boundary"
    error_message = "The function role carries the boundary the deploy role requires."
  }

  assert {
    condition     = module.alarms.alarm_names["storage_unavailable"] == "ingest-dev-storage-unavailable"
    error_message = "Alarms are created for the environment."
  }

  assert {
    condition     = module.ingest_function.role_arn == "arn:aws:iam::123456789012:role/ingest-dev-ingest-role"
    error_message = "The function has its own role."
  }
}

run "the_deploy_role_can_manage_what_the_environment_creates" {
  command = apply

  assert {
    condition     = module.ingest_function.role_arn == "arn:aws:iam::123456789012:role/ingest-dev-ingest-role" && output.function_name == "ingest-dev-ingest"
    error_message = "The environment's names stay PROJECT-ENV-*."
  }

  assert {
    condition     = module.ingest_function.permissions_boundary_arn == "arn:aws:iam::123456789012:policy/ingest-dev-boundary"
    error_message = "The function role carries the environment's boundary."
  }

  assert {
    condition     = module.alarms.kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "The alarm topic is encrypted with the environment's own key."
  }
}

run "the_function_role_lives_under_the_environment_path" {
  command = plan

  assert {
    condition     = module.ingest_function.role_name == "ingest-dev-ingest-role"
    error_message = "The function role is named PROJECT-ENV-*."
  }
}

# Finding: inline secrets in var.sources reached the Lambda environment, the state and the plan comment.
run "rejects_inline_secrets" {
  command = plan

  variables {
    sources = "{\"sources\":{\"devices\":{\"scheme\":\"hmac-sha256\",\"secrets\":[\"s3cr3t\"]}}}"
  }

  expect_failures = [var.sources]
}

run "rejects_secrets_and_parameters_of_another_environment" {
  command = plan

  variables {
    sources                = "{\"sources\":{\"github\":{\"scheme\":\"github\",\"secret_id\":\"ingest-prod/webhooks/github\"}}}"
    secret_arns            = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-prod/webhooks/github-AbCdEf"]
    sources_parameter_name = "/ingest/sources"
  }

  expect_failures = [var.sources, var.secret_arns, var.sources_parameter_name]
}

run "accepts_the_environment_own_secrets_and_parameter" {
  command = plan

  variables {
    sources                = "{\"sources\":{\"github\":{\"scheme\":\"github\",\"secret_id\":\"ingest-dev/webhooks/github\"},\"billing\":{\"scheme\":\"standard-webhooks\",\"secret_id\":\"arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-dev/webhooks/billing-AbCdEf\"}}}"
    secret_arns            = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-dev/webhooks/github-AbCdEf"]
    sources_parameter_name = "/ingest-dev/sources"
  }

  assert {
    condition     = module.ingest_function.environment_variables["SOURCES"] == "ssm:/ingest-dev/sources"
    error_message = "SOURCES names the environment's parameter."
  }
}

# Finding: ingest-dev-* also matched an environment named dev-eu.
run "rejects_an_environment_name_that_extends_another" {
  command = plan

  variables {
    environment = "dev-eu"
    project     = "in-gest"
  }

  expect_failures = [var.environment, var.project]
}
