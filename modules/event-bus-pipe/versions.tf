# A floor, not a pin: the environments pin the exact provider and lock it (docs/terraform.md).
terraform {
  required_version = ">= 1.11.0"
  required_providers { aws = { source = "hashicorp/aws", version = ">= 5.32.0" } }
}
