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

run "rendered_deploy_policies" {
  command = plan

  variables {
    github = { owner = "example-org", repository = "ingest" }
    scope  = { project = "ingest" }
    state  = { bucket_arn = "arn:aws:s3:::ingest-tfstate-123456789012-eu-west-1", lock_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-terraform-locks" }
  }

  # The caller is a person or pipeline of the account (the partition and the account come from its ARN).
  override_data {
    target = data.aws_caller_identity.current
    values = { arn = "arn:aws:iam::123456789012:user/bootstrap" }
  }

  # IAM counts a role's inline policies together (10,240 characters, whitespace excluded) and a
  # managed policy alone (6,144).
  assert {
    condition = alltrue([
      for k in ["plan", "dev", "prod"] : length(replace(data.aws_iam_policy_document.this[k].json, "/\\s/", "")) + length(replace(data.aws_iam_policy_document.trust[k].json, "/\\s/", "")) < 10240
    ]) && alltrue([for e in ["dev", "prod"] : length(replace(data.aws_iam_policy_document.this["${e}-boundary"].json, "/\\s/", "")) < 6144 && length(replace(data.aws_iam_policy_document.this["${e}-consumers"].json, "/\\s/", "")) < 6144])
    error_message = "The inline policies fit IAM's 10,240-character limit per role, the boundaries the 6,144 of a managed policy."
  }

  assert {
    condition = alltrue([
      for e in ["dev", "prod"] : toset([for s in jsondecode(data.aws_iam_policy_document.this[e].json).Statement : s.Sid]) == toset([
        "StateList", "StateRead", "LockTable", "NoEventData", "NoQueuedEvents", "NoServiceConfiguration", "NoEventPayloads",
        "StateWrite", "StateLockItems", "Tables", "Functions", "FunctionInvokePermissions",
        "FunctionRolesWithBoundary", "FunctionRoles", "PassFunctionRoles", "LogGroups", "AccessLogDelivery",
        "CreateTaggedHttpApis", "ManageTaggedHttpApis", "RetagTaggedHttpApis", "Alarms", "Dashboards", "Topics",
        "CreateUntaggedKeys", "KeyAliases", "NoKeyLockout", "PayloadBuckets", "EmptyPayloadBuckets", "KeepTrustAndBoundaries", "DeployRolesOutOfReach", "OwnPipeRoleAsItIs",
      ]) && toset([for s in jsondecode(data.aws_iam_policy_document.this["${e}-consumers"].json).Statement : s.Sid]) == toset(["Pipes", "PassPipeRole", "BusesAndRules", "RuleTargets", "Queues"])
    ])
    error_message = "The apply policy is the shared statements plus its own; the plan role's lock grants (every environment's lock) are not among them."
  }

  assert {
    condition = alltrue([
      for k in ["plan", "dev", "prod", "dev-consumers"] : alltrue([
        for s in jsondecode(data.aws_iam_policy_document.this[k].json).Statement : s.Effect == (startswith(s.Sid, "No") || contains(["KeepTrustAndBoundaries", "DeployRolesOutOfReach", "OwnPipeRoleAsItIs"], s.Sid) ? "Deny" : "Allow")
      ])
    ])
    error_message = "The guards render as Deny statements, every other statement as Allow."
  }

  assert {
    condition = alltrue([
      for e in ["dev", "prod"] : alltrue([
        for s in jsondecode(data.aws_iam_policy_document.this["${e}-boundary"].json).Statement : try(length(s.Condition.ArnLike["lambda:SourceFunctionArn"]) > 0, false) if s.Sid != "Tracing"
      ])
    ])
    error_message = "Every boundary grant but X-Ray is conditioned on lambda:SourceFunctionArn."
  }

  # The pipe roles: what the environment's pipe reads, puts and parks, nothing else.
  assert {
    condition = alltrue([
      for e in ["dev", "prod"] : toset(flatten([for s in jsondecode(module.pipe_role[e].policy).Statement : s.Resource])) == toset([
        "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-${e}-events/stream/*",
        "*",
        "arn:aws:events:eu-west-1:123456789012:event-bus/ingest-${e}-events",
        "arn:aws:sqs:eu-west-1:123456789012:ingest-${e}-pipe-dlq",
      ]) && jsondecode(module.pipe_role[e].assume_role_policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == "arn:aws:pipes:eu-west-1:123456789012:pipe/ingest-${e}-events"
    ])
    error_message = "Each environment's pipe role reads its table's stream, puts to its bus and its dead-letter queue, for its pipe only."
  }
}
