terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }

  # Local state for the once-off first apply. Afterwards the state can move into the bucket this
  # configuration creates: see docs/terraform.md ("Moving the bootstrap state").
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = var.allowed_account_ids
}
