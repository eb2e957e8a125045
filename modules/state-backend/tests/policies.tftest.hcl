# The bucket policy as the real provider renders them, at plan time and offline: the credentials
# are fake ones from the environment (make tf-test and scripts/tf/iam_lint.py set them) and there
# is no account lookup. scripts/tf/iam_lint.py lints the documents these runs render.
provider "aws" {
  region                      = "eu-west-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
}

run "rendered_bucket_policy" {
  command = plan

  variables {
    bucket     = { name = "ingest-tfstate-123456789012-eu-west-1" }
    lock_table = { name = "ingest-terraform-locks" }
  }

  assert {
    condition     = toset(jsondecode(data.aws_iam_policy_document.state.json).Statement[0].Resource) == toset(["arn:aws:s3:::ingest-tfstate-123456789012-eu-west-1", "arn:aws:s3:::ingest-tfstate-123456789012-eu-west-1/*"])
    error_message = "The bucket policy covers the bucket and its objects, known at plan time."
  }
}
