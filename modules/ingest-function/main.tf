data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  log_group_name = "/aws/lambda/${var.function.name}"

  # Built from names (not read from the resources) so the policy is known at plan time.
  arn_tail      = "${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  function_arn  = "arn:${data.aws_partition.current.partition}:lambda:${local.arn_tail}:function:${var.function.name}"
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${local.arn_tail}:log-group:${local.log_group_name}"
  table_arn     = "arn:${data.aws_partition.current.partition}:dynamodb:${local.arn_tail}:table/${var.table.name}"

  environment = merge(
    {
      EVENTS_TABLE                 = var.table.name
      SOURCES                      = var.sources.document
      RETENTION_DAYS               = tostring(var.retention_days)
      POWERTOOLS_SERVICE_NAME      = "ingest"
      POWERTOOLS_METRICS_NAMESPACE = var.function.metrics_namespace
      POWERTOOLS_LOG_LEVEL         = var.logs.level
      LISTING_SHARDS               = tostring(var.table.listing_shards)
    },
    var.function.tracing_enabled ? {} : { POWERTOOLS_TRACE_DISABLED = "true" },
    var.logs.debug_sample_rate > 0 ? { POWERTOOLS_LOGGER_SAMPLE_RATE = tostring(var.logs.debug_sample_rate) } : {},
    var.payloads == null ? {} : { PAYLOAD_BUCKET = var.payloads.name },
  )

  # The claim-check bucket: the function puts payloads under payloads/ (codec.OBJECT_PREFIX) and
  # never reads one (readers are people, with their own credentials); the bucket's key, if a
  # customer key encrypts it, only as S3 uses it for those puts. Lambda does not mark the requests
  # S3 makes to KMS with the function's ARN. docs/decisions/0034.
  payload_statements = var.payloads == null ? [] : concat(
    [{ sid = "PayloadObjects", actions = ["s3:PutObject"], resources = ["${var.payloads.arn}/payloads/*"], condition = local.from_this_function }],
    var.payloads.kms_key_arn == null ? [] : [{ sid = "PayloadKey", actions = ["kms:GenerateDataKey"], resources = [var.payloads.kms_key_arn], condition = { test = "StringEquals", variable = "kms:ViaService", values = ["s3.${data.aws_region.current.name}.amazonaws.com"] } }],
  )

  # The execution role's grants, in order, each with its input. The function only writes events
  # (PutItem, BatchWriteItem): reading them is for people, with their own credentials. Every grant
  # but X-Ray and the payload key also requires the request to come from this function
  # (lambda:SourceFunctionArn, injected by Lambda): the role's credentials are useless elsewhere.
  from_this_function = { test = "ArnLike", variable = "lambda:SourceFunctionArn", values = [local.function_arn, "${local.function_arn}:*"] }
  statements = concat(
    [{ sid = "WriteEvents", actions = ["dynamodb:BatchWriteItem", "dynamodb:PutItem"], resources = [local.table_arn], condition = local.from_this_function }],
    [{ sid = "OwnLogGroup", actions = ["logs:CreateLogStream", "logs:PutLogEvents"], resources = ["${local.log_group_arn}:*"], condition = local.from_this_function }],
    [for arns in [var.sources.secret_arns] : { sid = "WebhookSecrets", actions = ["secretsmanager:GetSecretValue"], resources = arns, condition = local.from_this_function } if length(arns) > 0],
    [for arn in compact([var.sources.parameter_arn]) : { sid = "SourcesParameter", actions = ["ssm:GetParameter"], resources = [arn], condition = local.from_this_function }],
    local.payload_statements,
    var.function.tracing_enabled ? [{ sid = "Tracing", actions = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], resources = ["*"], condition = null }] : [],
  )

  # Lambda filters what reaches CloudWatch; the service logs at logs.level (and DEBUG for sampled
  # requests: a success's line is at DEBUG). Never above INFO: the lines with EMF metrics are INFO.
  application_log_level = var.logs.level == "DEBUG" || var.logs.debug_sample_rate > 0 ? "DEBUG" : "INFO"
}

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "LambdaService"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# Least privilege on exact ARNs (local.statements): no wildcard resource except X-Ray, whose actions
# have none.
data "aws_iam_policy_document" "function" {
  dynamic "statement" {
    for_each = local.statements
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = statement.value.condition == null ? [] : [statement.value.condition]
        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = "${var.function.name}-role"
  path                 = var.role.path
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.role.permissions_boundary_arn
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "ingest"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.function.json
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; a customer key is the log_kms_key_arn input.
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days input, chosen per environment (dev keeps less).
  name              = local.log_group_name
  retention_in_days = var.logs.retention_days
  kms_key_id        = var.logs.kms_key_arn
  tags              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway; a dead-letter queue only applies to asynchronous invocations.
  #checkov:skip=CKV_AWS_117:Reaches only AWS APIs with IAM auth; a VPC would add NAT or endpoint cost and cold-start latency for no isolation gain.
  #checkov:skip=CKV_AWS_173:No secrets in the environment (var.sources rejects inline secrets; they come from Secrets Manager); Lambda encrypts it at rest with an AWS managed key.
  #checkov:skip=CKV_AWS_272:Artifacts are built reproducibly in CI and deployed by Terraform; code signing would need a signing profile per account.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is the reserved_concurrency input; new accounts cannot reserve any (the unreserved pool must stay >= 10).
  #checkov:skip=CKV_AWS_50:X-Ray is the tracing_enabled input (off by default: cost; Powertools tracing is disabled with it).
  function_name                  = var.function.name
  description                    = "HTTP event ingestion (API Gateway HTTP API -> DynamoDB)"
  role                           = aws_iam_role.this.arn
  runtime                        = trimspace(file("${path.module}/lambda-runtime.txt")) # also read by scripts/package.py
  architectures                  = ["arm64"]
  handler                        = "ingest.handler.lambda_handler"
  filename                       = var.function.artifact_path
  source_code_hash               = filebase64sha256(var.function.artifact_path)
  memory_size                    = var.function.memory_size
  timeout                        = var.function.timeout
  reserved_concurrent_executions = var.function.reserved_concurrency

  environment {
    variables = local.environment
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = local.application_log_level
    system_log_level      = var.logs.system_level
  }

  tracing_config {
    mode = var.function.tracing_enabled ? "Active" : "PassThrough"
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.this]
}
