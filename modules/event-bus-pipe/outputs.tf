output "bus_name" {
  description = "The EventBridge bus newly stored events arrive on (rules go here)."
  value       = aws_cloudwatch_event_bus.this.name
}

output "bus_arn" {
  description = "ARN of the bus."
  value       = aws_cloudwatch_event_bus.this.arn
}

output "pipe_arn" {
  description = "ARN of the pipe."
  value       = aws_pipes_pipe.this.arn
}

output "dead_letter_queue_url" {
  description = "The pipe's dead-letter queue: records the bus refused after every retry."
  value       = aws_sqs_queue.pipe_dlq.id
}

output "example_queue_url" {
  description = "The example consumer's queue, or null."
  value       = var.example_queue.enabled ? aws_sqs_queue.example[0].id : null
}

output "stream_arn" {
  description = "The stream the pipe reads."
  value       = aws_pipes_pipe.this.source
}

output "role_arn" {
  description = "The pipe's execution role (given or created here)."
  value       = aws_pipes_pipe.this.role_arn
}
