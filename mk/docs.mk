# Documents computed from the code.
#  - The OpenAPI document is generated from the handler's routes and models (ingest_tools.openapi)
#    and committed; tests/integration/test_openapi.py fails when the committed copy drifts from the code.
#  - The monthly cost estimate comes from the tools' cost model (`ingest cost`); docs/cost.md
#    explains its inputs and figures.

##@ Documents computed from the code

OPENAPI_DOC := docs/openapi.json

.PHONY: openapi
openapi: $(STAMP) ## Regenerate docs/openapi.json from the routes and models
	$(BIN)/python -m ingest_tools.openapi --write $(OPENAPI_DOC)

.PHONY: openapi-check
openapi-check: $(STAMP) ## Fail if docs/openapi.json is out of date with the code
	$(BIN)/python -m ingest_tools.openapi --check $(OPENAPI_DOC)

.PHONY: cost
cost: $(STAMP) ## Monthly AWS cost estimate (ARGS="--rate 10/s --batch 100"; see docs/cost.md)
	$(BIN)/ingest cost $(or $(ARGS),--per-month 1000000)
