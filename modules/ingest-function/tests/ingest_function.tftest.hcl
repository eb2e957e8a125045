mock_provider "aws" {
  source = "../../tests/tooling/terraform/mocks"

  mock_resource "aws_iam_role" { defaults = { arn = "arn:aws:iam::123456789012:role/ingest-test-ingest-role" } }
  mock_resource "aws_cloudwatch_log_group" { defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/ingest-test-ingest" } }
}

variables {
  function = { name = "ingest-test-ingest", artifact_path = "tests/fixtures/artifact.zip" }
  table    = { name = "ingest-test-events" }
}

run "function_matches_the_package" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.runtime == trimspace(file("lambda-runtime.txt")) && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "The package ships CPython 3.11 bytecode and aarch64 wheels: python3.11 on arm64."
  }

  assert {
    condition     = aws_lambda_function.this.handler == "ingest.handler.lambda_handler"
    error_message = "Handler path is fixed by the service."
  }

  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/fixtures/artifact.zip")
    error_message = "source_code_hash comes from the artifact."
  }

  assert {
    condition     = aws_lambda_function.this.timeout == 10 && aws_lambda_function.this.memory_size == 512
    error_message = "Defaults: 10 s, 512 MB."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON"
    error_message = "Logs are JSON."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "INFO" && aws_lambda_function.this.logging_config[0].system_log_level == "WARN"
    error_message = "Lambda admits the service's INFO lines (each carries its request's metrics) and no platform record per request."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/ingest-test-ingest" && aws_cloudwatch_log_group.this.retention_in_days == 30
    error_message = "The function logs to its own log group with retention."
  }

  assert {
    condition = aws_lambda_function.this.environment[0].variables == tomap({
      EVENTS_TABLE                 = "ingest-test-events"
      SOURCES                      = "{\"sources\":{}}"
      RETENTION_DAYS               = "30"
      POWERTOOLS_SERVICE_NAME      = "ingest"
      POWERTOOLS_METRICS_NAMESPACE = "Ingest"
      POWERTOOLS_LOG_LEVEL         = "INFO"
      LISTING_SHARDS               = "16"
      POWERTOOLS_TRACE_DISABLED    = "true"
    })
    error_message = "Environment must be exactly the documented variables (tracing off)."
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "PassThrough"
    error_message = "X-Ray is off by default."
  }
}

run "least_privilege" {
  command = apply

  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : s.sid] == ["WriteEvents", "OwnLogGroup"] && !contains(keys(aws_lambda_function.this.environment[0].variables), "PAYLOAD_BUCKET")
    error_message = "Without secrets, parameter, payload bucket or tracing the role may only write events and logs."
  }

  # Finding: the role granted dynamodb:GetItem, which the code never calls (ingest.adapters.dynamodb:
  # the function only put_item and batch_write_item; reads are the CLI's, with human credentials).
  assert {
    condition     = toset(data.aws_iam_policy_document.function.statement[0].actions) == toset(["dynamodb:PutItem", "dynamodb:BatchWriteItem"])
    error_message = "DynamoDB actions are exactly PutItem and BatchWriteItem: the function never reads events."
  }

  assert {
    condition = alltrue(flatten([
      for s in data.aws_iam_policy_document.function.statement : [
        for a in s.actions : !can(regex("^dynamodb:(Get|Query|Scan|BatchGet|PartiQL|Describe|List|\\*)", a))
      ]
    ]))
    error_message = "No statement grants a DynamoDB read."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.function.statement : anytrue([
        for c in s.condition : c.variable == "lambda:SourceFunctionArn" && contains(c.values, "arn:aws:lambda:eu-west-1:123456789012:function:ingest-test-ingest")
      ])
    ])
    error_message = "Every grant requires the request to come from this function: its credentials are useless elsewhere."
  }

  assert {
    condition     = toset(data.aws_iam_policy_document.function.statement[0].resources) == toset(["arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-test-events"])
    error_message = "DynamoDB access is on the table ARN only (not its indexes, not *)."
  }

  assert {
    condition     = toset(data.aws_iam_policy_document.function.statement[1].resources) == toset(["${aws_cloudwatch_log_group.this.arn}:*"])
    error_message = "Logs go to the function's own log group only."
  }

  assert {
    condition     = aws_iam_role.this.permissions_boundary == null && aws_iam_role.this.path == "/"
    error_message = "No permissions boundary unless given; the root path by default."
  }
}

