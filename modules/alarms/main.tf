data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  # The ARNs the policies name, built from names (not read from the resources) so the policies are
  # known at plan time: the topic, this service's alarms, the account's root.
  arn           = "arn:${data.aws_partition.current.partition}"
  topic_arn     = "${local.arn}:sns:${data.aws_region.current.name}:${local.account}:${var.service.name}-alarms"
  alarm_arn     = "${local.arn}:cloudwatch:${data.aws_region.current.name}:${local.account}:alarm:${var.service.name}-*"
  root_arn      = "${local.arn}:iam::${local.account}:root"
  alarm_actions = [aws_sns_topic.alarms.arn]
  service_dims  = { service = "ingest" }
  function_dims = { FunctionName = var.service.function_name }
  api_dims      = { ApiId = var.service.api_id }
  table_dims    = { TableName = var.service.table_name }
  dynamo_ops    = ["PutItem", "BatchWriteItem", "GetItem"]
}

# Both policies, as statements: sid, effect, principal ([type, identifier]), actions and conditions
# ([test, variable, value]); resources are "*" in the key policy (the key itself) and the topic's
# ARN in the topic policy. Every grant to a service names this account (no confused deputy).
locals {
  from_this_account = ["StringEquals", "aws:SourceAccount", local.account]

  # CloudWatch alarms cannot publish to a topic encrypted with the AWS managed alias/aws/sns key (its
  # key policy cannot grant cloudwatch.amazonaws.com), so the topic gets a customer managed key unless
  # one is given. The deploy role of this environment administers that key through the key policy
  # itself: no IAM policy grants it any existing key (see modules/github-oidc).
  key_statements = concat(
    [{ sid = "AccountAdministration", effect = "Allow", principal = ["AWS", local.root_arn], actions = ["kms:*"], conditions = [] }],
    [for arns in [var.topic.key_administrator_arns] : {
      sid = "KeyAdministration", effect = "Allow", principal = concat(["AWS"], arns), conditions = []
      actions = [
        "kms:CancelKeyDeletion", "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:EnableKeyRotation",
        "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy",
        "kms:ScheduleKeyDeletion", "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias",
        "kms:UpdateKeyDescription",
      ]
    } if length(arns) > 0],
    [{ sid = "CloudWatchAlarmsPublish", effect = "Allow", principal = ["Service", "cloudwatch.amazonaws.com"], actions = ["kms:Decrypt", "kms:GenerateDataKey*"], conditions = [local.from_this_account] }],
  )

  # Only this account's alarms of this environment may publish, and only over TLS.
  topic_statements = [
    {
      sid        = "CloudWatchAlarms", effect = "Allow", principal = ["Service", "cloudwatch.amazonaws.com"], actions = ["sns:Publish"]
      conditions = [local.from_this_account, ["ArnLike", "aws:SourceArn", local.alarm_arn]]
    },
    { sid = "DenyInsecureTransport", effect = "Deny", principal = ["*", "*"], actions = ["sns:Publish"], conditions = [["Bool", "aws:SecureTransport", "false"]] },
  ]

  policies = merge(
    var.topic.kms_key_arn == null ? { key = { statements = local.key_statements, resources = ["*"] } } : {},
    { topic = { statements = local.topic_statements, resources = [local.topic_arn] } },
  )
}

data "aws_iam_policy_document" "this" {
  for_each = local.policies

  dynamic "statement" {
    for_each = each.value.statements
    content {
      # Who (principals), may or may not (effect) do what (actions) on what (resources), when (conditions).
      principals {
        type        = statement.value.principal[0]
        identifiers = slice(statement.value.principal, 1, length(statement.value.principal))
      }
      sid       = statement.value.sid
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = each.value.resources

      dynamic "condition" {
        for_each = statement.value.conditions
        content {
          test     = condition.value[0]
          variable = condition.value[1]
          values   = [condition.value[2]]
        }
      }
    }
  }
}

resource "aws_kms_key" "alarms" {
  count                   = var.topic.kms_key_arn == null ? 1 : 0
  description             = "${var.service.name} alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.this["key"].json
  # Untagged on purpose: tagging a key at creation needs kms:TagResource in an IAM policy on every
  # key of the account, a grant the deploy roles do not get (a tag it could set on any untagged key
  # would be worth nothing as a scope). The key is identified by its alias and administered through
  # its key policy.
  tags = {}
}

