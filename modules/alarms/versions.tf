terraform {
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # A floor, not a pin: the environments pin the exact version and lock its hashes. 5.32 is
      # the first release with every argument the modules use (aws_lambda_function.logging_config).
      version = ">= 5.32.0"
    }
  }
}
