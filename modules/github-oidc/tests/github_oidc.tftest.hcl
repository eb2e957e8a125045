mock_provider "aws" {
  source = "../../tests/tooling/terraform/mocks"

  mock_resource "aws_iam_openid_connect_provider" {
    defaults = {
      arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
  }

  # The administrator who applies the bootstrap: the partition and the account come from its ARN.
  mock_data "aws_caller_identity" {
    defaults = { arn = "arn:aws:iam::123456789012:user/bootstrap" }
  }

  mock_resource "aws_iam_policy" {
    defaults = {
      arn = "arn:aws:iam::123456789012:policy/ingest-boundary"
    }
  }
}

variables {
  github = { owner = "example-org", repository = "ingest" }
  scope  = { project = "ingest" }
  state  = { bucket_arn = "arn:aws:s3:::ingest-tfstate-test", lock_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-terraform-locks" }
}

run "trust_is_exact" {
  command = apply

  assert {
    condition     = aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com" && aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "The GitHub OIDC provider with audience sts.amazonaws.com."
  }

  assert {
    condition = alltrue(flatten([
      for doc in values(data.aws_iam_policy_document.trust) : [
        for s in doc.statement : [for c in s.condition : c.test == "StringEquals"]
      ]
    ]))
    error_message = "Trust conditions use StringEquals only."
  }

  assert {
    condition = alltrue(flatten([
      for doc in values(data.aws_iam_policy_document.trust) : [
        for s in doc.statement : [for c in s.condition : [for v in c.values : !strcontains(v, "*") && !strcontains(v, "?")]]
      ]
    ]))
    error_message = "No wildcard in any trusted value."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.trust["plan"].statement : [for c in s.condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"]
    ])) == toset(["repo:example-org/ingest:pull_request", "repo:example-org/ingest:ref:refs/heads/main"])
    error_message = "The plan role trusts pull requests and main only."
  }

  assert {
    condition = alltrue([
      for e, doc in data.aws_iam_policy_document.trust : toset(flatten([
        for s in doc.statement : [for c in s.condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"]
      ])) == toset(["repo:example-org/ingest:environment:${e}"]) if e != "plan"
    ]) && toset(keys(aws_iam_role.this)) == toset(["plan", "dev", "prod"]) && aws_iam_role.this["dev"].name == "ingest-dev-github-apply" && aws_iam_role.this["plan"].name == "ingest-github-plan"
    error_message = "One apply role per environment, trusted only for that GitHub environment."
  }

  assert {
    condition = alltrue(flatten([
      for doc in values(data.aws_iam_policy_document.trust) : [
        for s in doc.statement : anytrue([for c in s.condition : c.variable == "token.actions.githubusercontent.com:aud" && toset(c.values) == toset(["sts.amazonaws.com"])])
      ]
    ]))
    error_message = "Every trust statement pins the audience."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.read_only["plan"].policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess" && aws_iam_role_policy.this["plan"].name == "terraform-plan" && aws_iam_role_policy.this["plan"].policy == data.aws_iam_policy_document.this["plan"].json
    error_message = "The plan role is read-only (ReadOnlyAccess and the plan policy)."
  }

  assert {
    condition     = alltrue([for e in ["dev", "prod"] : aws_iam_role_policy.this[e].name == "terraform-apply" && aws_iam_role_policy.this[e].policy == data.aws_iam_policy_document.this[e].json && aws_iam_role_policy_attachment.read_only[e].role == aws_iam_role.this[e].name])
    error_message = "Each apply role carries its own environment's apply policy."
  }

  assert {
    condition = alltrue([
      for e in ["dev", "prod"] : alltrue([
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : alltrue([for r in s.resources : r == "*" || strcontains(r, "ingest-${e}") || strcontains(r, "ingest-tfstate-test") || strcontains(r, "ingest-terraform-locks") || strcontains(r, ":apigateway:")]) if coalesce(s.effect, "Allow") == "Allow"
      ])
    ])
    error_message = "Apply roles are allowed only on PROJECT-ENV resources (plus the state, and HTTP APIs scoped by tag)."
  }
}

# ---------------------------------------------------------------------------------------------------
# Escalations that must never come back. Resource patterns are IAM globs: '*' matches anything
# (including '/'), '?' one character; they are turned into regular expressions to be matched.
# ---------------------------------------------------------------------------------------------------
# One run: every assertion below reads the same applied module.
run "no_apply_role_can_escalate" {
  command = apply

  # No apply role reaches a deploy role.

  # Finding: ingest-dev-github-apply matched role/ingest-dev-* (FunctionRoles: UpdateAssumeRolePolicy,
  # UpdateRole, DeleteRole; PassRole): a dev apply could make its own role trust another account.
  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : [
          for r in s.resources : [
            for target in [
              "arn:aws:iam::123456789012:role/ingest-github-plan",
              "arn:aws:iam::123456789012:role/ingest-dev-github-apply",
              "arn:aws:iam::123456789012:role/ingest-prod-github-apply",
              "arn:aws:iam::123456789012:policy/ingest-dev-boundary",
              "arn:aws:iam::123456789012:policy/ingest-prod-boundary",
              "arn:aws:iam::123456789012:role/ingest-${e == "dev" ? "prod" : "dev"}-events-pipe",
            ] : !can(regex("^${replace(replace(replace(replace(replace(r, ".", "\\."), "+", "\\+"), "$", "\\$"), "*", ".*"), "?", ".")}$", target))
          ]
        ] if coalesce(s.effect, "Allow") == "Allow" && anytrue([for a in s.actions : startswith(a, "iam:")])
      ]
    ]))
    error_message = "No apply-role statement allowing an iam: action may match a deploy role (plan or any apply role), a permissions boundary or another environment's pipe role."
  }

  assert {
    condition = alltrue([
      for e in ["dev", "prod"] : anytrue([
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : s.effect == "Deny" && s.sid == "DeployRolesOutOfReach" && toset(s.resources) == toset([
          "arn:aws:iam::123456789012:role/ingest-github-plan",
          "arn:aws:iam::123456789012:role/ingest-dev-github-apply",
          "arn:aws:iam::123456789012:role/ingest-prod-github-apply",
          "arn:aws:iam::123456789012:policy/ingest-dev-boundary",
          "arn:aws:iam::123456789012:policy/ingest-prod-boundary",
          "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
          "arn:aws:iam::123456789012:role/ingest-${e == "dev" ? "prod" : "dev"}-events-pipe",
          ]) && alltrue([
          for needed in ["iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:UpdateRole", "iam:DeleteRole", "iam:PassRole", "iam:TagRole", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:SetDefaultPolicyVersion", "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider"] :
          anytrue([for a in s.actions : can(regex("^${replace(a, "*", ".*")}$", needed))])
        ])
      ])
    ])
    error_message = "Every apply role explicitly denies every IAM write on every deploy role, boundary, the OIDC provider and the other environments' pipe roles."
  }

  assert {
    condition = alltrue([
      for e in ["dev", "prod"] : anytrue([
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : s.effect == "Deny" && contains(s.actions, "iam:UpdateAssumeRolePolicy") && contains(s.resources, "*")
      ]) && alltrue([for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : !contains(s.actions, "iam:UpdateAssumeRolePolicy") if coalesce(s.effect, "Allow") == "Allow"])
    ])
    error_message = "No apply role can change any role's trust policy once it exists."
  }

  assert {
    condition     = alltrue([for r in values(aws_iam_role.this) : r.path == "/"]) && output.managed_role_paths["dev"] == "/ingest-dev/" && output.managed_role_paths["prod"] == "/ingest-prod/"
    error_message = "Deploy roles sit at the root path, outside every environment's managed path /PROJECT-ENV/."
  }

  # The roles an apply creates are bounded.
  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : toset(s.resources) == toset(["arn:aws:iam::123456789012:role/ingest-${e}/ingest-${e}-*"]) && anytrue([
          for c in s.condition : c.test == "StringEquals" && c.variable == "iam:PermissionsBoundary" && c.values == tolist(["arn:aws:iam::123456789012:policy/ingest-${e}-boundary"])
        ]) if contains(s.actions, "iam:CreateRole") || contains(s.actions, "iam:PutRolePolicy")
      ]
    ]))
    error_message = "Roles are created (and their inline policies written) only under /PROJECT-ENV/, named PROJECT-ENV-*, with the environment's boundary."
  }

  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : anytrue([
          for c in s.condition : c.test == "StringEquals" && c.variable == "iam:PassedToService" && (
            (c.values == tolist(["lambda.amazonaws.com"]) && s.resources == toset(["arn:aws:iam::123456789012:role/ingest-${e}/ingest-${e}-*"])) ||
            (c.values == tolist(["pipes.amazonaws.com"]) && s.resources == toset(["arn:aws:iam::123456789012:role/ingest-${e}-events-pipe"]))
          )
        ]) if contains(s.actions, "iam:PassRole") && coalesce(s.effect, "Allow") == "Allow"
      ]
    ]))
    error_message = "The roles an apply creates are passed to Lambda only; to Pipes, only the environment's own pipe role, which the bootstrap created."
  }

  # Finding: the boundary allowed dynamodb:GetItem and Query: a role an apply creates could read events.
  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in data.aws_iam_policy_document.this["${e}-boundary"].statement : [
          for a in s.actions : !contains(["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:PartiQLSelect", "dynamodb:Query", "dynamodb:Scan", "dynamodb:ExportTableToPointInTime"], a) && !can(regex("^dynamodb:(\\*|Get\\*|Batch\\*|Partiql.*\\*|.*\\*)$", a))
        ]
      ]
    ]))
    error_message = "The boundary grants no read of event data (no GetItem, Query, Scan, stream reads, no dynamodb wildcard)."
  }

  assert {
    condition = alltrue([
      for e in ["dev", "prod"] : toset(flatten([for s in data.aws_iam_policy_document.this["${e}-boundary"].statement : s.actions if anytrue([for a in s.actions : startswith(a, "dynamodb:")])])) == toset(["dynamodb:BatchWriteItem", "dynamodb:PutItem"])
    ])
    error_message = "The boundary's DynamoDB grant is exactly what the function calls: PutItem and BatchWriteItem."
  }

  # Finding: the boundary allowed every secret and parameter of the region.
  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in data.aws_iam_policy_document.this["${e}-boundary"].statement : [
          for r in s.resources : startswith(r, "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ingest-${e}/") || startswith(r, "arn:aws:ssm:eu-west-1:123456789012:parameter/ingest-${e}/")
        ] if anytrue([for a in s.actions : startswith(a, "secretsmanager:") || startswith(a, "ssm:")])
      ]
    ]))
    error_message = "The boundary reaches only the environment's own secrets (PROJECT-ENV/...) and parameters (/PROJECT-ENV/...)."
  }

  # Finding: iam:CreateRole does not constrain the new role's trust. IAM cannot look into a trust
  # document; the boundary makes the role useless to anything but the environment's functions.
  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in data.aws_iam_policy_document.this["${e}-boundary"].statement : anytrue([
          for c in s.condition : c.test == "ArnLike" && c.variable == "lambda:SourceFunctionArn" && c.values == tolist(["arn:aws:lambda:eu-west-1:123456789012:function:ingest-${e}-*"])
        ]) if s.sid != "Tracing"
      ]
    ]))
    error_message = "Every boundary grant but X-Ray requires credentials Lambda issued to one of the environment's functions."
  }

  # Issue 12: the pipe's role is the bootstrap's. An apply may pass it to Pipes, never change it; the
  # pipe, bus, rules and queues it manages are its environment's, and no deploy role reads a queue.
  assert {
    condition     = toset(keys(module.pipe_role)) == toset(["dev", "prod"]) && output.managed_role_paths["dev"] == "/ingest-dev/"
    error_message = "The bootstrap creates one pipe role per environment."
  }

  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : alltrue([
          for r in s.resources : !can(regex("^${replace(r, "*", ".*")}$", "arn:aws:iam::123456789012:role/ingest-${e}-events-pipe"))
        ]) if coalesce(s.effect, "Allow") == "Allow" && anytrue([for a in s.actions : startswith(a, "iam:") && a != "iam:PassRole"])
      ]
    ]))
    error_message = "No apply statement allows an IAM action but PassRole on the environment's pipe role."
  }

  assert {
    condition = alltrue([
      for e in ["dev", "prod"] : anytrue([
        for s in data.aws_iam_policy_document.this[e].statement : s.effect == "Deny" && s.resources == toset(["arn:aws:iam::123456789012:role/ingest-${e}-events-pipe"]) && !contains(s.actions, "iam:PassRole") && alltrue([for a in ["iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateRole", "iam:DeleteRole", "iam:TagRole"] : anytrue([for d in s.actions : can(regex("^${replace(d, "*", ".*")}$", a))])])
      ])
    ])
    error_message = "Every apply role explicitly denies IAM writes on its own pipe role (and may only pass it)."
  }

  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in data.aws_iam_policy_document.this["${e}-consumers"].statement : alltrue([for r in s.resources : strcontains(r, ":ingest-${e}-") || strcontains(r, "/ingest-${e}-")])
      ]
    ]))
    error_message = "The consumers' grants reach only the environment's pipe, bus, rules, queues and pipe role."
  }

  assert {
    condition = alltrue([
      for e in ["dev", "prod"] : anytrue([
        for s in data.aws_iam_policy_document.this["${e}-consumers"].statement : s.sid == "RuleTargets" && anytrue([for c in s.condition : c.test == "ForAllValues:ArnLike" && c.variable == "events:TargetArn" && c.values == tolist(["arn:aws:sqs:eu-west-1:123456789012:ingest-${e}-*"])])
      ])
    ])
    error_message = "A rule's targets are the environment's own queues."
  }

  assert {
    condition = alltrue([
      for k in ["plan", "dev", "prod"] : anytrue([
        for s in data.aws_iam_policy_document.this[k].statement : s.effect == "Deny" && contains(s.actions, "sqs:ReceiveMessage") && s.resources == toset(["arn:aws:sqs:*:123456789012:ingest-dev-*", "arn:aws:sqs:*:123456789012:ingest-prod-*"])
      ])
    ])
    error_message = "No deploy role reads the events waiting in a queue (ReadOnlyAccess would allow sqs:ReceiveMessage)."
  }

  assert {
    condition     = alltrue([for e in ["dev", "prod"] : aws_iam_role_policy_attachment.consumers[e].role == aws_iam_role.this[e].name && aws_iam_policy.this["${e}-consumers"].name == "ingest-${e}-github-consumers" && aws_iam_policy.this[e].name == "ingest-${e}-boundary"])
    error_message = "Each apply role carries its environment's consumers policy; the boundaries keep their names."
  }

  # Tag-scoped statements cannot claim other resources.

  # Finding: kms:TagResource on * conditioned only on the request tag let the dev role retag any key
  # (prod's too) to Environment=dev and then manage it.
  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : anytrue([for c in s.condition : startswith(c.variable, "aws:ResourceTag/")]) if coalesce(s.effect, "Allow") == "Allow" && anytrue([for a in s.actions : can(regex("^(kms|apigateway):(TagResource|UntagResource|\\*|Tag\\*|Untag\\*)$", a))])
      ]
    ]))
    error_message = "No Allow on KMS or API Gateway tagging without a condition on the resource's existing tag (aws:ResourceTag)."
  }

  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : toset(s.actions) == toset(["kms:CreateKey"]) || toset(s.resources) == toset(["arn:aws:kms:eu-west-1:123456789012:alias/ingest-${e}-*"])
        if coalesce(s.effect, "Allow") == "Allow" && anytrue([for a in s.actions : startswith(a, "kms:")])
      ]
    ]))
    error_message = "No IAM Allow reaches an existing KMS key: apply roles create keys (untagged) and aliases under their prefix; a key is administered through its own key policy."
  }

  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : (
          anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "aws:ResourceTag/Environment" && c.values == tolist([e])]) ||
          (alltrue([for r in s.resources : endswith(r, "::/apis") || endswith(r, "::/domainnames")]) && toset(s.actions) == toset(["apigateway:POST"]) && anytrue([for c in s.condition : c.test == "StringEquals" && c.variable == "aws:RequestTag/Environment" && c.values == tolist([e])]))
        ) if coalesce(s.effect, "Allow") == "Allow" && anytrue([for a in s.actions : startswith(a, "apigateway:")])
      ]
    ]))
    error_message = "Finding: any HTTP API of the region was writable. API Gateway writes need the environment's tag on the API or domain; only creating one (POST on the collection) goes by the request tag."
  }

  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : anytrue([
          for c in s.condition : c.test == "ForAllValues:StringEquals" && c.variable == "aws:TagKeys" && length(setsubtract(toset(c.values), toset(["Environment", "ManagedBy", "Project"]))) == 0
        ]) if coalesce(s.effect, "Allow") == "Allow" && (anytrue([for c in s.condition : startswith(c.variable, "aws:RequestTag/")]) || anytrue([for r in s.resources : endswith(r, "::/tags/*")]))
      ]
    ]))
    error_message = "Every statement that sets tags restricts aws:TagKeys to the known keys."
  }

  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : alltrue([for c in s.condition : !contains(c.values, "Environment") if c.variable == "aws:TagKeys"]) if anytrue([for r in s.resources : endswith(r, "::/tags/*")])
      ]
    ]))
    error_message = "Retagging never touches the Environment key."
  }

  # Event data and the service's configuration are denied.

  # The claim-check buckets (modules/event-store): payloads are read by people, never by a deploy;
  # an apply manages its own environment's bucket by name and may empty it, never read it; the
  # function may only put payloads.
  assert {
    condition = alltrue(flatten([
      for k in ["plan", "dev", "prod"] : [
        for key in ["dev", "prod"] : anytrue([
          for s in data.aws_iam_policy_document.this[k].statement : s.effect == "Deny" && contains(s.actions, "s3:GetObject") && contains(s.resources, "arn:aws:s3:::ingest-${key}-payloads-*/*")
        ])
      ]
    ]))
    error_message = "Every deploy role is denied reading the payloads of every environment (ReadOnlyAccess would allow s3:GetObject)."
  }

  assert {
    condition = alltrue([
      for e in ["dev", "prod"] : toset(flatten([
        for s in data.aws_iam_policy_document.this[e].statement : [for a in s.actions : "${a} ${join(",", s.resources)}"] if coalesce(s.effect, "Allow") == "Allow" && anytrue([for r in s.resources : strcontains(r, "-payloads-")])
        ])) == toset(concat(
        [for a in ["CreateBucket", "DeleteBucket", "DeleteBucketPolicy", "PutBucketOwnershipControls", "PutBucketPolicy", "PutBucketPublicAccessBlock", "PutBucketTagging", "PutEncryptionConfiguration", "PutLifecycleConfiguration"] : "s3:${a} arn:aws:s3:::ingest-${e}-payloads-*"],
        [for a in ["DeleteObject", "DeleteObjectVersion"] : "s3:${a} arn:aws:s3:::ingest-${e}-payloads-*/*"],
        )) && flatten([
        for s in data.aws_iam_policy_document.this["${e}-boundary"].statement : [for a in s.actions : "${a} ${join(",", s.resources)}"] if anytrue([for a in s.actions : startswith(a, "s3:")])
      ]) == ["s3:PutObject arn:aws:s3:::ingest-${e}-payloads-*/payloads/*"]
    ])
    error_message = "An apply role configures, creates, deletes and empties only its environment's payload bucket (no read), and the boundary lets the function put payloads only."
  }

  assert {
    condition = alltrue([
      for key in ["dev", "prod"] : anytrue([
        for s in data.aws_iam_policy_document.this["plan"].statement : s.effect == "Deny" && contains(s.resources, "arn:aws:dynamodb:*:123456789012:table/ingest-${key}-*") && length(setsubtract(toset(["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem", "dynamodb:GetRecords", "dynamodb:PartiQLSelect", "dynamodb:ExportTableToPointInTime"]), toset(s.actions))) == 0
      ])
    ])
    error_message = "Every deploy role is denied reading, exporting or backing up event data of every environment."
  }

  assert {
    condition = alltrue([
      for key in ["dev", "prod"] : anytrue([
        for s in data.aws_iam_policy_document.this["plan"].statement : s.effect == "Deny" && contains(s.resources, "arn:aws:secretsmanager:*:123456789012:secret:ingest-${key}/*") && contains(s.resources, "arn:aws:ssm:*:123456789012:parameter/ingest-${key}/*") && contains(s.actions, "secretsmanager:GetSecretValue") && contains(s.actions, "ssm:GetParameter")
      ])
    ])
    error_message = "Every deploy role is denied the service's secrets and parameters (ReadOnlyAccess would allow ssm:GetParameter)."
  }

  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : alltrue([for r in s.resources : !startswith(r, "arn:aws:s3:::ingest-tfstate-test/") || startswith(r, "arn:aws:s3:::ingest-tfstate-test/${e}/")]) if anytrue([for a in s.actions : contains(["s3:PutObject", "s3:DeleteObject"], a)])
      ]
    ]))
    error_message = "An apply role writes (and unlocks) only its own environment's state objects."
  }

  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : anytrue([for c in s.condition : c.variable == "dynamodb:LeadingKeys" && c.values == tolist(["ingest-tfstate-test/${e}/*"])]) if contains(s.actions, "dynamodb:DeleteItem")
      ]
    ]))
    error_message = "An apply role takes and releases only its own environment's lock items."
  }

  assert {
    condition = alltrue(flatten([
      for e in ["dev", "prod"] : [
        for s in concat(data.aws_iam_policy_document.this[e].statement, data.aws_iam_policy_document.this["${e}-consumers"].statement) : anytrue([for c in s.condition : c.variable == "lambda:Principal" && c.values == tolist(["apigateway.amazonaws.com"])]) if contains(s.actions, "lambda:AddPermission")
      ]
    ]))
    error_message = "A function's resource policy may only be extended to API Gateway."
  }
}