resource "aws_kms_alias" "alarms" {
  count         = var.topic.kms_key_arn == null ? 1 : 0
  name          = "alias/${var.service.name}-alarms"
  target_key_id = aws_kms_key.alarms[0].key_id
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.service.name}-alarms"
  kms_master_key_id = var.topic.kms_key_arn == null ? aws_kms_key.alarms[0].arn : var.topic.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_policy" "alarms" {
  arn    = aws_sns_topic.alarms.arn
  policy = data.aws_iam_policy_document.this["topic"].json
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.topic.email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.topic.email
}

# Every alarm: what it watches and when it fires, in the order of the dashboard's alarm widget. Most
# fire when a sum per period reaches their threshold (local.sum: at or above, at least 1, default 1);
# the others say how they differ. A single-metric alarm sets `metric` ([namespace, name, dimensions,
# statistic]); a metric-math alarm sets `queries` (the one with an expression is the alarm's value).
# `threshold` is the default that var.thresholds overrides, within `limits` ([lowest, highest], null:
# no upper limit; every threshold is above 0); `{threshold}` in a description is the value used.
locals {
  sum = { operator = "GreaterThanOrEqualToThreshold", threshold = 1, limits = [1, null], metric = null, queries = [] }
  definitions = [
    merge(local.sum, { key = "lambda_errors", metric = ["AWS/Lambda", "Errors", local.function_dims, "Sum"], description = "The function raised errors (unhandled exceptions, timeouts, out of memory)." }),
    merge(local.sum, { key = "lambda_throttles", metric = ["AWS/Lambda", "Throttles", local.function_dims, "Sum"], description = "Invocations were throttled (reserved or account concurrency reached): clients saw 503/429." }),
    merge(local.sum, {
      key = "api_5xx_rate", operator = "GreaterThanThreshold", limits = [0, 100], description = "More than {threshold}% of API responses were 5xx."
      queries = concat(
        [{ id = "rate", expression = "IF(requests > 0, 100 * errors / requests, 0)", label = "5xx rate (%)", metric = null }],
        [for q in [["errors", "5xx"], ["requests", "Count"]] : { id = q[0], expression = null, label = null, metric = ["AWS/ApiGateway", q[1], local.api_dims, "Sum"] }],
      )
    }),
    merge(local.sum, { key = "api_latency_p99", operator = "GreaterThanThreshold", threshold = 1000, limits = [0, 30000], metric = ["AWS/ApiGateway", "Latency", local.api_dims, "p99"], description = "p99 API latency is above {threshold} ms." }),
    merge(local.sum, {
      key         = "dynamodb_throttles", suffix = "dynamodb-throttled-requests"
      description = "DynamoDB throttled reads or writes on the events table (the service answers 503 + Retry-After)."
      queries = concat(
        [{ id = "throttles", expression = "FILL(writes, 0) + FILL(reads, 0)", label = "Throttle events", metric = null }],
        [for q in [["writes", "WriteThrottleEvents"], ["reads", "ReadThrottleEvents"]] : { id = q[0], expression = null, label = null, metric = ["AWS/DynamoDB", q[1], local.table_dims, "Sum"] }],
      )
    }),
    merge(local.sum, {
      key = "dynamodb_system_errors", description = "DynamoDB answered 5xx (SystemErrors) to the service's operations."
      queries = concat(
        [{ id = "errors", expression = join(" + ", [for i, _ in local.dynamo_ops : "FILL(op${i}, 0)"]), label = "System errors", metric = null }],
        [for i, op in local.dynamo_ops : { id = "op${i}", expression = null, label = null, metric = ["AWS/DynamoDB", "SystemErrors", merge(local.table_dims, { Operation = op }), "Sum"] }],
      )
    }),
    merge(local.sum, { key = "storage_unavailable", metric = [var.service.metrics_namespace, "StorageUnavailable", local.service_dims, "Sum"], description = "The service could not write to DynamoDB and answered 503 (StorageUnavailable)." }),
    merge(local.sum, { key = "webhook_rejections", threshold = 25, metric = [var.service.metrics_namespace, "WebhookRejected", local.service_dims, "Sum"], description = "Webhook deliveries rejected (bad, missing or stale signatures, unknown sources): a misconfigured secret or someone probing the endpoint." }),
  ]

  threshold_limits = { for d in local.definitions : d.key => d.limits }

  # The definitions with the overrides applied, by key (alarm NAME-KEY, with '-' for '_').
  alarms = { for d in local.definitions : d.key => merge(d, {
    name        = "${var.service.name}-${try(d.suffix, replace(d.key, "_", "-"))}"
    threshold   = lookup(var.thresholds, d.key, d.threshold)
    description = replace(d.description, "{threshold}", tostring(lookup(var.thresholds, d.key, d.threshold)))
  }) }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name          = each.value.name
  alarm_description   = each.value.description
  namespace           = try(each.value.metric[0], null)
  metric_name         = try(each.value.metric[1], null)
  dimensions          = try(each.value.metric[2], null)
  statistic           = try(startswith(each.value.metric[3], "p") ? null : each.value.metric[3], null)
  extended_statistic  = try(startswith(each.value.metric[3], "p") ? each.value.metric[3] : null, null)
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
          namespace   = metric.value[0]
          metric_name = metric.value[1]
          dimensions  = metric.value[2]
          stat        = metric.value[3]
          period      = var.evaluation.period_seconds
        }
      }
    }
  }
}

