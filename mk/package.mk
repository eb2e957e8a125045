# The Lambda artifact (docs/decisions/0004-packaging.md): dist/ingest.zip, byte-reproducible, for
# the runtime the Terraform declares. The workflows build it once per run with `make package`.

.PHONY: package
package: $(STAMP) ## Build dist/ingest.zip (reproducible, for the Lambda runtime the Terraform declares)
	$(BIN)/python scripts/package.py --out dist/ingest.zip