run "secrets_parameter_and_tracing" {
  command = apply

  variables {
    sources = {
      document      = "ssm:/ingest/test/sources"
      parameter_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/ingest/test/sources"
      secret_arns   = ["arn:aws:secretsmanager:eu-west-1:123456789012:secret:github-AbCdEf"]
    }
    function = { name = "ingest-test-ingest", artifact_path = "tests/fixtures/artifact.zip", tracing_enabled = true }
    role     = { path = "/ingest-test/", permissions_boundary_arn = "arn:aws:iam::123456789012:policy/ingest-test-boundary" }
    payloads = { name = "ingest-test-payloads", arn = "arn:aws:s3:::ingest-test-payloads", kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
  }

  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : s.sid] == ["WriteEvents", "OwnLogGroup", "WebhookSecrets", "SourcesParameter", "PayloadObjects", "PayloadKey", "Tracing"]
    error_message = "Each optional grant appears only with its input."
  }

  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.function.statement :
      s.sid == "WebhookSecrets" ? toset(s.actions) == toset(["secretsmanager:GetSecretValue"]) && toset(s.resources) == toset(var.sources.secret_arns) :
      s.sid == "SourcesParameter" ? toset(s.actions) == toset(["ssm:GetParameter"]) && toset(s.resources) == toset([var.sources.parameter_arn]) :
      s.sid == "PayloadObjects" ? toset(s.actions) == toset(["s3:PutObject"]) && toset(s.resources) == toset(["arn:aws:s3:::ingest-test-payloads/payloads/*"]) :
      s.sid == "PayloadKey" ? toset(s.actions) == toset(["kms:GenerateDataKey"]) && toset(s.resources) == toset([var.payloads.kms_key_arn]) && [for c in s.condition : "${c.test} ${c.variable} ${join(",", c.values)}"] == ["StringEquals kms:ViaService s3.eu-west-1.amazonaws.com"] :
      true
    ])
    error_message = "Secrets, the parameter and the payload bucket's objects are granted on their exact ARNs (payloads are put under payloads/, never read, listed or deleted: the function reads no event), the bucket's key only through S3."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["PAYLOAD_BUCKET"] == "ingest-test-payloads"
    error_message = "PAYLOAD_BUCKET names the claim-check bucket."
  }

  assert {
    condition     = !contains(keys(aws_lambda_function.this.environment[0].variables), "POWERTOOLS_TRACE_DISABLED") && aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "Tracing on: Active mode, Powertools tracing enabled."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["SOURCES"] == "ssm:/ingest/test/sources"
    error_message = "SOURCES passes ssm:NAME through."
  }

  assert {
    condition     = aws_iam_role.this.permissions_boundary == var.role.permissions_boundary_arn && aws_iam_role.this.path == "/ingest-test/"
    error_message = "The permissions boundary is attached and the role lives under the path, when given."
  }
}

run "sampled_debug_and_more_shards" {
  command = plan

  variables {
    table = { name = "ingest-test-events", listing_shards = 32 }
    logs  = { level = "INFO", debug_sample_rate = 0.01, system_level = "INFO" }
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "DEBUG" && aws_lambda_function.this.logging_config[0].system_log_level == "INFO"
    error_message = "Sampled debug lines need Lambda to admit DEBUG; the service keeps its own level."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables["POWERTOOLS_LOGGER_SAMPLE_RATE"] == "0.01" && aws_lambda_function.this.environment[0].variables["POWERTOOLS_LOG_LEVEL"] == "INFO" && aws_lambda_function.this.environment[0].variables["LISTING_SHARDS"] == "32"
    error_message = "The sample rate, the service's level and the shard count reach the function."
  }
}

run "accepts_secret_ids" {
  command = plan

  variables {
    sources = { document = "{\"sources\":{\"github\":{\"scheme\":\"github\",\"secret_id\":\"ingest-test/webhooks/github\"},\"open\":{\"scheme\":\"none\",\"secrets\":[]}}}" }
  }
}

# Each run breaks several inputs, each by one rule, so that every rule is seen failing on its own.
# Finding: inline "secrets" in the sources document would sit in the Lambda environment, the state
# and the plan comment of every pull request.
run "rejects_a_tarball_bad_json_an_odd_retention_and_a_wildcard_bucket" {
  command = plan

  variables {
    function = { name = "ingest-test-ingest", artifact_path = "dist/ingest.tar.gz" }
    sources  = { document = "not json" }
    logs     = { retention_days = 10 }
    payloads = { name = "ingest-test-payloads", arn = "arn:aws:s3:::ingest-test-*" }
  }

  expect_failures = [var.function, var.sources, var.logs, var.payloads]
}

run "rejects_a_long_timeout_inline_secrets_too_many_shards_and_a_sample_rate_over_one" {
  command = plan

  variables {
    function = { name = "ingest-test-ingest", artifact_path = "tests/fixtures/artifact.zip", timeout = 60 }
    sources  = { document = "{\"sources\":{\"devices\":{\"scheme\":\"hmac-sha256\",\"secrets\":[\"s3cr3t\"]}}}" }
    table    = { name = "ingest-test-events", listing_shards = 65 }
    logs     = { debug_sample_rate = 2 }
  }

  expect_failures = [var.function, var.sources, var.table, var.logs]
}

run "rejects_too_little_memory_wildcard_secrets_an_unknown_log_level_and_a_bad_role_path" {
  command = plan

  variables {
    role     = { path = "ingest-test" }
    logs     = { level = "TRACE" }
    function = { name = "ingest-test-ingest", artifact_path = "tests/fixtures/artifact.zip", memory_size = 64 }
    sources  = { secret_arns = ["*"] }
  }

  expect_failures = [var.role, var.logs, var.function, var.sources]
}

run "rejects_a_negative_reservation_a_parameter_name_a_log_key_alias_a_role_for_a_boundary_and_a_table_name_with_spaces" {
  command = plan

  variables {
    function = { name = "ingest-test-ingest", artifact_path = "tests/fixtures/artifact.zip", reserved_concurrency = -1 }
    sources  = { document = "ssm:/ingest-test/sources", parameter_arn = "/ingest-test/sources" }
    logs     = { kms_key_arn = "alias/aws/logs" }
    role     = { permissions_boundary_arn = "arn:aws:iam::123456789012:role/ingest-test-boundary" }
    table    = { name = "ingest test events" }
  }

  expect_failures = [var.function, var.sources, var.logs, var.role, var.table]
}
