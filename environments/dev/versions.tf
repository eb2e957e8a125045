# dev's provider pin (exact; its hashes are in .terraform.lock.hcl): raise it in dev first, then prod.
terraform {
  required_version = ">= 1.11.0"
  required_providers { aws = { source = "hashicorp/aws", version = "5.100.0" } }
  backend "s3" {} # partial: terraform init -backend-config=dev.s3.tfbackend
}
