# Terraform: offline checks, module tests, checkov, parliament and the end-to-end rehearsal against moto.
# Every step runs offline: the provider comes from a filesystem mirror (TF_PROVIDER_MIRROR) through a
# generated CLI config, never from the registry.

##@ Terraform

TERRAFORM ?= terraform
TF_PROVIDER_MIRROR ?= /opt/tf-plugins
TF_BUILD := $(CURDIR)/build
TF_RC := $(TF_BUILD)/terraformrc
TF_PLUGIN_CACHE := $(TF_BUILD)/terraform-plugin-cache
TF_MODULE_DIRS := $(sort $(patsubst %/versions.tf,%,$(wildcard modules/*/versions.tf)))
TF_ENV_DIRS := environments/bootstrap environments/dev environments/prod
TF_DIRS := $(TF_MODULE_DIRS) $(TF_ENV_DIRS)
TF_TEST_DIRS := $(sort $(patsubst %/tests/,%,$(dir $(wildcard modules/*/tests/*.tftest.hcl environments/*/tests/*.tftest.hcl))))
TF_LOCK_PLATFORMS ?= linux_amd64

CHECKOV_VENV := .tools/checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

TF_TARGETS := test-terraform tf-rc tf-fmt tf-validate tf-test tf-checkov tf-parliament rehearse tf-lock tf-format

# The environment every Terraform step needs (target-specific: it reaches these targets' prerequisites only).
$(TF_TARGETS): export TF_CLI_CONFIG_FILE := $(TF_RC)
$(TF_TARGETS): export TF_PLUGIN_CACHE_DIR := $(TF_PLUGIN_CACHE)
$(TF_TARGETS): export TF_PROVIDER_MIRROR := $(TF_PROVIDER_MIRROR)
$(TF_TARGETS): export CHECKPOINT_DISABLE := 1
$(TF_TARGETS): export TF_IN_AUTOMATION := 1
$(TF_TARGETS): export TF_INPUT := 0
# The tests/policies.tftest.hcl runs plan with the real provider, offline: fake credentials, never
# the caller's own (scripts/tf/iam_lint.py sets the same for itself).
tf-test tf-parliament: export AWS_ACCESS_KEY_ID := offline
tf-test tf-parliament: export AWS_SECRET_ACCESS_KEY := offline
tf-test tf-parliament: export AWS_SESSION_TOKEN :=
tf-test tf-parliament: export AWS_PROFILE :=
tf-test tf-parliament: export AWS_EC2_METADATA_DISABLED := true

.PHONY: tf-rc
tf-rc: ## Write build/terraformrc (offline provider mirror, shared plugin cache)
	@mkdir -p $(TF_PLUGIN_CACHE)
	@printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n}\nplugin_cache_dir = "%s"\n' \
		"$(TF_PROVIDER_MIRROR)" "$(TF_PLUGIN_CACHE)" > $(TF_RC).tmp
	@mv $(TF_RC).tmp $(TF_RC)

.PHONY: tf-fmt
tf-fmt: tf-rc ## terraform fmt -check over modules/ and environments/
	$(TERRAFORM) fmt -check -recursive -diff modules environments

.PHONY: tf-format
tf-format: tf-rc ## terraform fmt (rewrite) over modules/ and environments/
	$(TERRAFORM) fmt -recursive modules environments

# Directories are checked TF_JOBS at a time (each Terraform run is one busy core), with the output
# of each directory kept together. The first init runs alone: it fills the shared plugin cache.
TF_JOBS ?= 2

.PHONY: tf-validate
tf-validate: tf-rc ## init -backend=false + validate for every module and environment
	@$(TERRAFORM) -chdir=$(firstword $(TF_DIRS)) init -backend=false -lockfile=readonly -no-color > /dev/null
	@$(MAKE) --no-print-directory -j$(TF_JOBS) --output-sync=target $(addprefix tf-validate/,$(TF_DIRS))

tf-validate/%:
	@echo "--- validate $*"
	@$(TERRAFORM) -chdir=$* init -backend=false -lockfile=readonly -no-color > $(TF_BUILD)/init-$(subst /,-,$*).log 2>&1 \
		|| { cat $(TF_BUILD)/init-$(subst /,-,$*).log; exit 1; }
	@$(TERRAFORM) -chdir=$* validate -no-color

.PHONY: tf-test
tf-test: tf-validate ## terraform test (mock provider) for every module and the dev composition
	@$(MAKE) --no-print-directory -j$(TF_JOBS) --output-sync=target $(addprefix tf-test/,$(TF_TEST_DIRS))

tf-test/%:
	@echo "--- test $*"
	@$(TERRAFORM) -chdir=$* test -no-color

# One lock file for every module and environment: .terraform.lock.hcl at the root, which each of them
# links to (the same provider build is tested and deployed everywhere). It is refreshed through
# environments/dev, whose constraints cover every other directory's; the other platforms' hashes stay.
.PHONY: tf-lock
tf-lock: tf-rc ## Refresh the root .terraform.lock.hcl from the mirror (every module and environment links to it)
	@$(TERRAFORM) -chdir=environments/dev get -no-color > /dev/null
	@rm -f environments/dev/.terraform.lock.hcl && cp .terraform.lock.hcl environments/dev/.terraform.lock.hcl
	@$(TERRAFORM) -chdir=environments/dev providers lock -fs-mirror=$(TF_PROVIDER_MIRROR) \
		$(foreach p,$(TF_LOCK_PLATFORMS),-platform=$(p)) -no-color > /dev/null \
		&& mv environments/dev/.terraform.lock.hcl .terraform.lock.hcl; \
		status=$$?; ln -sfn ../../.terraform.lock.hcl environments/dev/.terraform.lock.hcl; exit $$status

# checkov lives in its own virtual environment: its pinned boto3 would clash with the service's.
$(CHECKOV_STAMP): requirements/checkov.lock
	rm -rf $(CHECKOV_VENV)
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --require-hashes --no-deps -r requirements/checkov.lock
	touch $@

.PHONY: checkov-env
checkov-env: $(CHECKOV_STAMP) ## Create .tools/checkov (isolated checkov from requirements/checkov.lock)

.PHONY: tf-checkov
tf-checkov: $(CHECKOV_STAMP) ## checkov over modules/ and environments/ (0 failed checks; skips are inline)
	$(CHECKOV) --config-file .checkov.yaml

# The documents come from each module's tests/policies.tftest.hcl, planned with the real provider,
# offline: exactly what would be sent to AWS. Suppressions live in the script, each with its reason.
.PHONY: tf-parliament
tf-parliament: $(STAMP) tf-rc ## parliament over every IAM policy the modules render (fails on medium or worse unless suppressed with a reason)
	$(BIN)/python scripts/tf/iam_lint.py

.PHONY: rehearse
rehearse: $(STAMP) tf-rc package ## Bootstrap, apply, re-plan, serve and destroy dev against moto; plan prod; every AWS call checked against its caller's policy
	$(BIN)/python scripts/tf/rehearse.py

# The rehearsal ends with this check; this target repeats it on what the last rehearsal kept.
.PHONY: iam-coverage
iam-coverage: $(STAMP) ## Every AWS call of the last rehearsal against its caller's policy, and the statements no call used
	$(BIN)/python scripts/tf/iam_coverage.py $(or $(REHEARSAL_DIR),.rehearsal)/iam-coverage

.PHONY: test-terraform
test-terraform: tf-fmt tf-validate tf-test tf-checkov tf-parliament rehearse ## All Terraform checks (called by make test)
