# Not linked: the environments pin the provider in their own versions.tf (with the backend). This
# floor, the modules' own, is for the tools that read this directory alone (tflint, validate).
terraform {
  required_version = ">= 1.11.0"
  required_providers { aws = { source = "hashicorp/aws", version = ">= 5.32.0" } }
}
