data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region        = data.aws_region.current.name
  account       = data.aws_caller_identity.current.account_id
  partition     = data.aws_partition.current.partition
  alarm_actions = [aws_sns_topic.alarms.arn]
  # Built from names (not read from the resources) so the policies are known at plan time.
  topic_arn    = "arn:${local.partition}:sns:${local.region}:${local.account}:${var.name}-alarms"
  alarm_arn    = "arn:${local.partition}:cloudwatch:${local.region}:${local.account}:alarm:${var.name}-*"
  service_dims = { service = "ingest" }
  dynamo_ops   = ["PutItem", "BatchWriteItem", "GetItem"]
}

# CloudWatch alarms cannot publish to a topic encrypted with the AWS managed alias/aws/sns key (its key
# policy cannot grant cloudwatch.amazonaws.com), so the topic gets a customer managed key unless one is given.
data "aws_iam_policy_document" "key" {
  count = var.sns_kms_key_arn == null ? 1 : 0

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
    for_each = length(var.key_administrator_arns) > 0 ? [1] : []
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
        identifiers = var.key_administrator_arns
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
  count                   = var.sns_kms_key_arn == null ? 1 : 0
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
  count         = var.sns_kms_key_arn == null ? 1 : 0
  name          = "alias/${var.name}-alarms"
  target_key_id = aws_kms_key.alarms[0].key_id
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.sns_kms_key_arn == null ? aws_kms_key.alarms[0].arn : var.sns_kms_key_arn
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
  count     = var.alarm_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "lambda_errors" {
  alarm_name          = "${var.name}-lambda-errors"
  alarm_description   = "The function raised errors (unhandled exceptions, timeouts, out of memory)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = var.function_name }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.lambda_errors_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "lambda_throttles" {
  alarm_name          = "${var.name}-lambda-throttles"
  alarm_description   = "Invocations were throttled (reserved or account concurrency reached): clients saw 503/429."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = var.function_name }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.lambda_throttles_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${var.name}-api-5xx-rate"
  alarm_description   = "More than ${var.api_5xx_rate_threshold}% of API responses were 5xx."
  evaluation_periods  = var.evaluation_periods
  threshold           = var.api_5xx_rate_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "rate"
    expression  = "IF(requests > 0, 100 * errors / requests, 0)"
    label       = "5xx rate (%)"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5xx"
      dimensions  = { ApiId = var.api_id }
      stat        = "Sum"
      period      = var.period_seconds
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = { ApiId = var.api_id }
      stat        = "Sum"
      period      = var.period_seconds
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "api_latency_p99" {
  alarm_name          = "${var.name}-api-latency-p99"
  alarm_description   = "p99 API latency is above ${var.api_latency_p99_threshold_ms} ms."
  namespace           = "AWS/ApiGateway"
  metric_name         = "Latency"
  dimensions          = { ApiId = var.api_id }
  extended_statistic  = "p99"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.api_latency_p99_threshold_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  alarm_name          = "${var.name}-dynamodb-throttled-requests"
  alarm_description   = "DynamoDB throttled reads or writes on the events table (the service answers 503 + Retry-After)."
  evaluation_periods  = var.evaluation_periods
  threshold           = var.dynamodb_throttles_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "throttles"
    expression  = "FILL(writes, 0) + FILL(reads, 0)"
    label       = "Throttle events"
    return_data = true
  }

  metric_query {
    id = "writes"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "WriteThrottleEvents"
      dimensions  = { TableName = var.table_name }
      stat        = "Sum"
      period      = var.period_seconds
    }
  }

  metric_query {
    id = "reads"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "ReadThrottleEvents"
      dimensions  = { TableName = var.table_name }
      stat        = "Sum"
      period      = var.period_seconds
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "dynamodb_system_errors" {
  alarm_name          = "${var.name}-dynamodb-system-errors"
  alarm_description   = "DynamoDB answered 5xx (SystemErrors) to the service's operations."
  evaluation_periods  = var.evaluation_periods
  threshold           = var.dynamodb_system_errors_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "errors"
    expression  = join(" + ", [for i, _ in local.dynamo_ops : "FILL(op${i}, 0)"])
    label       = "System errors"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.dynamo_ops
    content {
      id = "op${metric_query.key}"
      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = "SystemErrors"
        dimensions  = { TableName = var.table_name, Operation = metric_query.value }
        stat        = "Sum"
        period      = var.period_seconds
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "storage_unavailable" {
  alarm_name          = "${var.name}-storage-unavailable"
  alarm_description   = "The service could not write to DynamoDB and answered 503 (StorageUnavailable)."
  namespace           = var.metrics_namespace
  metric_name         = "StorageUnavailable"
  dimensions          = local.service_dims
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.storage_unavailable_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "webhook_rejections" {
  alarm_name          = "${var.name}-webhook-rejections"
  alarm_description   = "Webhook deliveries rejected (bad, missing or stale signatures, unknown sources): a misconfigured secret or someone probing the endpoint."
  namespace           = var.metrics_namespace
  metric_name         = "WebhookRejected"
  dimensions          = local.service_dims
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = var.evaluation_periods
  threshold           = var.webhook_rejections_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = var.tags
}

locals {
  ns = var.metrics_namespace
  widgets = [
    {
      type = "metric", x = 0, y = 0, width = 12, height = 6
      properties = {
        title  = "Events"
        region = local.region
        stat   = "Sum"
        period = 60
        view   = "timeSeries"
        metrics = [
          [local.ns, "EventsAccepted", "service", "ingest"],
          [local.ns, "EventsDuplicate", "service", "ingest"],
          [{ expression = "SEARCH('{${local.ns},reason,service} MetricName=\"EventsRejected\"', 'Sum', 60)", label = "Rejected by reason", id = "rejected" }],
          [local.ns, "WebhookRejected", "service", "ingest"],
          [local.ns, "StorageUnavailable", "service", "ingest"],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 0, width = 12, height = 6
      properties = {
        title  = "API requests and errors"
        region = local.region
        stat   = "Sum"
        period = 60
        view   = "timeSeries"
        metrics = [
          ["AWS/ApiGateway", "Count", "ApiId", var.api_id],
          ["AWS/ApiGateway", "4xx", "ApiId", var.api_id],
          ["AWS/ApiGateway", "5xx", "ApiId", var.api_id],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 6, width = 12, height = 6
      properties = {
        title  = "Latency (ms)"
        region = local.region
        period = 60
        view   = "timeSeries"
        metrics = [
          ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, { stat = "p50" }],
          ["AWS/ApiGateway", "Latency", "ApiId", var.api_id, { stat = "p99" }],
          ["AWS/Lambda", "Duration", "FunctionName", var.function_name, { stat = "p99" }],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 6, width = 12, height = 6
      properties = {
        title  = "Function"
        region = local.region
        stat   = "Sum"
        period = 60
        view   = "timeSeries"
        metrics = [
          ["AWS/Lambda", "Invocations", "FunctionName", var.function_name],
          ["AWS/Lambda", "Errors", "FunctionName", var.function_name],
          ["AWS/Lambda", "Throttles", "FunctionName", var.function_name],
          ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", var.function_name, { stat = "Maximum" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 12, width = 12, height = 6
      properties = {
        title  = "Payload bytes"
        region = local.region
        period = 60
        view   = "timeSeries"
        metrics = [
          [local.ns, "PayloadBytes", "service", "ingest", { stat = "Sum", label = "Sum" }],
          [local.ns, "PayloadBytes", "service", "ingest", { stat = "p99", label = "p99" }],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 12, width = 12, height = 6
      properties = {
        title  = "DynamoDB"
        region = local.region
        stat   = "Sum"
        period = 60
        view   = "timeSeries"
        metrics = [
          ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", var.table_name],
          ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", var.table_name],
          ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", var.table_name],
          ["AWS/DynamoDB", "SuccessfulRequestLatency", "TableName", var.table_name, "Operation", "PutItem", { stat = "p99" }],
        ]
      }
    },
    {
      type = "alarm", x = 0, y = 18, width = 24, height = 3
      properties = {
        title = "Alarms"
        alarms = [
          aws_cloudwatch_metric_alarm.lambda_errors.arn,
          aws_cloudwatch_metric_alarm.lambda_throttles.arn,
          aws_cloudwatch_metric_alarm.api_5xx_rate.arn,
          aws_cloudwatch_metric_alarm.api_latency_p99.arn,
          aws_cloudwatch_metric_alarm.dynamodb_throttles.arn,
          aws_cloudwatch_metric_alarm.dynamodb_system_errors.arn,
          aws_cloudwatch_metric_alarm.storage_unavailable.arn,
          aws_cloudwatch_metric_alarm.webhook_rejections.arn,
        ]
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.widgets })
}
