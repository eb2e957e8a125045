# The deploy roles' policies, trust and boundaries as the real provider renders them, at plan time
# and offline: the credentials are fake ones from the environment (make tf-test and
# scripts/tf/iam_lint.py set them) and there is no account lookup. scripts/tf/iam_lint.py lints
# the documents these runs render. The assertions check what only the rendered JSON shows (merged
# documents, sizes, exact conditions).
provider "aws" {
  region                      = "eu-west-1"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
}

variables {
  repository = { owner = "example-org", name = "ingest" }
  project    = "ingest"
  state      = { bucket_arn = "arn:aws:s3:::ingest-tfstate-123456789012-eu-west-1", lock_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-terraform-locks" }
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

run "rendered_deploy_policies" {
  command = plan

  # IAM counts a role's inline policies together (10,240 characters, whitespace excluded) and a
  # managed policy alone (6,144).
  assert {
    condition = alltrue([
      for e, doc in data.aws_iam_policy_document.apply :
      length(replace(doc.json, "/\\s/", "")) + length(replace(data.aws_iam_policy_document.trust[e].json, "/\\s/", "")) < 10240
    ]) && length(replace(data.aws_iam_policy_document.plan.json, "/\\s/", "")) + length(replace(data.aws_iam_policy_document.trust["plan"].json, "/\\s/", "")) < 10240
    error_message = "The inline policies fit IAM's 10,240-character limit per role."
  }

  assert {
    condition     = alltrue([for doc in values(data.aws_iam_policy_document.boundary) : length(replace(doc.json, "/\\s/", "")) < 6144])
    error_message = "The boundaries fit IAM's 6,144-character limit for managed policies."
  }

  assert {
    condition = alltrue([
      for e, doc in data.aws_iam_policy_document.apply : toset([for s in jsondecode(doc.json).Statement : s.Sid]) == toset([
        "StateList", "StateRead", "LockTable", "NoEventData", "NoServiceConfiguration",
        "StateWrite", "StateLockItems", "Tables", "Functions", "FunctionInvokePermissions",
        "FunctionRolesWithBoundary", "FunctionRoles", "PassFunctionRoles", "LogGroups", "AccessLogDelivery",
        "CreateTaggedHttpApis", "ManageTaggedHttpApis", "RetagTaggedHttpApis", "Alarms", "Dashboards", "Topics",
        "CreateUntaggedKeys", "KeyAliases", "NoKeyLockout", "KeepTrustAndBoundaries", "DeployRolesOutOfReach",
      ])
    ])
    error_message = "The apply policy is the shared statements plus its own; the plan role's lock grants (every environment's lock) are not among them."
  }

  assert {
    condition = alltrue([
      for e, doc in data.aws_iam_policy_document.apply : alltrue([
        for s in jsondecode(doc.json).Statement : s.Effect == "Deny" if contains(["NoEventData", "NoServiceConfiguration", "NoKeyLockout", "KeepTrustAndBoundaries", "DeployRolesOutOfReach"], s.Sid)
      ])
    ])
    error_message = "The guards render as Deny statements."
  }

  assert {
    condition = alltrue([
      for doc in values(data.aws_iam_policy_document.boundary) : alltrue([
        for s in jsondecode(doc.json).Statement : try(length(s.Condition.ArnLike["lambda:SourceFunctionArn"]) > 0, false) if s.Sid != "Tracing"
      ])
    ])
    error_message = "Every boundary grant but X-Ray is conditioned on lambda:SourceFunctionArn."
  }
}
