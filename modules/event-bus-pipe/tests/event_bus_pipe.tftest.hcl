mock_provider "aws" {
  source = "../../tests/tooling/terraform/mocks"

  mock_resource "aws_cloudwatch_event_bus" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:event-bus/ingest-test-events" }
  }

  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:ingest-test-pipe-dlq"
      id  = "https://sqs.eu-west-1.amazonaws.com/123456789012/ingest-test-pipe-dlq"
    }
  }

  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/ingest-test-pipe" }
  }

  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/ingest-test-events/ingest-test-consumer" }
  }
}

variables {
  environment = { name = "ingest-test", stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-test-events/stream/2026-01-01T00:00:00.000" }
}

run "only_inserts_from_the_stream_to_the_bus" {
  command = apply

  assert {
    condition     = jsondecode(one(one(aws_pipes_pipe.this.source_parameters).filter_criteria[0].filter).pattern) == { eventName = ["INSERT"] }
    error_message = "Without prefixes the filter passes INSERTs only."
  }

  assert {
    condition     = aws_pipes_pipe.this.source == var.environment.stream_arn && aws_pipes_pipe.this.target == aws_cloudwatch_event_bus.this.arn
    error_message = "The pipe reads this table's stream and puts to this module's bus."
  }

  assert {
    condition     = one(one(aws_pipes_pipe.this.source_parameters).dynamodb_stream_parameters).dead_letter_config[0].arn == aws_sqs_queue.pipe_dlq.arn
    error_message = "Records the bus refuses after the retries go to the dead-letter queue."
  }

  assert {
    condition     = one(one(aws_pipes_pipe.this.source_parameters).dynamodb_stream_parameters).maximum_retry_attempts == 10 && one(one(aws_pipes_pipe.this.source_parameters).dynamodb_stream_parameters).maximum_record_age_in_seconds == 86400
    error_message = "Retries are bounded in number and in the records' age."
  }

  assert {
    condition     = aws_sqs_queue.pipe_dlq.sqs_managed_sse_enabled
    error_message = "The dead-letter queue is encrypted."
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.dead_letters["pipe"].dimensions.QueueName == aws_sqs_queue.pipe_dlq.name && aws_cloudwatch_metric_alarm.dead_letters["pipe"].threshold == 0
    error_message = "One message in the dead-letter queue raises the alarm."
  }

  assert {
    condition     = can(jsondecode(replace(replace(one(aws_pipes_pipe.this.target_parameters).input_template, "/<\\$[^>]*>/", "1"), "\"1\"", "\"x\"")))
    error_message = "The input template is JSON once its placeholders are filled."
  }

  assert {
    condition     = length(aws_sqs_queue.example) == 0 && length(aws_cloudwatch_event_rule.example) == 0
    error_message = "The example consumer is off by default."
  }

  assert {
    condition     = aws_pipes_pipe.this.role_arn == module.role[0].arn && output.role_arn == module.role[0].arn
    error_message = "Without a role given, the pipe runs with the role this module creates."
  }
}

# With the bootstrap's deploy roles: the bootstrap's role, none created here.
run "prefix_filters_and_a_given_role" {
  command = apply

  variables {
    filters = { source_prefixes = ["github", "shop"], type_prefixes = ["order."] }
    role    = { arn = "arn:aws:iam::123456789012:role/ingest-test-events-pipe" }
  }

  assert {
    condition = jsondecode(one(one(aws_pipes_pipe.this.source_parameters).filter_criteria[0].filter).pattern) == {
      eventName = ["INSERT"]
      dynamodb = { NewImage = {
        source = { S = [{ prefix = "github" }, { prefix = "shop" }] }
        type   = { S = [{ prefix = "order." }] }
      } }
    }
    error_message = "Source and type prefixes filter the new image, INSERTs only."
  }

  assert {
    condition     = length(module.role) == 0 && aws_pipes_pipe.this.role_arn == var.role.arn
    error_message = "A given role is used as it is: the module creates none."
  }
}

run "example_consumer" {
  command = apply

  variables {
    example_queue = { enabled = true }
  }

  assert {
    condition     = length(aws_sqs_queue.example) == 1 && aws_sqs_queue.example[0].sqs_managed_sse_enabled && aws_sqs_queue.example_dlq[0].sqs_managed_sse_enabled
    error_message = "The example queue and its dead-letter queue are encrypted."
  }

  assert {
    condition     = one(aws_cloudwatch_event_target.example[0].dead_letter_config).arn == "arn:aws:sqs:eu-west-1:123456789012:ingest-test-consumer-dlq"
    error_message = "The rule's target has a dead-letter queue."
  }

  assert {
    condition     = length(aws_cloudwatch_metric_alarm.dead_letters) == 2
    error_message = "Both dead-letter queues have an alarm."
  }
}

run "rejects_malformed_environment_and_role" {
  command = plan

  variables {
    environment = { name = "Ingest_Test", stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-test-events", alarm_topic_arn = "ingest-alarms" }
    role        = { arn = "ingest-test-events-pipe" }
  }

  expect_failures = [var.environment, var.role]
}
