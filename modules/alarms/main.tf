data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region        = data.aws_region.current.name
  account       = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  alarm_actions = [aws_sns_topic.alarms.arn]
  # Built from names (not read from the resources) so the policies are known at plan time.
  topic_arn     = "arn:${local.partition}:sns:${local.region}:${local.account}:${var.name}-alarms"
  alarm_arn     = "arn:${local.partition}:cloudwatch:${local.region}:${local.account}:alarm:${var.name}-*"
  service_dims  = { service = "ingest" }
  function_dims = { FunctionName = var.function_name }
  api_dims      = { ApiId = var.api_id }
  table_dims    = { TableName = var.table_name }
  dynamo_ops    = ["PutItem", "BatchWriteItem", "GetItem"]
}

# CloudWatch alarms cannot publish to a topic encrypted with the AWS managed alias/aws/sns key (its key
# policy cannot grant cloudwatch.amazonaws.com), so the topic gets a customer managed key unless one is given.
data "aws_iam_policy_document" "key" {
  count = var.topic.kms_key_arn == null ? 1 : 0

  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  # The deploy role of this environment administers this key through the key policy itself: no IAM
  # policy grants it any existing key (see modules/github-oidc).
  dynamic "statement" {
    for_each = length(var.topic.key_administrator_arns) > 0 ? [1] : []
    content {
      sid = "KeyAdministration"
      actions = [
        "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:EnableKeyRotation",
        "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
        "kms:UpdateKeyDescription",
      ]
      resources = ["*"]

      principals {
        type        = "AWS"
        identifiers = var.topic.key_administrator_arns
      }
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublish"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_kms_key" "alarms" {
  count                   = var.topic.kms_key_arn == null ? 1 : 0
  description             = "${var.name} alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key[0].json
  # Untagged on purpose: tagging a key at creation needs kms:TagResource in an IAM policy on every
  # key of the account, a grant the deploy roles do not get (a tag it could set on any untagged key
  # would be worth nothing as a scope). The key is identified by its alias and administered through
  # its key policy.
  tags = {}
}

resource "aws_kms_alias" "alarms" {
  count         = var.topic.kms_key_arn == null ? 1 : 0
  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.alarms[0].key_id
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.topic.kms_key_arn == null ? aws_kms_key.alarms[0].arn : var.topic.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  # Only this account's alarms of this environment may publish (no confused deputy).
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [local.topic_arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [local.alarm_arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [local.topic_arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.topic.email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.topic.email
}

# Every alarm, by key: what it watches and when it fires. A single-metric alarm sets `metric`; a
# metric-math alarm sets `queries` (the one with an expression is the alarm's value). `threshold` is the
# default that var.thresholds overrides, within `limits` ([lowest, highest], null: no upper limit; every
# threshold is above 0); `{threshold}` in a description is replaced by the value used.
# The list order is the order of the dashboard's alarm widget.
locals {
  definitions = [
    {
      key         = "lambda_errors"
      description = "The function raised errors (unhandled exceptions, timeouts, out of memory)."
      operator    = "GreaterThanOrEqualToThreshold"
      threshold   = 1
      limits      = [1, null]
      metric      = { namespace = "AWS/Lambda", name = "Errors", dimensions = local.function_dims, stat = "Sum" }
      queries     = []
    },
    {
      key         = "lambda_throttles"
      description = "Invocations were throttled (reserved or account concurrency reached): clients saw 503/429."
      operator    = "GreaterThanOrEqualToThreshold"
      threshold   = 1
      limits      = [1, null]
      metric      = { namespace = "AWS/Lambda", name = "Throttles", dimensions = local.function_dims, stat = "Sum" }
      queries     = []
    },
    {
      key         = "api_5xx_rate"
      description = "More than {threshold}% of API responses were 5xx."
      operator    = "GreaterThanThreshold"
      threshold   = 1
      limits      = [0, 100]
      metric      = null
      queries = [
        { id = "rate", expression = "IF(requests > 0, 100 * errors / requests, 0)", label = "5xx rate (%)", metric = null },
        { id = "errors", expression = null, label = null, metric = { namespace = "AWS/ApiGateway", name = "5xx", dimensions = local.api_dims, stat = "Sum" } },
        { id = "requests", expression = null, label = null, metric = { namespace = "AWS/ApiGateway", name = "Count", dimensions = local.api_dims, stat = "Sum" } },
      ]
    },
    {
      key         = "api_latency_p99"
      description = "p99 API latency is above {threshold} ms."
      operator    = "GreaterThanThreshold"
      threshold   = 1000
      limits      = [0, 30000]
      metric      = { namespace = "AWS/ApiGateway", name = "Latency", dimensions = local.api_dims, stat = "p99" }
      queries     = []
    },
    {
      key         = "dynamodb_throttles"
      suffix      = "dynamodb-throttled-requests"
      description = "DynamoDB throttled reads or writes on the events table (the service answers 503 + Retry-After)."
      operator    = "GreaterThanOrEqualToThreshold"
      threshold   = 1
      limits      = [1, null]
      metric      = null
      queries = concat(
        [{ id = "throttles", expression = "FILL(writes, 0) + FILL(reads, 0)", label = "Throttle events", metric = null }],
        [for q in [["writes", "WriteThrottleEvents"], ["reads", "ReadThrottleEvents"]] :
        { id = q[0], expression = null, label = null, metric = { namespace = "AWS/DynamoDB", name = q[1], dimensions = local.table_dims, stat = "Sum" } }],
      )
    },
    {
      key         = "dynamodb_system_errors"
      description = "DynamoDB answered 5xx (SystemErrors) to the service's operations."
      operator    = "GreaterThanOrEqualToThreshold"
      threshold   = 1
      limits      = [1, null]
      metric      = null
      queries = concat(
        [{ id = "errors", expression = join(" + ", [for i, _ in local.dynamo_ops : "FILL(op${i}, 0)"]), label = "System errors", metric = null }],
        [for i, op in local.dynamo_ops :
        { id = "op${i}", expression = null, label = null, metric = { namespace = "AWS/DynamoDB", name = "SystemErrors", dimensions = merge(local.table_dims, { Operation = op }), stat = "Sum" } }],
      )
    },
    {
      key         = "storage_unavailable"
      description = "The service could not write to DynamoDB and answered 503 (StorageUnavailable)."
      operator    = "GreaterThanOrEqualToThreshold"
      threshold   = 1
      limits      = [1, null]
      metric      = { namespace = var.metrics_namespace, name = "StorageUnavailable", dimensions = local.service_dims, stat = "Sum" }
      queries     = []
    },
    {
      key         = "webhook_rejections"
      description = "Webhook deliveries rejected (bad, missing or stale signatures, unknown sources): a misconfigured secret or someone probing the endpoint."
      operator    = "GreaterThanOrEqualToThreshold"
      threshold   = 25
      limits      = [1, null]
      metric      = { namespace = var.metrics_namespace, name = "WebhookRejected", dimensions = local.service_dims, stat = "Sum" }
      queries     = []
    },
  ]

  threshold_limits = { for d in local.definitions : d.key => d.limits }

  # The definitions with the overrides applied, by key (alarm NAME-KEY, with '-' for '_').
  alarms = { for d in local.definitions : d.key => merge(d, {
    name        = "${var.name}-${try(d.suffix, replace(d.key, "_", "-"))}"
    threshold   = lookup(var.thresholds, d.key, d.threshold)
    description = replace(d.description, "{threshold}", tostring(lookup(var.thresholds, d.key, d.threshold)))
  }) }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = try(each.value.metric.namespace, null)
  metric_name         = try(each.value.metric.name, null)
  dimensions          = try(each.value.metric.dimensions, null)
  statistic           = try(startswith(each.value.metric.stat, "p") ? null : each.value.metric.stat, null)
  extended_statistic  = try(startswith(each.value.metric.stat, "p") ? each.value.metric.stat : null, null)
  period              = each.value.metric == null ? null : var.evaluation.period_seconds
  evaluation_periods  = var.evaluation.periods
  threshold           = each.value.threshold
  comparison_operator = each.value.operator
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  dynamic "metric_query" {
    for_each = each.value.queries
    content {
      id          = metric_query.value.id
      expression  = metric_query.value.expression
      label       = metric_query.value.label
      return_data = metric_query.value.expression == null ? null : true

      dynamic "metric" {
        for_each = metric_query.value.metric == null ? [] : [metric_query.value.metric]
        content {
          namespace   = metric.value.namespace
          metric_name = metric.value.name
          dimensions  = metric.value.dimensions
          stat        = metric.value.stat
          period      = var.evaluation.period_seconds
        }
      }
    }
  }
}

# The alarms were one resource each before they were generated from local.definitions.
moved {
  from = aws_cloudwatch_metric_alarm.lambda_errors
  to   = aws_cloudwatch_metric_alarm.this["lambda_errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.lambda_throttles
  to   = aws_cloudwatch_metric_alarm.this["lambda_throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.api_5xx_rate
  to   = aws_cloudwatch_metric_alarm.this["api_5xx_rate"]
}

moved {
  from = aws_cloudwatch_metric_alarm.api_latency_p99
  to   = aws_cloudwatch_metric_alarm.this["api_latency_p99"]
}

moved {
  from = aws_cloudwatch_metric_alarm.dynamodb_throttles
  to   = aws_cloudwatch_metric_alarm.this["dynamodb_throttles"]
}

moved {
  from = aws_cloudwatch_metric_alarm.dynamodb_system_errors
  to   = aws_cloudwatch_metric_alarm.this["dynamodb_system_errors"]
}

moved {
  from = aws_cloudwatch_metric_alarm.storage_unavailable
  to   = aws_cloudwatch_metric_alarm.this["storage_unavailable"]
}

moved {
  from = aws_cloudwatch_metric_alarm.webhook_rejections
  to   = aws_cloudwatch_metric_alarm.this["webhook_rejections"]
}

# The dashboard: six time series panels two by two (every one the same header: 12x6, one-minute
# period, the panel's default statistic if it has one), then the state of every alarm.
locals {
  ns = var.metrics_namespace
  panels = [
    {
      title = "Events"
      stat  = "Sum"
      metrics = concat(
        [for m in ["EventsAccepted", "EventsDuplicate"] : [local.ns, m, "service", "ingest"]],
        [[{ expression = "SEARCH('{${local.ns},reason,service} MetricName=\"EventsRejected\"', 'Sum', 60)", label = "Rejected by reason", id = "rejected" }]],
        [for m in ["WebhookRejected", "StorageUnavailable"] : [local.ns, m, "service", "ingest"]],
      )
    },
    {
      title   = "API requests and errors"
      stat    = "Sum"
      metrics = [for m in ["Count", "4xx", "5xx"] : ["AWS/ApiGateway", m, "ApiId", var.api_id]]
    },
    {
      title = "Latency (ms)"
      stat  = null
      metrics = concat(
        [for p in ["p50", "p99"] : ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, { stat = p }]],
        [["AWS/Lambda", "Duration", "FunctionName", var.function_name, { stat = "p99" }]],
      )
    },
    {
      title = "Function"
      stat  = "Sum"
      metrics = concat(
        [for m in ["Invocations", "Errors", "Throttles"] : ["AWS/Lambda", m, "FunctionName", var.function_name]],
        [["AWS/Lambda", "ConcurrentExecutions", "FunctionName", var.function_name, { stat = "Maximum" }]],
      )
    },
    {
      title   = "Payload bytes"
      stat    = null
      metrics = [for s in ["Sum", "p99"] : [local.ns, "PayloadBytes", "service", "ingest", { stat = s, label = s }]]
    },
    {
      title = "DynamoDB"
      stat  = "Sum"
      metrics = concat(
        [for m in ["ConsumedWriteCapacityUnits", "WriteThrottleEvents", "ReadThrottleEvents"] : ["AWS/DynamoDB", m, "TableName", var.table_name]],
        [["AWS/DynamoDB", "SuccessfulRequestLatency", "TableName", var.table_name, "Operation", "PutItem", { stat = "p99" }]],
      )
    },
  ]

  widgets = concat(
    [for i, p in local.panels : {
      type       = "metric", x = 12 * (i % 2), y = 6 * floor(i / 2), width = 12, height = 6
      properties = merge({ title = p.title, region = local.region, period = 60, view = "timeSeries", metrics = p.metrics }, p.stat == null ? {} : { stat = p.stat })
    }],
    [{
      type       = "alarm", x = 0, y = 6 * ceil(length(local.panels) / 2), width = 24, height = 3
      properties = { title = "Alarms", alarms = [for d in local.definitions : aws_cloudwatch_metric_alarm.this[d.key].arn] }
    }],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })
}
