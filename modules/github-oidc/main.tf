data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  repo      = "${var.github_owner}/${var.github_repository}"
  issuer    = "token.actions.githubusercontent.com"

  oidc_provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.github[0].arn : var.oidc_provider_arn

  plan_subjects = concat(
    ["repo:${local.repo}:pull_request"],
    [for b in var.plan_branches : "repo:${local.repo}:ref:refs/heads/${b}"],
  )

  # Everything an environment owns is named PROJECT-ENV-*.
  prefixes = { for e in var.environments : e => "${var.project}-${e}" }
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.create_oidc_provider ? 1 : 0
  url            = "https://${local.issuer}"
  client_id_list = ["sts.amazonaws.com"]
  # AWS validates GitHub's certificate against its own trust store; the thumbprint is kept for older APIs.
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1"]
  tags            = var.tags
}

# ---------------------------------------------------------------------------------------------------
# Trust policies: exact audience and subject, StringEquals only (no wildcards).
# ---------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "trust_plan" {
  statement {
    sid     = "GitHubPlan"
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
      values   = local.plan_subjects
    }
  }
}

data "aws_iam_policy_document" "trust_apply" {
  for_each = local.prefixes

  statement {
    sid     = "GitHubEnvironment"
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
      values   = ["repo:${local.repo}:environment:${each.key}"]
    }
  }
}

# ---------------------------------------------------------------------------------------------------
# Shared pieces: state access and a guard against reading event data through ReadOnlyAccess.
# ---------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "plan" {
  statement {
    sid       = "StateList"
    actions   = ["s3:ListBucket"]
    resources = [var.state_bucket_arn]
  }

  statement {
    sid       = "StateRead"
    actions   = ["s3:GetObject"]
    resources = ["${var.state_bucket_arn}/*"]
  }

  # A plan takes the state lock too (S3 lock file and DynamoDB lock item).
  statement {
    sid       = "StateLockFile"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.state_bucket_arn}/*.tflock"]
  }

  statement {
    sid       = "StateLockTable"
    actions   = ["dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem"]
    resources = [var.lock_table_arn]
  }

  statement {
    sid    = "NoEventData"
    effect = "Deny"
    actions = [
      "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
      "dynamodb:PartiQLSelect", "dynamodb:Query", "dynamodb:Scan",
    ]
    resources = flatten([for p in values(local.prefixes) : [
      "arn:${local.partition}:dynamodb:*:${local.account}:table/${p}-*",
      "arn:${local.partition}:dynamodb:*:${local.account}:table/${p}-*/*",
    ]])
  }
}

