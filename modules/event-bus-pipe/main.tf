# Newly stored events from the table's stream to an EventBridge bus through EventBridge Pipes: no
# code on the hot path. Only INSERTs (and the source/type prefixes asked for) pass the filter, each
# record is shaped for consumers by an input template, failures are retried and then parked in an
# encrypted dead-letter queue with an alarm. Delivery is at least once: consumers drop repeats by
# event_id. See docs/decisions/0030-consumers.md.
locals {
  # The pipe lives where its source does: partition, region and account are the stream's. Every
  # ARN is built from them and names, so the role's policy is known as soon as the stream is (and
  # is linted: make tf-parliament).
  stream    = split(":", var.environment.stream_arn)
  partition = local.stream[1]
  region    = local.stream[3]
  account   = local.stream[4]
  name      = var.environment.name
  pipe_name = "${local.name}-events"
  pipe_arn  = "arn:${local.partition}:pipes:${local.region}:${local.account}:pipe/${local.pipe_name}"
  bus_name  = "${local.name}-events"
  bus_arn   = "arn:${local.partition}:events:${local.region}:${local.account}:event-bus/${local.bus_name}"
  dlq_name  = "${local.name}-pipe-dlq"
  dlq_arn   = "arn:${local.partition}:sqs:${local.region}:${local.account}:${local.dlq_name}"
  # This table's streams: the label after /stream/ changes whenever the stream is re-enabled.
  table_streams = "${split("/stream/", var.environment.stream_arn)[0]}/stream/*"
  # The EventBridge event's source: what consumers' rules match on.
  event_source = format("ingest.%s", local.name)

  # The filter: INSERTs only, then the prefixes over the new image's source and type.
  image_filter = merge(
    length(var.filters.source_prefixes) == 0 ? {} : { source = { S = [for p in var.filters.source_prefixes : { prefix = p }] } },
    length(var.filters.type_prefixes) == 0 ? {} : { type = { S = [for p in var.filters.type_prefixes : { prefix = p }] } },
  )
  filter_pattern = jsonencode(merge(
    { eventName = ["INSERT"] },
    length(local.image_filter) == 0 ? {} : { dynamodb = { NewImage = local.image_filter } },
  ))

  # What a consumer receives as the EventBridge event's detail: the contract's names as strings,
  # and the whole stored item in DynamoDB JSON (data / body, codec, headers: docs/storage-format.md).
  input_template = <<-JSON
    {"event_id": "<$.dynamodb.NewImage.event_id.S>", "source": "<$.dynamodb.NewImage.source.S>", "type": "<$.dynamodb.NewImage.type.S>", "received_at": "<$.dynamodb.NewImage.received_at.S>", "item": <$.dynamodb.NewImage>}
  JSON
}

resource "aws_cloudwatch_event_bus" "this" {
  name = local.bus_name
  tags = var.tags
}

# ---- Dead letters ----------------------------------------------------------------------------------
resource "aws_sqs_queue" "pipe_dlq" {
  name                      = local.dlq_name
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
  tags                      = var.tags
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  for_each = merge(
    { pipe = aws_sqs_queue.pipe_dlq.name },
    var.example_queue.enabled ? { example = aws_sqs_queue.example_dlq[0].name } : {},
  )

  alarm_name          = "${local.name}-${each.key}-dead-letters"
  alarm_description   = "Events that could not be delivered are waiting in ${each.value}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.environment.alarm_topic_arn == null ? [] : [var.environment.alarm_topic_arn]
  ok_actions          = var.environment.alarm_topic_arn == null ? [] : [var.environment.alarm_topic_arn]
  tags                = var.tags
}

# ---- The pipe's role: this stream, this bus, this dead-letter queue, nothing else ----------------
# Given (role.arn: the bootstrap's, for the GitOps deploy roles) or created here.
module "role" {
  source = "./modules/pipe-role"
  count  = var.role.arn == null ? 1 : 0

