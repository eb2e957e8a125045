# The Lambda artifact run as the function will run it (docs/decisions/0024-verify-artifact.md):
# `make verify-artifact` checks every compiled file in dist/ingest.zip for AArch64 and the
# runtime's glibc, then unpacks it and invokes ingest.handler.lambda_handler with API Gateway
# (payload 2.0) events under an aarch64 CPython 3.11, storing an event in moto on 127.0.0.1.
# The interpreter is Debian's arm64 python3.11 run by qemu-user, unpacked (never installed into
# the host) into .tools/arm64-sysroot from the versions and hashes in scripts/artifact/debian.lock.
# It takes seconds, so `make test` runs it, and the suite's end-to-end tests of the check need
# the interpreter too.

##@ The Lambda artifact, verified

ARM64_TOOLS := .tools/arm64-sysroot
ARM64_STAMP := $(ARM64_TOOLS)/.installed
ARM64_LOCK := scripts/artifact/debian.lock

# The script keeps its own stamp (the lock's digest): it installs only when the lock changed.
$(ARM64_STAMP): $(ARM64_LOCK) | $(STAMP)
	$(BIN)/python -m scripts.artifact.sysroot install

.PHONY: artifact-sysroot
artifact-sysroot: $(ARM64_STAMP) ## Unpack the locked arm64 python3.11 and qemu into .tools/arm64-sysroot

.PHONY: verify-artifact
verify-artifact: $(STAMP) $(ARM64_STAMP) package ## Run dist/ingest.zip under aarch64 python3.11 against moto: wrong machine or missing modules fail
	$(BIN)/python -m scripts.artifact.verify --artifact dist/ingest.zip

.PHONY: lock-artifact-sysroot
lock-artifact-sysroot: $(STAMP) ## Re-pin scripts/artifact/debian.lock to the Debian release's base suite
	$(BIN)/python -m scripts.artifact.sysroot lock

test: verify-artifact
pytest coverage: $(ARM64_STAMP)