resource "aws_iam_role" "plan" {
  name                 = "${var.project}-github-plan"
  description          = "terraform plan from pull requests and ${join(", ", var.plan_branches)} (read-only)"
  assume_role_policy   = data.aws_iam_policy_document.trust_plan.json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "plan" {
  name   = "terraform-plan"
  role   = aws_iam_role.plan.id
  policy = data.aws_iam_policy_document.plan.json
}

# ---------------------------------------------------------------------------------------------------
# Permissions boundary every role created by an apply role must carry: the ceiling of what the
# function may ever do, whatever an apply writes into its inline policy.
# ---------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "boundary" {
  for_each = local.prefixes

  statement {
    sid       = "EventTables"
    actions   = ["dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = ["arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${each.value}-*"]
  }

  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/${each.value}-*"]
  }

  statement {
    sid     = "Configuration"
    actions = ["secretsmanager:GetSecretValue", "ssm:GetParameter"]
    resources = [
      "arn:${local.partition}:secretsmanager:${local.region}:${local.account}:secret:*",
      "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter/*",
    ]
  }

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
# Apply roles: ReadOnlyAccess for Terraform's refreshes, writes only on PROJECT-ENV-* resources.
# ---------------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "apply" {
  for_each = local.prefixes

  source_policy_documents = [data.aws_iam_policy_document.plan.json]

  statement {
    sid       = "StateWrite"
    actions   = ["s3:PutObject", "s3:DeleteObject"]
    resources = ["${var.state_bucket_arn}/${each.key}/*"]
  }

  statement {
    sid = "Tables"
    actions = [
      "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive",
      "dynamodb:UpdateContinuousBackups", "dynamodb:TagResource", "dynamodb:UntagResource",
      "dynamodb:Describe*", "dynamodb:ListTagsOfResource",
    ]
    resources = [
      "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${each.value}-*",
      "arn:${local.partition}:dynamodb:${local.region}:${local.account}:table/${each.value}-*/*",
    ]
  }

  statement {
    sid = "Functions"
    actions = [
      "lambda:AddPermission", "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:DeleteFunctionConcurrency",
      "lambda:Get*", "lambda:List*", "lambda:PublishVersion", "lambda:PutFunctionConcurrency",
      "lambda:RemovePermission", "lambda:TagResource", "lambda:UntagResource",
      "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
    ]
    resources = ["arn:${local.partition}:lambda:${local.region}:${local.account}:function:${each.value}-*"]
  }

  statement {
    sid = "FunctionRolesWithBoundary"
    actions = [
      "iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${each.value}-*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [aws_iam_policy.boundary[each.key].arn]
    }
  }

  statement {
    sid = "FunctionRoles"
    actions = [
      "iam:DeleteRole", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies", "iam:TagRole", "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription",
    ]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${each.value}-*"]
  }

  statement {
    sid       = "PassFunctionRoles"
    actions   = ["iam:PassRole"]
    resources = ["arn:${local.partition}:iam::${local.account}:role/${each.value}-*"]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }

  statement {
    sid    = "KeepBoundary"
    effect = "Deny"
    actions = [
      "iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion", "iam:DeletePolicy",
      "iam:SetDefaultPolicyVersion",
    ]
    resources = ["*"]
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

  # HTTP API ARNs carry generated IDs, not names: the practical scope is the region's APIs and domains.
  statement {
    sid     = "HttpApis"
    actions = ["apigateway:DELETE", "apigateway:GET", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT", "apigateway:TagResource", "apigateway:UntagResource"]
    resources = [
      "arn:${local.partition}:apigateway:${local.region}::/apis",
      "arn:${local.partition}:apigateway:${local.region}::/apis/*",
      "arn:${local.partition}:apigateway:${local.region}::/domainnames",
      "arn:${local.partition}:apigateway:${local.region}::/domainnames/*",
      "arn:${local.partition}:apigateway:${local.region}::/tags/*",
    ]
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

  statement {
    sid = "Topics"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetSubscriptionAttributes", "sns:GetTopicAttributes",
      "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource", "sns:SetSubscriptionAttributes",
      "sns:SetTopicAttributes", "sns:Subscribe", "sns:TagResource", "sns:Unsubscribe", "sns:UntagResource",
    ]
    resources = ["arn:${local.partition}:sns:${local.region}:${local.account}:${each.value}-*"]
  }

  # KMS key IDs are generated: keys are scoped by the tags the modules put on them.
  statement {
    sid       = "CreateTaggedKeys"
    actions   = ["kms:CreateKey", "kms:TagResource"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "aws:RequestTag/Environment"
      values   = [each.key]
    }
  }

  statement {
    sid = "ManageTaggedKeys"
    actions = [
      "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
      "kms:UntagResource", "kms:UpdateKeyDescription",
    ]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account}:key/*"]

    condition {
      test     = "StringEquals"
      variable = "aws:ResourceTag/Environment"
      values   = [each.key]
    }
  }

  statement {
    sid       = "KeyAliases"
    actions   = ["kms:CreateAlias", "kms:DeleteAlias"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account}:alias/${each.value}-*"]
  }
}

resource "aws_iam_role" "apply" {
  for_each             = local.prefixes
  name                 = "${each.value}-github-apply"
  description          = "terraform apply for the ${each.key} GitHub environment (writes only ${each.value}-* resources)"
  assume_role_policy   = data.aws_iam_policy_document.trust_apply[each.key].json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

resource "aws_iam_role_policy_attachment" "apply_read_only" {
  for_each   = local.prefixes
  role       = aws_iam_role.apply[each.key].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "apply" {
  for_each = local.prefixes
  name     = "terraform-apply"
  role     = aws_iam_role.apply[each.key].id
  policy   = data.aws_iam_policy_document.apply[each.key].json
}
