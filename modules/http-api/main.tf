locals {
  # The routes are declared explicitly, one ANY route per path, and there is no $default route:
  # API Gateway answers unknown paths (404) without invoking the function; the function answers
  # 405 (with Allow) for a known path with another method.
  routes = {
    events   = "ANY /events"
    webhooks = "ANY /webhooks/{source}"
    health   = "ANY /health"
  }
  jwt = var.jwt_authorizer != null
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.api.name
  protocol_type = "HTTP"
  description   = "Event ingestion"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "lambda" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = var.function.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = var.function.timeout_ms
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count            = local.jwt ? 1 : 0
  api_id           = aws_apigatewayv2_api.this.id
  name             = "${var.api.name}-jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.jwt_authorizer.issuer
    audience = var.jwt_authorizer.audience
  }
}

resource "aws_apigatewayv2_route" "this" {
  #checkov:skip=CKV_AWS_309:Webhooks are authenticated by their provider's signature inside the function and /health is public by design; /events takes the optional JWT authorizer.
  for_each  = local.routes
  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.value
  target    = "integrations/${aws_apigatewayv2_integration.lambda.id}"

  authorization_type = each.key == "events" && local.jwt ? "JWT" : "NONE"
  authorizer_id      = each.key == "events" && local.jwt ? aws_apigatewayv2_authorizer.jwt[0].id : null
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; a customer key is the log_kms_key_arn input.
  #checkov:skip=CKV_AWS_338:Retention is the access_log_retention_days input, chosen per environment.
  name              = "/aws/apigateway/${var.api.name}"
  retention_in_days = var.access_logs.retention_days
  kms_key_id        = var.access_logs.kms_key_arn
  log_group_class   = var.access_logs.log_group_class
  tags              = var.tags

  lifecycle {
    # A log group's class is set when it is created; changing it replaces the group and deletes
    # its logs. An existing group keeps its class until replaced on purpose (docs/cost.md).
    ignore_changes = [log_group_class]
  }
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.api.rate_limit
    throttling_burst_limit = var.api.burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    # One lean line per request (access-log-format.json; the cost model measures it): what the
    # function's own line does not say, for every request, the ones it never sees included.
    format = jsonencode(merge(
      jsondecode(file("${path.module}/access-log-format.json")),
      local.jwt ? { authorizerError = "$context.authorizer.error" } : {},
    ))
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "AllowInvokeFromHttpApi"
  action        = "lambda:InvokeFunction"
  function_name = var.function.name
  principal     = "apigateway.amazonaws.com"
  # Only this API (any stage, any route) may invoke the function.
  source_arn = "${aws_apigatewayv2_api.this.execution_arn}/*"
}

resource "aws_apigatewayv2_domain_name" "this" {
  count       = var.custom_domain == null ? 0 : 1
  domain_name = var.custom_domain.domain_name

  domain_name_configuration {
    certificate_arn = var.custom_domain.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }

  tags = var.tags
}

resource "aws_apigatewayv2_api_mapping" "this" {
  count       = var.custom_domain == null ? 0 : 1
  api_id      = aws_apigatewayv2_api.this.id
  domain_name = aws_apigatewayv2_domain_name.this[0].id
  stage       = aws_apigatewayv2_stage.default.id
}
