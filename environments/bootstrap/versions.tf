# The bootstrap's provider pin (exact; its hashes are in .terraform.lock.hcl). Local state for the
# once-off first apply; afterwards it can move into the bucket this configuration creates: see
# docs/terraform.md ("Moving the bootstrap state").
terraform {
  required_version = ">= 1.11.0"
  required_providers { aws = { source = "hashicorp/aws", version = "5.100.0" } }
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = var.allowed_account_ids
}