  role   = { name = "${local.name}-pipe", path = var.role.path, permissions_boundary_arn = var.role.permissions_boundary_arn }
  grants = { pipe_arn = local.pipe_arn, stream_arns = local.table_streams, bus_arn = local.bus_arn, dead_letter_queue_arn = local.dlq_arn }
  tags   = var.tags
}

moved {
  from = aws_iam_role.pipe
  to   = module.role[0].aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.pipe
  to   = module.role[0].aws_iam_role_policy.this
}

# ---- The pipe ----------------------------------------------------------------------------------------
resource "aws_pipes_pipe" "this" {
  name        = local.pipe_name
  description = "Newly stored events to ${aws_cloudwatch_event_bus.this.name}"
  role_arn    = coalesce(var.role.arn, one(module.role[*].arn))
  source      = var.environment.stream_arn
  target      = local.bus_arn
  tags        = var.tags

  source_parameters {
    dynamodb_stream_parameters {
      starting_position                  = "LATEST"
      batch_size                         = var.delivery.batch_size
      maximum_retry_attempts             = var.delivery.maximum_retry_attempts
      maximum_record_age_in_seconds      = var.delivery.maximum_record_age_seconds
      maximum_batching_window_in_seconds = 0

      dead_letter_config {
        arn = local.dlq_arn
      }
    }

    filter_criteria {
      filter {
        pattern = local.filter_pattern
      }
    }
  }

  target_parameters {
    input_template = trimspace(local.input_template)

    eventbridge_event_bus_parameters {
      detail_type = "ingest.event"
      source      = local.event_source
    }
  }

  depends_on = [module.role, aws_cloudwatch_event_bus.this, aws_sqs_queue.pipe_dlq]
}

# ---- An example consumer: a rule to an SQS queue (with its own dead-letter queue) ----------------
resource "aws_sqs_queue" "example_dlq" {
  count = var.example_queue.enabled ? 1 : 0

  name                      = "${local.name}-consumer-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
  tags                      = var.tags
}

resource "aws_sqs_queue" "example" {
  count = var.example_queue.enabled ? 1 : 0

  name                    = "${local.name}-consumer"
  sqs_managed_sse_enabled = true
  redrive_policy          = jsonencode({ deadLetterTargetArn = aws_sqs_queue.example_dlq[0].arn, maxReceiveCount = 5 })
  tags                    = var.tags
}

resource "aws_cloudwatch_event_rule" "example" {
  count = var.example_queue.enabled ? 1 : 0

  name           = "${local.name}-consumer"
  description    = "Example consumer: shaped events to ${local.name}-consumer"
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = coalesce(var.example_queue.event_pattern, jsonencode({ source = [local.event_source] }))
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "example" {
  count = var.example_queue.enabled ? 1 : 0

  rule           = aws_cloudwatch_event_rule.example[0].name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  arn            = "arn:${local.partition}:sqs:${local.region}:${local.account}:${aws_sqs_queue.example[0].name}"

  retry_policy {
    maximum_retry_attempts       = 185
    maximum_event_age_in_seconds = 86400
  }

  dead_letter_config {
    arn = "arn:${local.partition}:sqs:${local.region}:${local.account}:${aws_sqs_queue.example_dlq[0].name}"
  }
}

# EventBridge may send to the queues only for this rule.
data "aws_iam_policy_document" "example_queue" {
  count = var.example_queue.enabled ? 1 : 0

  statement {
    sid       = "FromTheRule"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.example[0].arn, aws_sqs_queue.example_dlq[0].arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.example[0].arn]
    }
  }
}

resource "aws_sqs_queue_policy" "example" {
  count = var.example_queue.enabled ? 1 : 0

  queue_url = aws_sqs_queue.example[0].id
  policy    = data.aws_iam_policy_document.example_queue[0].json
}

resource "aws_sqs_queue_policy" "example_dlq" {
  count = var.example_queue.enabled ? 1 : 0

  queue_url = aws_sqs_queue.example_dlq[0].id
  policy    = data.aws_iam_policy_document.example_queue[0].json
}