# The inputs each run rejects are one per variable, so every expected failure is that input's own
# (the state's checks need a valid scope: they name its prefixes).
# Finding: ingest-dev-* also matched an environment named dev-eu. '-' is the delimiter after the
# environment: neither the project nor an environment may contain it.
run "rejects_names_that_extend_another_prefix" {
  command = plan

  variables {
    scope = { project = "my-proj", environments = ["dev", "dev-eu"] }
  }

  expect_failures = [var.scope]
}

# github, terraform and tfstate would put a deploy role or the state under an environment's prefix;
# the deploy roles are keyed "plan" and by environment: an environment named plan would take the
# plan role's place. A wildcard branch would widen the plan role's trust.
run "rejects_reserved_environments_and_a_wildcard_branch" {
  command = plan

  variables {
    scope  = { project = "ingest", environments = ["dev", "terraform", "plan"] }
    github = { owner = "example-org", repository = "ingest", plan_branches = ["release/*"] }
  }

  expect_failures = [var.scope, var.github]
}

# A lock table named like an environment's resources could be deleted by its apply role; a
# provider other than GitHub's must never be trusted.
run "rejects_a_lock_table_inside_an_environment_and_a_foreign_provider" {
  command = plan

  variables {
    state  = { bucket_arn = "arn:aws:s3:::ingest-tfstate-test", lock_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-dev-locks" }
    github = { owner = "example-org", repository = "ingest", oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/accounts.google.com" }
  }

  expect_failures = [var.state, var.github]
}

run "rejects_a_wildcard_owner_and_a_malformed_state_bucket" {
  command = plan

  variables {
    github = { owner = "*", repository = "ingest" }
    state  = { bucket_arn = "ingest-tfstate-test", lock_table_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-terraform-locks" }
  }

  expect_failures = [var.github, var.state]
}

run "rejects_a_wildcard_repository_and_no_environment" {
  command = plan

  variables {
    github = { owner = "example-org", repository = "ingest*" }
    scope  = { project = "ingest", environments = [] }
  }

  expect_failures = [var.github, var.scope]
}

run "reuse_existing_provider" {
  command = apply

  variables {
    github = { owner = "example-org", repository = "ingest", oidc_provider_arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com" }
    scope  = { project = "ingest", environments = ["prod"] }
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0 && output.oidc_provider_arn == var.github.oidc_provider_arn
    error_message = "An existing provider is reused."
  }
}
