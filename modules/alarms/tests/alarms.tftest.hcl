mock_provider "aws" {
  source = "../../tests/tooling/terraform/mocks"

  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:eu-west-1:123456789012:ingest-test-alarms"
    }
  }

  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = {
      arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:ingest-test"
    }
  }
}

variables {
  service = { name = "ingest-test", function_name = "ingest-test-ingest", api_id = "abc123", table_name = "ingest-test-events" }
}

run "alarms_notify_an_encrypted_topic" {
  command = apply

  assert {
    condition     = length(aws_kms_key.alarms) == 1 && aws_kms_key.alarms[0].enable_key_rotation && aws_sns_topic.alarms.kms_master_key_id == aws_kms_key.alarms[0].arn
    error_message = "Without a key input the topic is encrypted with a dedicated, rotated key CloudWatch can use."
  }

  # Finding: the topic policy let cloudwatch.amazonaws.com publish without aws:SourceAccount (any
  # account's alarms could use it: a confused deputy).
  assert {
    condition = alltrue([
      for s in data.aws_iam_policy_document.this["topic"].statement : anytrue([
        for c in s.condition : c.test == "StringEquals" && c.variable == "aws:SourceAccount" && c.values == tolist(["123456789012"])
        ]) && anytrue([
        for c in s.condition : c.test == "ArnLike" && c.variable == "aws:SourceArn" && c.values == tolist(["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:ingest-test-*"])
      ]) if coalesce(s.effect, "Allow") == "Allow"
    ])
    error_message = "Only this account's alarms of this environment may publish to the topic (aws:SourceAccount and aws:SourceArn)."
  }

  assert {
    condition = alltrue(flatten([
      for doc in values(data.aws_iam_policy_document.this) : [
        for s in doc.statement : anytrue([for c in s.condition : c.variable == "aws:SourceAccount"])
        if coalesce(s.effect, "Allow") == "Allow" && anytrue([for p in s.principals : p.type == "Service"])
      ]
    ]))
    error_message = "Every grant to a service principal names the source account."
  }

  assert {
    condition     = length(aws_kms_key.alarms[0].tags) == 0 && length([for s in data.aws_iam_policy_document.this["key"].statement : s if s.sid == "KeyAdministration"]) == 0
    error_message = "The key is created untagged (no IAM tag grant is needed) and names no administrator unless given."
  }

  # `ingest cost` charges what an environment deploys (ingest_tools.cost.DEPLOYED_*; the number is
  # read from here by tests/tooling/test_cost_figures.py): each metric an alarm reads is billed.
  assert {
    condition     = sum([for a in aws_cloudwatch_metric_alarm.this : a.metric_name != null ? 1 : length([for q in a.metric_query : q if length(q.metric) > 0])]) == 12 && aws_cloudwatch_dashboard.this.dashboard_name != ""
    error_message = "The alarms read 12 metrics and one dashboard is deployed: update DEPLOYED_ALARM_METRICS (ingest_tools.cost) and this number together."
  }
}

run "key_administered_through_its_policy" {
  command = apply

  variables {
    topic = { key_administrator_arns = ["arn:aws:iam::123456789012:role/ingest-test-github-apply"] }
  }

  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.this["key"].statement : s.sid == "KeyAdministration" && anytrue([for p in s.principals : p.type == "AWS" && toset(p.identifiers) == toset(var.topic.key_administrator_arns)]) && contains(s.actions, "kms:PutKeyPolicy") && !contains(s.actions, "kms:Decrypt")
    ])
    error_message = "The deploy role administers the key through the key policy (and cannot decrypt with it)."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this) == 8 && alltrue([for a in aws_cloudwatch_metric_alarm.this : a.alarm_actions == toset([aws_sns_topic.alarms.arn]) && a.ok_actions == toset([aws_sns_topic.alarms.arn])])
    error_message = "Every one of the eight alarms notifies the topic, when it fires and when it clears."
  }

  assert {
    condition = output.alarm_names == {
      lambda_errors          = "ingest-test-lambda-errors"
      lambda_throttles       = "ingest-test-lambda-throttles"
      api_5xx_rate           = "ingest-test-api-5xx-rate"
      api_latency_p99        = "ingest-test-api-latency-p99"
      dynamodb_throttles     = "ingest-test-dynamodb-throttled-requests"
      dynamodb_system_errors = "ingest-test-dynamodb-system-errors"
      storage_unavailable    = "ingest-test-storage-unavailable"
      webhook_rejections     = "ingest-test-webhook-rejections"
    }
    error_message = "The alarms keep their names (NAME-*: the deploy role's scope, the topic policy's SourceArn)."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["lambda_errors"].threshold == 1 && aws_cloudwatch_metric_alarm.this["webhook_rejections"].threshold == 25 && aws_cloudwatch_metric_alarm.this["lambda_errors"].statistic == "Sum" && aws_cloudwatch_metric_alarm.this["lambda_errors"].period == 300 && aws_cloudwatch_metric_alarm.this["lambda_errors"].dimensions == tomap({ FunctionName = "ingest-test-ingest" })
    error_message = "Without overrides every alarm has its default threshold, over the default period."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.this["dynamodb_system_errors"].metric_query) == 4 && length([for q in aws_cloudwatch_metric_alarm.this["dynamodb_system_errors"].metric_query : q if q.return_data == true]) == 1 && length(aws_cloudwatch_metric_alarm.this["dynamodb_throttles"].metric_query) == 3
    error_message = "The DynamoDB alarms sum their metrics with metric math (one query returns the value)."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["storage_unavailable"].namespace == "Ingest" && aws_cloudwatch_metric_alarm.this["storage_unavailable"].metric_name == "StorageUnavailable" && aws_cloudwatch_metric_alarm.this["storage_unavailable"].dimensions == tomap({ service = "ingest" })
    error_message = "StorageUnavailable is watched in the service's namespace with dimension service=ingest."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["webhook_rejections"].metric_name == "WebhookRejected" && aws_cloudwatch_metric_alarm.this["webhook_rejections"].dimensions == tomap({ service = "ingest" })
    error_message = "Webhook rejections are watched on the reason-free total the service emits."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.this["api_latency_p99"].extended_statistic == "p99" && aws_cloudwatch_metric_alarm.this["api_latency_p99"].threshold == 1000
    error_message = "API latency alarm is on p99 with the threshold input."
  }

  assert {
    condition     = length([for q in aws_cloudwatch_metric_alarm.this["api_5xx_rate"].metric_query : q if q.return_data == true]) == 1 && aws_cloudwatch_metric_alarm.this["api_5xx_rate"].threshold == 1
    error_message = "The 5xx alarm is a rate (metric math) with the threshold input."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 0
    error_message = "No subscription without an e-mail address."
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets) == 7 && jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets[6].properties.alarms == [for k in ["lambda_errors", "lambda_throttles", "api_5xx_rate", "api_latency_p99", "dynamodb_throttles", "dynamodb_system_errors", "storage_unavailable", "webhook_rejections"] : aws_cloudwatch_metric_alarm.this[k].arn]
    error_message = "One dashboard: six metric panels and the state of every alarm."
  }

  assert {
    condition = [for w in jsondecode(aws_cloudwatch_dashboard.this.dashboard_body).widgets : [w.x, w.y, w.width, w.height]] == [
      [0, 0, 12, 6], [12, 0, 12, 6], [0, 6, 12, 6], [12, 6, 12, 6], [0, 12, 12, 6], [12, 12, 12, 6], [0, 18, 24, 3],
    ]
    error_message = "The panels are laid out two by two, the alarms below them."
  }
}

