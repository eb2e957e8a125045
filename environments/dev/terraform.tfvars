# dev: cheap and disposable. Values a fork must change are marked FORK; what every setting of
# `stack` means is in modules/ingest-stack/README.md.
aws_region = "eu-west-1" # FORK
# allowed_account_ids = ["123456789012"] # FORK (recommended)
# alarm_email         = "oncall@example.com" # FORK (optional)

stack = {
  environment = "dev"

  # legacy_by_source_index: until `ingest events backfill-shards` has run on the table this
  # environment created before by_source_shard (docs/storage-format.md); then remove it.
  events = { retention_days = 7, deletion_protection = false, legacy_by_source_index = true }
  logs   = { retention_days = 14, level = "DEBUG" }

  # Capped to bound what a mistake can cost.
  api = { throttling_rate_limit = 50, throttling_burst_limit = 100 }

  alarms = {
    thresholds = { lambda_errors = 5, api_5xx_rate = 5, api_latency_p99 = 3000 }
  }
}
