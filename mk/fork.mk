# A fork in one command: scripts/fork.py writes every `# FORK` value (tfvars, backend files) from
# the AWS account, region and the bootstrap outputs, and configures the GitHub repository through
# its REST API (environments, variables, the ruleset on main, Actions). Standard library only: it
# needs neither .venv nor Terraform's providers. See docs/decisions/0023-fork-in-one-command.md.
#   make fork ARGS="--account-id 123456789012 --region eu-west-1 --repo OWNER/NAME --solo --dry-run"
# `make fork ARGS=--help` lists the options.

##@ Forking

.PHONY: fork
fork: ## Point a fork at its AWS account and configure its GitHub repository (ARGS="--help")
	$(PYTHON) scripts/fork.py $(ARGS)