run "given_key_and_email" {
  command = apply

  variables {
    topic      = { kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/abcd", email = "oncall@example.com" }
    evaluation = { period_seconds = 60, periods = 3 }
    thresholds = { storage_unavailable = 5, api_5xx_rate = 2.5 }
  }

  assert {
    condition     = length(aws_kms_key.alarms) == 0 && aws_sns_topic.alarms.kms_master_key_id == var.topic.kms_key_arn
    error_message = "A given key is used instead of a new one."
  }

  assert {
    condition     = aws_sns_topic_subscription.email[0].endpoint == "oncall@example.com" && aws_cloudwatch_metric_alarm.this["storage_unavailable"].threshold == 5 && aws_cloudwatch_metric_alarm.this["api_5xx_rate"].threshold == 2.5 && aws_cloudwatch_metric_alarm.this["api_5xx_rate"].alarm_description == "More than 2.5% of API responses were 5xx." && aws_cloudwatch_metric_alarm.this["lambda_errors"].threshold == 1
    error_message = "E-mail subscription and thresholds come from the inputs; an alarm not overridden keeps its default."
  }

  assert {
    condition     = alltrue([for a in aws_cloudwatch_metric_alarm.this : a.evaluation_periods == 3 && (a.period == 60 || a.period == null)]) && alltrue([for q in aws_cloudwatch_metric_alarm.this["api_5xx_rate"].metric_query : alltrue([for m in q.metric : m.period == 60])])
    error_message = "Every alarm evaluates over the given period and number of periods (metric math queries included)."
  }
}

# Each run breaks every input it names once, each time by another rule. A threshold is checked
# against the alarm definitions, which need a valid service: the service is broken without one.
run "rejects_malformed_inputs" {
  command = plan

  variables {
    topic      = { kms_key_arn = "alias/aws/sns", email = "not-an-address" }
    thresholds = { api_5xx_rate = 0 }
    evaluation = { period_seconds = 30 }
  }

  expect_failures = [var.topic, var.thresholds, var.evaluation]
}

run "rejects_a_counter_below_one" {
  command = plan

  variables {
    thresholds = { webhook_rejections = 0.5 }
  }

  expect_failures = [var.thresholds]
}

run "rejects_values_above_their_limits" {
  command = plan

  variables {
    thresholds = { api_latency_p99 = 30001 }
    evaluation = { periods = 25 }
  }

  expect_failures = [var.thresholds, var.evaluation]
}

run "rejects_a_name_with_a_space_and_no_period" {
  command = plan

  variables {
    service    = { name = "ingest test", function_name = "ingest-test-ingest", api_id = "abc123", table_name = "ingest-test-events" }
    evaluation = { periods = 0 }
  }

  expect_failures = [var.service, var.evaluation]
}

run "rejects_a_rate_above_100_percent_and_wildcard_administrators" {
  command = plan

  variables {
    thresholds = { api_5xx_rate = 101 }
    topic      = { key_administrator_arns = ["arn:aws:iam::123456789012:role/*"] }
  }

  expect_failures = [var.thresholds, var.topic]
}

run "rejects_an_unknown_alarm" {
  command = plan

  variables {
    thresholds = { lambda_error = 5 }
    topic      = { email = "oncall@example.com" }
    evaluation = { period_seconds = 3600, periods = 24 }
  }

  expect_failures = [var.thresholds]
}