# The dashboard: six time series panels two by two (every one the same header: 12x6, one-minute
# period, the panel's default statistic if it has one), then the state of every alarm.
locals {
  ns = var.service.metrics_namespace
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
      metrics = [for m in ["Count", "4xx", "5xx"] : ["AWS/ApiGateway", m, "ApiId", var.service.api_id]]
    },
    {
      title = "Latency (ms)"
      stat  = null
      metrics = concat(
        [for p in ["p50", "p99"] : ["AWS/ApiGateway", "Latency", "ApiId", var.service.api_id, { stat = p }]],
        [["AWS/Lambda", "Duration", "FunctionName", var.service.function_name, { stat = "p99" }]],
      )
    },
    {
      title = "Function"
      stat  = "Sum"
      metrics = concat(
        [for m in ["Invocations", "Errors", "Throttles"] : ["AWS/Lambda", m, "FunctionName", var.service.function_name]],
        [["AWS/Lambda", "ConcurrentExecutions", "FunctionName", var.service.function_name, { stat = "Maximum" }]],
      )
    },
    {
      # PayloadBytes is held and written once a minute per execution environment (0038): its
      # percentiles are of those sums, so the panel shows the total and the mean per event.
      title = "Payload bytes"
      stat  = null
      metrics = [
        [local.ns, "PayloadBytes", "service", "ingest", { stat = "Sum", label = "Sum", id = "bytes" }],
        [local.ns, "EventsAccepted", "service", "ingest", { stat = "Sum", id = "accepted", visible = false }],
        [local.ns, "EventsDuplicate", "service", "ingest", { stat = "Sum", id = "duplicates", visible = false }],
        [{ expression = "bytes / (accepted + FILL(duplicates, 0))", label = "Mean per event", id = "mean" }],
      ]
    },
    {
      title = "DynamoDB"
      stat  = "Sum"
      metrics = concat(
        [for m in ["ConsumedWriteCapacityUnits", "WriteThrottleEvents", "ReadThrottleEvents"] : ["AWS/DynamoDB", m, "TableName", var.service.table_name]],
        [["AWS/DynamoDB", "SuccessfulRequestLatency", "TableName", var.service.table_name, "Operation", "PutItem", { stat = "p99" }]],
      )
    },
  ]

  widgets = concat(
    [for i, p in local.panels : {
      type       = "metric", x = 12 * (i % 2), y = 6 * floor(i / 2), width = 12, height = 6
      properties = merge({ title = p.title, region = data.aws_region.current.name, period = 60, view = "timeSeries", metrics = p.metrics }, p.stat == null ? {} : { stat = p.stat })
    }],
    [{
      type       = "alarm", x = 0, y = 6 * ceil(length(local.panels) / 2), width = 24, height = 3
      properties = { title = "Alarms", alarms = [for d in local.definitions : aws_cloudwatch_metric_alarm.this[d.key].arn] }
    }],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.service.name
  dashboard_body = jsonencode({ widgets = local.widgets })
}
