# The bucket policy as the real provider renders it, at plan time and offline (fake credentials, no
# account lookup). scripts/tf/parliament.py reads the documents these runs render.
provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = true
}

variables {
  bucket_name     = "ingest-tfstate-123456789012-eu-west-1"
  lock_table_name = "ingest-terraform-locks"
}

run "rendered_bucket_policy" {
  command = plan

  assert {
    condition     = toset(jsondecode(data.aws_iam_policy_document.state.json).Statement[0].Resource) == toset(["arn:aws:s3:::ingest-tfstate-123456789012-eu-west-1", "arn:aws:s3:::ingest-tfstate-123456789012-eu-west-1/*"])
    error_message = "The bucket policy covers the bucket and its objects, known at plan time."
  }
}
