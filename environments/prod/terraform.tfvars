# prod: stricter than dev. Values a fork must change are marked FORK; what every setting of `stack`
# means is in modules/ingest-stack/README.md.
aws_region = "eu-west-1" # FORK
# allowed_account_ids = ["123456789012"] # FORK (recommended)
# alarm_email         = "oncall@example.com" # FORK (recommended)

stack = {
  environment = "prod"

  # legacy_by_source_index: until `ingest events backfill-shards` has run on the table this
  # environment created before by_source_shard (docs/storage-format.md); then remove it.
  events   = { retention_days = 90, deletion_protection = true, legacy_by_source_index = true }
  logs     = { retention_days = 90, level = "INFO", debug_sample_rate = 0.01 }
  function = { memory_size = 1024 }

  # Sized for production traffic.
  api = { throttling_rate_limit = 500, throttling_burst_limit = 1000 }

  alarms = {
    evaluation_periods = 1
    thresholds         = { lambda_errors = 1, api_5xx_rate = 1, api_latency_p99 = 1000 }
  }
}
