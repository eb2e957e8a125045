# One entry point for people and CI. `make run` and `make test` do all set-up themselves.
# The targets live with their domain under mk/:
#   python.mk     the virtual environment, lint, format, types, the test suite, coverage, lock files
#   package.mk    the Lambda artifact dist/ingest.zip and its lock file (lock-lambda)
#   bench.mk      benchmarks and the load test
#   docs.mk       documents computed from the code: the OpenAPI document, the cost estimate
#   terraform.mk  Terraform checks, module tests, checkov, the rehearsal against moto
#   workflows.mk  checks of the GitHub workflows
# `make help` lists every target.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The Python environment first: every other domain builds on it ($(STAMP), $(BIN)).
include mk/python.mk
include $(filter-out mk/python.mk,$(sort $(wildcard mk/*.mk)))

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: run
run: $(STAMP) ## Serve the API on http://127.0.0.1:3000 with an embedded DynamoDB
	$(BIN)/ingest serve --host 127.0.0.1 --port 3000

.PHONY: test
test: lint typecheck pytest test-terraform test-workflows ## Everything CI runs

.PHONY: clean
clean: ## Remove build output and caches (keeps .venv)
	rm -rf dist build .pytest_cache .mypy_cache .ruff_cache .rehearsal
