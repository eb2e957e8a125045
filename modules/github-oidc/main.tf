data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  repo      = "${var.repository.owner}/${var.repository.name}"
  issuer    = "token.actions.githubusercontent.com"
  iam       = "arn:${local.partition}:iam::${local.account}"

  # ARNs are built from names, not read from resources, so every policy document is known at plan
  # time: the pull request's plan shows the full policies, and the tests read them rendered.
  oidc_provider_arn = var.oidc_provider.create ? "${local.iam}:oidc-provider/${local.issuer}" : var.oidc_provider.arn

  plan_subjects = concat(
    ["repo:${local.repo}:pull_request"],
    [for b in var.plan_branches : "repo:${local.repo}:ref:refs/heads/${b}"],
  )

  # Everything an environment owns is named PROJECT-ENV-* (or lives under PROJECT-ENV/ where the
  # name is a path: IAM roles, secrets, parameters). Neither PROJECT nor ENV may contain '-' or '/'
  # (see the validations), so the delimiter after ENV cannot be extended: ingest-dev-* never
  # matches another environment's ingest-deveu-* or a project named ingest-dev.
  prefixes = { for e in var.environments : e => "${var.project}-${e}" }

  # The roles an apply creates live under the path /PROJECT-ENV/ and are named PROJECT-ENV-*.
  role_paths          = { for e, p in local.prefixes : e => "/${p}/" }
  managed_role_arns   = { for e, p in local.prefixes : e => "${local.iam}:role/${p}/${p}-*" }
  boundary_arns       = { for e, p in local.prefixes : e => "${local.iam}:policy/${p}-boundary" }
  lambda_function_arn = { for e, p in local.prefixes : e => "arn:${local.partition}:lambda:${local.region}:${local.account}:function:${p}-*" }

  # The deploy roles themselves sit at the root path: outside every environment's managed path, and
  # named outside its PROJECT-ENV/PROJECT-ENV-* role scope.
  plan_role_name   = "${var.project}-github-plan"
  apply_role_names = { for e, p in local.prefixes : e => "${p}-github-apply" }
  deploy_role_arns = concat(
    ["${local.iam}:role/${local.plan_role_name}"],
    [for e in var.environments : "${local.iam}:role/${local.apply_role_names[e]}"],
  )

  bucket_name = element(split(":::", var.state.bucket_arn), 1)
  apigateway  = "arn:${local.partition}:apigateway:${local.region}:"
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.oidc_provider.create ? 1 : 0
  url            = "https://${local.issuer}"
  client_id_list = ["sts.amazonaws.com"]
  # AWS validates GitHub's certificate against its own trust store; the thumbprint is kept for older APIs.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
  tags            = var.tags
}

# ---------------------------------------------------------------------------------------------------
# The deploy roles: the plan role and one apply role per environment (keyed "plan" and by environment;
# "plan" is a reserved environment name). Their trust differs only in the statement's Sid and the
# subjects: exact audience and subject, StringEquals only (no wildcards).
# ---------------------------------------------------------------------------------------------------
locals {
  roles = merge(
    { for e, p in local.prefixes : e => {
      name        = local.apply_role_names[e]
      description = "terraform apply for the ${e} GitHub environment (writes only ${p} resources)"
      sid         = "GitHubEnvironment"
      subjects    = ["repo:${local.repo}:environment:${e}"]
      policy_name = "terraform-apply"
    } },
    { plan = {
      name        = local.plan_role_name
      description = "terraform plan from pull requests and ${join(", ", var.plan_branches)} (read-only)"
      sid         = "GitHubPlan"
      subjects    = local.plan_subjects
      policy_name = "terraform-plan"
    } },
  )
}

data "aws_iam_policy_document" "trust" {
  #checkov:skip=CKV_AWS_358:The subjects are exact (repo:OWNER/REPO:pull_request, repo:OWNER/REPO:ref:refs/heads/BRANCH, repo:OWNER/REPO:environment:ENV; StringEquals, wildcards rejected by the validations, asserted in tests/github_oidc.tftest.hcl); checkov misreads condition values that come from a for_each.
  for_each = local.roles

  statement {
    sid     = each.value.sid
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = each.value.subjects
    }
  }
}

resource "aws_iam_role" "this" {
  for_each             = local.roles
  name                 = each.value.name
  path                 = "/"
  description          = each.value.description
  assume_role_policy   = data.aws_iam_policy_document.trust[each.key].json
  max_session_duration = var.max_session_duration
  tags                 = var.tags

  depends_on = [aws_iam_openid_connect_provider.github]
}

