# dev: cheap and disposable. Values a fork must change are marked FORK.
aws_region = "eu-west-1" # FORK
# allowed_account_ids = ["123456789012"] # FORK (recommended)
# alarm_email         = "oncall@example.com" # FORK (optional)

environment = "dev"

retention_days      = 7
deletion_protection = false
log_retention_days  = 14
log_level           = "DEBUG"

throttling_rate_limit  = 50
throttling_burst_limit = 100

lambda_errors_threshold      = 5
api_5xx_rate_threshold       = 5
api_latency_p99_threshold_ms = 3000
