# The Lambda artifact (docs/decisions/0004-packaging.md): dist/ingest.zip, byte-reproducible, for
# the runtime the Terraform declares. The workflows build it once per run with `make package`.

##@ Packaging

.PHONY: package
package: $(STAMP) requirements/lambda.lock ## Build dist/ingest.zip (reproducible, for the Lambda runtime the Terraform declares)
	$(BIN)/python scripts/package.py --out dist/ingest.zip

# The Lambda's lock file. Versions are constrained to dev.lock's, so what is tested is what ships.
.PHONY: lock-lambda
lock-lambda: $(STAMP) ## Re-resolve requirements/lambda.lock (arm64, cp311; versions agree with dev.lock)
	$(UV) pip compile --quiet --python-platform aarch64-manylinux2014 \
		--python-version 3.11 --generate-hashes --custom-compile-command "make lock-lambda" \
		-c requirements/dev.lock requirements/runtime.in -o requirements/lambda.lock
