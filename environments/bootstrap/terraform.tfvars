# Applied once by an administrator (see docs/terraform.md). Values a fork must change are marked FORK.
aws_region        = "eu-west-1"   # FORK
github_owner      = "example-org" # FORK
github_repository = "ingest"      # FORK
# allowed_account_ids  = ["123456789012"] # FORK (recommended)
# create_oidc_provider = false            # FORK: when the account already has GitHub's OIDC provider
# oidc_provider_arn    = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
