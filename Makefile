# One entry point for people and CI. `make run` and `make test` do all set-up themselves.
# The targets live with their domain under mk/:
#   python.mk     the virtual environment, lint, format, types, the test suite, coverage, lock files
#   package.mk    the Lambda artifact dist/ingest.zip and its lock file (lock-lambda)
#   bench.mk      benchmarks and the load test
#   docs.mk       documents computed from the code: the OpenAPI document, the cost estimate
#   terraform.mk  Terraform checks, module tests, checkov, the rehearsal against moto
#   workflows.mk  checks of the GitHub workflows
# `make help` lists every target, by section (a `##@ Section` line in each file).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The Python environment first: every other domain builds on it ($(STAMP), $(BIN)).
include mk/python.mk
include $(filter-out mk/python.mk,$(sort $(wildcard mk/*.mk)))

##@ Start here

.PHONY: help
help: ## List the targets, by section
	@awk -F':.*## ' '/^##@ /{printf "\n%s\n", substr($$0, 5); next} /^[a-zA-Z_-]+:.*## /{printf "  %-22s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# `make run PORT=3001 HOST=0.0.0.0 ARGS="--dev-sources"`; $SOURCES may name a sources file.
HOST := 127.0.0.1
PORT ?= 3000

.PHONY: run
run: $(STAMP) ## Serve the API on http://127.0.0.1:3000, data kept in .ingest/ (PORT=, HOST=, ARGS=)
	$(BIN)/ingest serve --host $(HOST) --port $(PORT) $(ARGS)

.PHONY: test
test: lint typecheck pytest test-terraform test-workflows ## Everything CI runs

.PHONY: clean
clean: ## Remove build output and caches (keeps .venv)
	rm -rf dist build .pytest_cache .mypy_cache .ruff_cache .rehearsal
