terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=<env>.s3.tfbackend`.
  backend "s3" {}
}

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = var.allowed_account_ids
}
