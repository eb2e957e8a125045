# prod: stricter than dev. Values a fork must change are marked FORK.
aws_region = "eu-west-1" # FORK
# allowed_account_ids = ["123456789012"] # FORK (recommended)
# alarm_email         = "oncall@example.com" # FORK (recommended)

environment = "prod"

retention_days      = 90
deletion_protection = true
log_retention_days  = 90
log_level           = "INFO"
memory_size         = 1024

throttling_rate_limit  = 500
throttling_burst_limit = 1000

alarm_evaluation_periods     = 1
lambda_errors_threshold      = 1
api_5xx_rate_threshold       = 1
api_latency_p99_threshold_ms = 1000
