# The composition of one environment, planned with the mock provider
# (tests/tooling/terraform/mocks).
mock_provider "aws" {
  source = "../../tests/tooling/terraform/mocks"

  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-dev-events"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-dev-events/stream/2026-11-30T00:00:00.000"
    }
  }
}

variables {
  environment   = "dev"
  artifact_path = "../ingest-function/tests/fixtures/artifact.zip"
  events        = { retention_days = 7, deletion_protection = false }
  logs          = { retention_days = 14, level = "DEBUG" }
  api           = { throttling_rate_limit = 50, throttling_burst_limit = 100 }
  alarms        = { thresholds = { lambda_errors = 5 } }
}

run "modules_are_wired_together" {
  command = apply

  assert {
    condition     = module.event_store.table_name == "ingest-dev-events" && module.ingest_function.function_name == "ingest-dev-ingest" && output.table_name == "ingest-dev-events" && output.function_name == "ingest-dev-ingest"
    error_message = "Every resource is named PROJECT-ENV-*."
  }

  assert {
    condition     = module.ingest_function.environment_variables["EVENTS_TABLE"] == module.event_store.table_name && module.ingest_function.environment_variables["RETENTION_DAYS"] == "7" && module.ingest_function.environment_variables["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    error_message = "The function is configured with the environment's table, retention and log level."
  }

  assert {
    condition     = module.ingest_function.permissions_boundary_arn == "arn:aws:iam::123456789012:policy/ingest-dev-boundary" && module.alarms.kms_key_arn == "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "The deploy role can manage what the environment creates: the function role carries its boundary, the alarm topic is encrypted with the environment's own key."
  }

  assert {
    condition     = module.alarms.alarm_names["storage_unavailable"] == "ingest-dev-storage-unavailable" && length(module.alarms.alarm_names) == 8
    error_message = "Alarms are created for the environment."
  }

  assert {
    condition     = module.ingest_function.role_arn == "arn:aws:iam::123456789012:role/ingest-dev/ingest-dev-ingest-role" && module.ingest_function.role_name == "ingest-dev-ingest-role"
    error_message = "The function has its own role, named PROJECT-ENV-* under the environment's path."
  }

  assert {
    condition     = module.event_store.payload_bucket.name == "ingest-dev-payloads-123456789012" && module.ingest_function.environment_variables["PAYLOAD_BUCKET"] == module.event_store.payload_bucket.name
    error_message = "The environment's claim-check bucket is PROJECT-ENV-payloads-ACCOUNT, and the function is told its name."
  }

  assert {
    condition     = output.api_endpoint == "https://abc123.execute-api.eu-west-1.amazonaws.com" && output.dashboard_url == "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=ingest-dev"
    error_message = "The outputs name the API and the environment's dashboard in its region."
  }
}

run "without_the_bootstrap_no_boundary" {
  command = plan

  variables {
    use_permissions_boundary = false
  }

  assert {
    condition     = module.ingest_function.permissions_boundary_arn == null
    error_message = "Without the bootstrap's roles the function role carries no boundary."
  }
}
# Finding: inline secrets in the sources document reached the Lambda environment, the state and the
# plan comment.
run "rejects_inline_secrets" {
  command = plan

  variables {
    webhooks = { sources = jsonencode({ sources = { devices = { scheme = "hmac-sha256", secrets = ["s3cr3t"] } } }) }
  }

  expect_failures = [var.webhooks]
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

run "rejects_a_secret_of_another_environment" {
  command = plan

  variables {
    webhooks = { sources = jsonencode({ sources = { github = { scheme = "github", secret_id = "ingest-prod/webhooks/github" } } }) }
  }

  expect_failures = [var.webhooks]
}

run "rejects_a_secret_arn_of_another_environment" {
  command = plan

  variables {
    webhooks = { secret_arns = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-prod/webhooks/github-AbCdEf"] }
  }

  expect_failures = [var.webhooks]
}

# The deploy roles are keyed "plan" and by environment (modules/github-oidc).
run "rejects_reserved_environment_names" {
  command = plan

  variables {
    environment = "plan"
  }

  expect_failures = [var.environment]
}

run "rejects_a_parameter_outside_the_environment" {
  command = plan

  variables {
    webhooks = { sources_parameter_name = "/ingest/sources" }
  }

  expect_failures = [var.webhooks]
}

run "accepts_the_environment_own_secrets_and_parameter" {
  command = plan

  variables {
    webhooks = {
      sources                = "{\"sources\":{\"github\":{\"scheme\":\"github\",\"secret_id\":\"ingest-dev/webhooks/github\"},\"billing\":{\"scheme\":\"standard-webhooks\",\"secret_id\":\"arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-dev/webhooks/billing-AbCdEf\"}}}"
      secret_arns            = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-dev/webhooks/github-AbCdEf"]
      sources_parameter_name = "/ingest-dev/sources"
    }
  }

  assert {
    condition     = module.ingest_function.environment_variables["SOURCES"] == "ssm:/ingest-dev/sources"
    error_message = "SOURCES names the environment's parameter."
  }
}

run "consumers_are_off_by_default" {
  command = plan

  assert {
    condition     = length(module.consumers) == 0 && output.consumers_bus_name == null
    error_message = "No pipe, bus or queue unless an environment turns consumers on."
  }
}

run "consumers_read_the_table_stream_into_the_environment_bus" {
  command = apply

  variables {
    consumers = { enabled = true, filters = { source_prefixes = ["github"] }, example_queue = { enabled = true } }
  }

  assert {
    condition     = module.consumers[0].bus_name == "ingest-dev-events" && output.consumers_bus_name == "ingest-dev-events"
    error_message = "The bus is the environment's, named PROJECT-ENV-*."
  }

  assert {
    condition     = module.consumers[0].stream_arn == module.event_store.stream_arn
    error_message = "The pipe reads this environment's table stream."
  }

  assert {
    condition     = endswith(module.consumers[0].role_arn, ":role/ingest-dev-events-pipe")
    error_message = "With the bootstrap's deploy roles, the pipe runs with the bootstrap's pipe role (the only one the apply role may pass to Pipes)."
  }
}