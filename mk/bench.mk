# Measurements of the request path, on this machine, against local stand-ins only.
#  - bench (docs/decisions/0011-cold-start-budget.md): cold start and warm request of the
#    handler against a bare boto3 handler, in fresh interpreters; fails over the budget.
#  - load (docs/decisions/0009-load-testing.md): concurrent producers against a local
#    `ingest serve` with its embedded DynamoDB emulator, on 127.0.0.1 only, bounded in requests
#    and time. It prints throughput and latency and fails when anything acknowledged is lost or
#    stored twice. Tune with LOAD_CONCURRENCY, LOAD_REQUESTS, LOAD_DURATION, LOAD_BATCH_SIZES,
#    LOAD_SEED, or pass flags: make load LOAD_ARGS='--concurrency 16 --duration 10 --json'.

##@ Benchmarks and load

LOAD_ARGS ?=

.PHONY: bench
bench: $(STAMP) ## Benchmarks: cold start and warm request vs the bare handler
	$(BIN)/python -m bench

.PHONY: load
load: $(STAMP) ## Load test on 127.0.0.1: throughput, p50/p99, nothing lost or duplicated
	$(BIN)/python -m bench.load $(LOAD_ARGS)
