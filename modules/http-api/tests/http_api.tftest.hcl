mock_provider "aws" {
  source = "../../tests/tooling/terraform/mocks"

  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
    }
  }

  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/apigateway/ingest-test-http"
    }
  }
}

variables {
  api = { name = "ingest-test-http", rate_limit = 50, burst_limit = 100 }
  function = {
    name       = "ingest-test-ingest"
    invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:ingest-test-ingest/invocations"
  }
}

run "routes_payload_and_throttling" {
  command = apply

  assert {
    condition     = aws_apigatewayv2_api.this.protocol_type == "HTTP"
    error_message = "An HTTP API."
  }

  assert {
    condition     = aws_apigatewayv2_integration.lambda.payload_format_version == "2.0" && aws_apigatewayv2_integration.lambda.integration_type == "AWS_PROXY"
    error_message = "Lambda proxy integration with payload format 2.0."
  }

  # Contract v2: the routes are explicit and there is no $default route, so API Gateway answers
  # unknown paths (404) and they never invoke the function.
  assert {
    condition     = toset([for r in aws_apigatewayv2_route.this : r.route_key]) == toset(["ANY /events", "ANY /webhooks/{source}", "ANY /health"])
    error_message = "Routes: exactly ANY /events, ANY /webhooks/{source} and ANY /health."
  }

  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : r.route_key != "$default" && !strcontains(r.route_key, "{proxy+}")])
    error_message = "No $default (or greedy) route: unknown paths never reach the function."
  }

  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : r.target == "integrations/${aws_apigatewayv2_integration.lambda.id}"])
    error_message = "Every declared route goes to the function."
  }

  assert {
    condition     = alltrue([for r in aws_apigatewayv2_route.this : r.authorization_type == "NONE"])
    error_message = "Without a JWT authorizer no route is authorized by API Gateway."
  }

  assert {
    condition     = aws_apigatewayv2_stage.default.name == "$default" && aws_apigatewayv2_stage.default.auto_deploy
    error_message = "The $default stage deploys automatically."
  }

  assert {
    condition     = aws_apigatewayv2_stage.default.default_route_settings[0].throttling_rate_limit == 50 && aws_apigatewayv2_stage.default.default_route_settings[0].throttling_burst_limit == 100
    error_message = "Default route throttling comes from the inputs."
  }

  assert {
    condition     = can(jsondecode(aws_apigatewayv2_stage.default.access_log_settings[0].format).requestId) && aws_apigatewayv2_stage.default.access_log_settings[0].destination_arn == aws_cloudwatch_log_group.access.arn
    error_message = "JSON access logs go to the module's log group."
  }

  assert {
    condition     = jsondecode(aws_apigatewayv2_stage.default.access_log_settings[0].format) == jsondecode(file("access-log-format.json")) && aws_cloudwatch_log_group.access.log_group_class == "INFREQUENT_ACCESS"
    error_message = "The access log line is access-log-format.json (no authorizerError without an authorizer), in an Infrequent Access log group."
  }

  assert {
    condition     = aws_lambda_permission.api.source_arn == "arn:aws:execute-api:eu-west-1:123456789012:abc123/*" && aws_lambda_permission.api.principal == "apigateway.amazonaws.com"
    error_message = "The invoke permission is scoped to this API's execution ARN."
  }

  assert {
    condition     = length(aws_apigatewayv2_domain_name.this) == 0 && length(aws_apigatewayv2_authorizer.jwt) == 0
    error_message = "No custom domain and no authorizer unless asked for."
  }
}

run "jwt_only_on_the_events_route" {
  command = apply

  variables {
    jwt_authorizer = {
      issuer   = "https://auth.example.com/"
      audience = ["ingest"]
    }
    custom_domain = {
      domain_name     = "events.example.com"
      certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/1234abcd-12ab-34cd-56ef-1234567890ab"
    }
  }

  assert {
    condition     = aws_apigatewayv2_route.this["events"].authorization_type == "JWT" && aws_apigatewayv2_route.this["events"].authorizer_id == aws_apigatewayv2_authorizer.jwt[0].id
    error_message = "ANY /events uses the JWT authorizer."
  }

  assert {
    condition     = jsondecode(aws_apigatewayv2_stage.default.access_log_settings[0].format).authorizerError == "$context.authorizer.error"
    error_message = "With an authorizer, the access log line says why it refused a request."
  }

  assert {
    condition     = alltrue([for k, r in aws_apigatewayv2_route.this : r.authorization_type == "NONE" if k != "events"])
    error_message = "Webhooks and health stay unauthenticated at the gateway (webhooks are verified by signature)."
  }

  assert {
    condition     = aws_apigatewayv2_domain_name.this[0].domain_name_configuration[0].security_policy == "TLS_1_2"
    error_message = "The custom domain requires TLS 1.2."
  }
}

run "rejects_bad_inputs" {
  command = plan

  variables {
    api         = { name = "ingest-test-http", rate_limit = 50, burst_limit = 0 }
    access_logs = { retention_days = 8, log_group_class = "DELIVERY" }
    jwt_authorizer = {
      issuer   = "http://insecure.example.com"
      audience = []
    }
    custom_domain = {
      domain_name     = "events.example.com"
      certificate_arn = "not-an-arn"
    }
  }

  expect_failures = [var.api, var.access_logs, var.jwt_authorizer, var.custom_domain]
}

run "rejects_a_log_key_alias_an_integration_timeout_and_a_fractional_burst" {
  command = plan

  variables {
    access_logs = { kms_key_arn = "alias/aws/logs" }
    api         = { name = "ingest-test-http", rate_limit = 0.5, burst_limit = 1.5 }
    function = {
      name       = "ingest-test-ingest"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:ingest-test-ingest/invocations"
      timeout_ms = 30001
    }
  }

  expect_failures = [var.access_logs, var.api, var.function]
}