# Both kinds read everything a plan refreshes; what else each may do is its inline policy below.
resource "aws_iam_role_policy_attachment" "read_only" {
  for_each   = local.roles
  role       = aws_iam_role.this[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "this" {
  for_each = local.roles
  name     = each.value.policy_name
  role     = aws_iam_role.this[each.key].id
  policy   = each.key == "plan" ? data.aws_iam_policy_document.plan.json : data.aws_iam_policy_document.apply[each.key].json
}

# The roles, their read-only attachments and inline policies were a plan and an apply resource each.
moved {
  from = aws_iam_role.apply
  to   = aws_iam_role.this
}

moved {
  from = aws_iam_role.plan
  to   = aws_iam_role.this["plan"]
}

moved {
  from = aws_iam_role_policy_attachment.apply_read_only
  to   = aws_iam_role_policy_attachment.read_only
}

moved {
  from = aws_iam_role_policy_attachment.plan_read_only
  to   = aws_iam_role_policy_attachment.read_only["plan"]
}

moved {
  from = aws_iam_role_policy.apply
  to   = aws_iam_role_policy.this
}

moved {
  from = aws_iam_role_policy.plan
  to   = aws_iam_role_policy.this["plan"]
}

# ---------------------------------------------------------------------------------------------------
# What every deploy role shares: reading the state, and explicit denies on what ReadOnlyAccess would
# otherwise let it read (event data, the service's secrets and parameters).
# ---------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "common" {
  statement {
    sid       = "StateList"
    actions   = ["s3:ListBucket"]
    resources = [var.state.bucket_arn]
  }

  statement {
    sid       = "StateRead"
    actions   = ["s3:GetObject"]
    resources = ["${var.state.bucket_arn}/*"]
  }

  statement {
    sid       = "LockTable"
    actions   = ["dynamodb:DescribeTable"]
    resources = [var.state.lock_table_arn]
  }

  # Events are read by people with their own credentials (ingest events ...), never by a deploy.
  statement {
    sid    = "NoEventData"
    effect = "Deny"
    actions = [
      "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
      "dynamodb:PartiQLSelect", "dynamodb:Query", "dynamodb:Scan",
      "dynamodb:CreateBackup", "dynamodb:ExportTableToPointInTime", "dynamodb:RestoreTableFromBackup",
      "dynamodb:RestoreTableToPointInTime", "dynamodb:EnableKinesisStreamingDestination",
      "dynamodb:PutResourcePolicy",
    ]
    resources = flatten([for p in values(local.prefixes) : [
      "arn:${local.partition}:dynamodb:*:${local.account}:table/${p}-*",
      "arn:${local.partition}:dynamodb:*:${local.account}:table/${p}-*/*",
    ]])
  }

  # The webhook secrets and the sources parameter are the function's, not the deploy's.
  statement {
    sid    = "NoServiceConfiguration"
    effect = "Deny"
    actions = [
      "secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters",
      "ssm:GetParametersByPath",
    ]
    resources = flatten([for p in values(local.prefixes) : [
      "arn:${local.partition}:secretsmanager:*:${local.account}:secret:${p}/*",
      "arn:${local.partition}:ssm:*:${local.account}:parameter/${p}",
      "arn:${local.partition}:ssm:*:${local.account}:parameter/${p}/*",
    ]])
  }
}

# A plan takes the state lock of whichever environment it plans (S3 lock file and DynamoDB item).
data "aws_iam_policy_document" "plan" {
  source_policy_documents = [data.aws_iam_policy_document.common.json]

  statement {
    sid       = "StateLockFile"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.state.bucket_arn}/*.tflock"]
  }

  statement {
    sid       = "StateLockItems"
    actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [var.state.lock_table_arn]
  }
}

# ---------------------------------------------------------------------------------------------------
# Permissions boundary every role created by an apply role must carry: the ceiling of what the
# function may ever do, whatever an apply writes into its inline policy. It grants writes of events,
# never reads, and only to requests made with credentials Lambda issued to one of the environment's
# functions (lambda:SourceFunctionArn, which only Lambda injects): a role an apply creates is worth
# nothing to whoever else its trust policy might name.
# ---------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "boundary" {
  for_each = local.prefixes

  statement {
    sid       = "WriteEvents"
    actions   = ["dynamodb:BatchWriteItem", "dynamodb:PutItem"]
    resources = ["arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${each.value}-*"]

    condition {
      test     = "ArnLike"
      variable = "lambda:SourceFunctionArn"
      values   = [local.lambda_function_arn[each.key]]
    }
  }

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${each.value}-*"]

    condition {
      test     = "ArnLike"
      variable = "lambda:SourceFunctionArn"
      values   = [local.lambda_function_arn[each.key]]
    }
  }

  statement {
    sid     = "Configuration"
    actions = ["secretsmanager:GetSecretValue", "ssm:GetParameter"]
    resources = [
      "arn:${local.partition}:secretsmanager:${local.region}:${local.account}:secret:${each.value}/*",
      "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter/${each.value}/*",
    ]

    condition {
      test     = "ArnLike"
      variable = "lambda:SourceFunctionArn"
      values   = [local.lambda_function_arn[each.key]]
    }
  }

  # X-Ray has no resource-level permissions; trace segments carry no event data.
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "boundary" {
  for_each    = local.prefixes
  name        = "${each.value}-boundary"
  description = "Permissions boundary of the roles the ${each.key} deploy role creates"
  policy      = data.aws_iam_policy_document.boundary[each.key].json
  tags        = var.tags
}

# ---------------------------------------------------------------------------------------------------
# The apply roles' inline policy: writes only on the environment's resources.
# ---------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "apply" {
  for_each = local.prefixes

  source_policy_documents = [data.aws_iam_policy_document.common.json]

  # The environment's own state, and its own lock file under it.
  statement {
    sid       = "StateWrite"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.state.bucket_arn}/${each.key}/*"]
  }

  # Lock items are keyed BUCKET/KEY (and BUCKET/KEY-md5): only the environment's own.
  statement {
    sid       = "StateLockItems"
    actions   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [var.state.lock_table_arn]

    condition {
      test     = "ForAllValues:StringLike"
      variable = "dynamodb:LeadingKeys"
      values   = ["${local.bucket_name}/${each.key}/*"]
    }

    condition {
      test     = "Null"
      variable = "dynamodb:LeadingKeys"
      values   = ["false"]
    }
  }

  statement {
    sid = "Tables"
    actions = [
      "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive",
      "dynamodb:UpdateContinuousBackups", "dynamodb:TagResource", "dynamodb:UntagResource",
      "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive",
      "dynamodb:ListTagsOfResource",
    ]
    resources = [
      "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${each.value}-*",
      "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${each.value}-*/*",
    ]
  }

  statement {
    sid = "Functions"
    actions = [
      "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:DeleteFunctionConcurrency",
      "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency",
      "lambda:GetFunctionConfiguration", "lambda:GetPolicy", "lambda:ListTags", "lambda:ListVersionsByFunction",
      "lambda:PublishVersion", "lambda:PutFunctionConcurrency", "lambda:RemovePermission", "lambda:TagResource",
      "lambda:UntagResource", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
    ]
    resources = [local.lambda_function_arn[each.key]]
  }

  # A function's resource policy may only let API Gateway invoke it (never another account).
  statement {
    sid       = "FunctionInvokePermissions"
    actions   = ["lambda:AddPermission"]
    resources = [local.lambda_function_arn[each.key]]

    condition {
      test     = "StringEquals"
      variable = "lambda:Principal"
      values   = ["apigateway.amazonaws.com"]
    }
  }

  # Roles are created under the environment's path, with its boundary, and never trust anything
  # new afterwards (UpdateAssumeRolePolicy is denied below). IAM has no condition key on the trust
  # document itself: what makes a role's trust harmless is the boundary (see above).
  statement {
    sid = "FunctionRolesWithBoundary"
    actions = [
      "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
    ]
    resources = [local.managed_role_arns[each.key]]

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arns[each.key]]
    }
  }

  statement {
    sid = "FunctionRoles"
    actions = [
      "iam:DeleteRole", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies", "iam:TagRole", "iam:UntagRole",
      "iam:UpdateRole", "iam:UpdateRoleDescription",
    ]
    resources = [local.managed_role_arns[each.key]]
  }

  statement {
    sid       = "PassFunctionRoles"
    actions   = ["iam:PassRole"]
    resources = [local.managed_role_arns[each.key]]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }

  statement {
    sid = "LogGroups"
    actions = [
      "logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy",
      "logs:DisassociateKmsKey", "logs:ListTagsForResource", "logs:ListTagsLogGroup", "logs:PutRetentionPolicy",
      "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource",
    ]
    resources = [
      "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${each.value}-*",
      "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/apigateway/${each.value}-*",
    ]
  }

  # API Gateway access logging uses CloudWatch Logs vended-log deliveries, which have no resource ARNs.
  statement {
    sid = "AccessLogDelivery"
    actions = [
      "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
      "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
    ]
    resources = ["*"]
  }

  # HTTP API and custom domain ARNs carry generated IDs and domain names, not our names: they are
  # scoped by the Environment tag. Created only with it (and only with the known tag keys) ...
  statement {
    sid       = "CreateTaggedHttpApis"
    actions   = ["apigateway:POST"]
    resources = ["${local.apigateway}:/apis", "${local.apigateway}:/domainnames"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = var.allowed_tag_keys
    }
  }

  # ... changed only while they carry it (routes, integrations, authorizers, stages and API
  # mappings are evaluated with their API's or domain's tags) ...
  statement {
    sid       = "ManageTaggedHttpApis"
    actions   = ["apigateway:DELETE", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT"]
    resources = ["${local.apigateway}:/apis/*", "${local.apigateway}:/domainnames/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }

    condition {
      test     = "StringEqualsIfExists"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = var.allowed_tag_keys
    }
  }

  # ... and retagged only while they carry it, never on the Environment key itself.
  statement {
    sid       = "RetagTaggedHttpApis"
    actions   = ["apigateway:DELETE", "apigateway:POST"]
    resources = ["${local.apigateway}:/tags/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }

    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = [for k in var.allowed_tag_keys : k if k != "Environment"]
    }
  }

  statement {
    sid = "Alarms"
    actions = [
      "cloudwatch:DeleteAlarms", "cloudwatch:ListTagsForResource", "cloudwatch:PutMetricAlarm",
      "cloudwatch:TagResource", "cloudwatch:UntagResource",
    ]
    resources = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account}:alarm:${each.value}-*"]
  }

  statement {
    sid       = "Dashboards"
    actions   = ["cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard", "cloudwatch:PutDashboard"]
    resources = ["arn:${local.partition}:cloudwatch::${local.account}:dashboard/${each.value}"]
  }

  # sns:Unsubscribe and the subscription attribute actions have no resource-level permissions: a
  # grant would reach every subscription of the account (prod's alarm e-mail included). Changing or
  # removing alarm_email is therefore an administrator's apply.
  statement {
    sid = "Topics"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
      "sns:ListTagsForResource", "sns:SetTopicAttributes", "sns:Subscribe", "sns:TagResource", "sns:UntagResource",
    ]
    resources = ["arn:${local.partition}:sns:${local.region}:${local.account}:${each.value}-*"]
  }

  # KMS keys: no tag-based grant at all. Tagging a key at creation needs kms:TagResource in an IAM
  # policy on every key of the account, and IAM cannot tell a key being created from an existing
  # untagged one; so keys are created untagged, and an environment's key is administered through
  # its own key policy, which names the environment's apply role (modules/alarms). No IAM statement
  # here reaches an existing key.
  statement {
    sid       = "CreateUntaggedKeys"
    actions   = ["kms:CreateKey"]
    resources = ["*"]
  }

  statement {
    sid       = "KeyAliases"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account}:alias/${each.value}-*"]
  }

  statement {
    sid       = "NoKeyLockout"
    effect    = "Deny"
    actions   = ["kms:CreateKey", "kms:PutKeyPolicy"]
    resources = ["*"]

    condition {
      test     = "Bool"
      variable = "kms:BypassPolicyLockoutSafetyCheck"
      values   = ["true"]
    }
  }

  # No role's trust changes after it is created, no boundary is removed, no managed policy changes.
  statement {
    sid    = "KeepTrustAndBoundaries"
    effect = "Deny"
    actions = [
      "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:DeleteRolePermissionsBoundary",
      "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy",
    ]
    resources = ["*"]
  }

  # The deploy roles (plan, every environment's apply), the boundaries and the OIDC provider they
  # are trusted through are out of every apply's reach, whatever any other statement allows.
  statement {
    sid    = "DeployRolesOutOfReach"
    effect = "Deny"
    actions = [
      "iam:Add*", "iam:Attach*", "iam:Create*", "iam:Delete*", "iam:Detach*", "iam:PassRole", "iam:Put*",
      "iam:Remove*", "iam:Set*", "iam:Tag*", "iam:Untag*", "iam:Update*",
    ]
    resources = concat(local.deploy_role_arns, values(local.boundary_arns), [local.oidc_provider_arn])
  }
}
