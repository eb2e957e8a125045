# Called by modules/event-bus-pipe and modules/github-oidc, which set the floor.
terraform {
  required_providers { aws = { source = "hashicorp/aws" } }
}
