data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  # The caller's ARN (arn:PARTITION:...:ACCOUNT:...) names the partition and the account the roles
  # are created in; the environments share the provider's region.
  caller    = split(":", data.aws_caller_identity.current.arn)
  partition = local.caller[1]
  account   = local.caller[4]
  region    = data.aws_region.current.name
  repo      = "${var.github.owner}/${var.github.repository}"
  issuer    = "token.actions.githubusercontent.com"
  iam       = "arn:${local.partition}:iam::${local.account}"

  # ARNs are built from names, not read from resources, so every policy document is known at plan
  # time: the pull request's plan shows the full policies, and the tests read them rendered.
  oidc_provider_arn = coalesce(var.github.oidc_provider_arn, "${local.iam}:oidc-provider/${local.issuer}")

  plan_subjects = concat(
    ["repo:${local.repo}:pull_request"],
    [for b in var.github.plan_branches : "repo:${local.repo}:ref:refs/heads/${b}"],
  )

  # Everything an environment owns is named PROJECT-ENV-* (or lives under PROJECT-ENV/ where the
  # name is a path: IAM roles, secrets, parameters). Neither PROJECT nor ENV may contain '-' or '/'
  # (see the validations), so the delimiter after ENV cannot be extended: ingest-dev-* never
  # matches another environment's ingest-deveu-* or a project named ingest-dev.
  prefixes = { for e in var.scope.environments : e => "${var.scope.project}-${e}" }

  # The roles an apply creates live under the path /PROJECT-ENV/ and are named PROJECT-ENV-*.
  role_paths          = { for e, p in local.prefixes : e => "/${p}/" }
  managed_role_arns   = { for e, p in local.prefixes : e => "${local.iam}:role/${p}/${p}-*" }
  boundary_arns       = { for e, p in local.prefixes : e => "${local.iam}:policy/${p}-boundary" }
  lambda_function_arn = { for e, p in local.prefixes : e => "arn:${local.partition}:lambda:${local.region}:${local.account}:function:${p}-*" }

  # The deploy roles themselves sit at the root path: outside every environment's managed path, and
  # named outside its PROJECT-ENV/PROJECT-ENV-* role scope.
  plan_role_name   = "${var.scope.project}-github-plan"
  apply_role_names = { for e, p in local.prefixes : e => "${p}-github-apply" }
  # The pipe roles of the environments' consumers, at the root path like the deploy roles.
  pipe_role_names = { for e, p in local.prefixes : e => "${p}-events-pipe" }
  pipe_role_arns  = { for e, n in local.pipe_role_names : e => "${local.iam}:role/${n}" }
  deploy_role_arns = concat(
    ["${local.iam}:role/${local.plan_role_name}"],
    [for e in var.scope.environments : "${local.iam}:role/${local.apply_role_names[e]}"],
  )

  bucket_name = element(split(":::", var.state.bucket_arn), 1)
  apigateway  = "arn:${local.partition}:apigateway:${local.region}:"
}

resource "aws_iam_openid_connect_provider" "github" {
  count          = var.github.oidc_provider_arn == null ? 1 : 0
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
      description = "terraform plan from pull requests and ${join(", ", var.github.plan_branches)} (read-only)"
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
  policy   = data.aws_iam_policy_document.this[each.key].json
}

# ---------------------------------------------------------------------------------------------------
# Every policy document: statements keyed by Sid, one line each, rendered by one data source below.
# A statement is { actions, resources } with an optional effect (default Allow) and conditions.
# ---------------------------------------------------------------------------------------------------
locals {
  arn = { for service in ["dynamodb", "events", "kms", "lambda", "logs", "pipes", "sns", "sqs"] : service => "arn:${local.partition}:${service}:${local.region}:${local.account}" }

  # IAM writes no apply role makes on what the bootstrap created, whatever another statement allows.
  iam_writes = ["iam:Add*", "iam:Attach*", "iam:Create*", "iam:Delete*", "iam:Detach*", "iam:Put*", "iam:Remove*", "iam:Set*", "iam:Tag*", "iam:Untag*", "iam:Update*"]

  # What every deploy role shares: reading the state, and explicit denies on what ReadOnlyAccess
  # would otherwise let it read (event data, the service's secrets and parameters). Events are read
  # by people with their own credentials (ingest events ...), never by a deploy; the webhook
  # secrets and the sources parameter are the function's.
  common_statements = {
    StateList              = { actions = ["s3:ListBucket"], resources = [var.state.bucket_arn] }
    StateRead              = { actions = ["s3:GetObject"], resources = ["${var.state.bucket_arn}/*"] }
    LockTable              = { actions = ["dynamodb:DescribeTable"], resources = [var.state.lock_table_arn] }
    NoEventData            = { effect = "Deny", actions = ["dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:PartiQLSelect", "dynamodb:Query", "dynamodb:Scan", "dynamodb:CreateBackup", "dynamodb:ExportTableToPointInTime", "dynamodb:RestoreTableFromBackup", "dynamodb:RestoreTableToPointInTime", "dynamodb:EnableKinesisStreamingDestination", "dynamodb:PutResourcePolicy"], resources = flatten([for p in values(local.prefixes) : ["arn:${local.partition}:dynamodb:*:${local.account}:table/${p}-*", "arn:${local.partition}:dynamodb:*:${local.account}:table/${p}-*/*"]]) }
    NoQueuedEvents         = { effect = "Deny", actions = ["sqs:ReceiveMessage"], resources = [for p in values(local.prefixes) : "arn:${local.partition}:sqs:*:${local.account}:${p}-*"] }
    NoServiceConfiguration = { effect = "Deny", actions = ["secretsmanager:GetSecretValue", "ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:GetParametersByPath"], resources = flatten([for p in values(local.prefixes) : ["arn:${local.partition}:secretsmanager:*:${local.account}:secret:${p}/*", "arn:${local.partition}:ssm:*:${local.account}:parameter/${p}", "arn:${local.partition}:ssm:*:${local.account}:parameter/${p}/*"]]) }
    NoEventPayloads        = { effect = "Deny", actions = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"], resources = [for p in values(local.prefixes) : "arn:${local.partition}:s3:::${p}-payloads-*/*"] }
  }

  # A plan takes the state lock of whichever environment it plans (S3 lock file and DynamoDB item).
  plan_statements = {
    StateLockFile  = { actions = ["s3:PutObject", "s3:DeleteObject"], resources = ["${var.state.bucket_arn}/*.tflock"] }
    StateLockItems = { actions = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"], resources = [var.state.lock_table_arn] }
  }

  # The apply roles: writes only on the environment's resources.
  apply_statements = { for e, p in local.prefixes : e => {
    # The environment's own state, and its own lock file under it; lock items are keyed BUCKET/KEY
    # (and BUCKET/KEY-md5): only the environment's own.
    StateWrite     = { actions = ["s3:PutObject", "s3:DeleteObject"], resources = ["${var.state.bucket_arn}/${e}/*"] }
    StateLockItems = { actions = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"], resources = [var.state.lock_table_arn], conditions = [{ test = "ForAllValues:StringLike", variable = "dynamodb:LeadingKeys", values = ["${local.bucket_name}/${e}/*"] }, { test = "Null", variable = "dynamodb:LeadingKeys", values = ["false"] }] }

    Tables    = { actions = ["dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive", "dynamodb:UpdateContinuousBackups", "dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"], resources = ["${local.arn.dynamodb}:table/${p}-*", "${local.arn.dynamodb}:table/${p}-*/*"] }
    Functions = { actions = ["lambda:CreateFunction", "lambda:DeleteFunction", "lambda:DeleteFunctionConcurrency", "lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig", "lambda:GetFunctionConcurrency", "lambda:GetFunctionConfiguration", "lambda:GetPolicy", "lambda:ListTags", "lambda:ListVersionsByFunction", "lambda:PublishVersion", "lambda:PutFunctionConcurrency", "lambda:RemovePermission", "lambda:TagResource", "lambda:UntagResource", "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"], resources = [local.lambda_function_arn[e]] }
    # A function's resource policy may only let API Gateway invoke it (never another account).
    FunctionInvokePermissions = { actions = ["lambda:AddPermission"], resources = [local.lambda_function_arn[e]], conditions = [{ test = "StringEquals", variable = "lambda:Principal", values = ["apigateway.amazonaws.com"] }] }

    # Roles are created under the environment's path, with its boundary, and never trust anything
    # new afterwards (UpdateAssumeRolePolicy is denied below). IAM has no condition key on the trust
    # document itself: what makes a role's trust harmless is the boundary (below).
    FunctionRolesWithBoundary = { actions = ["iam:CreateRole", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:DeleteRolePolicy"], resources = [local.managed_role_arns[e]], conditions = [{ test = "StringEquals", variable = "iam:PermissionsBoundary", values = [local.boundary_arns[e]] }] }
    FunctionRoles             = { actions = ["iam:DeleteRole", "iam:GetRole", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies", "iam:TagRole", "iam:UntagRole", "iam:UpdateRole", "iam:UpdateRoleDescription"], resources = [local.managed_role_arns[e]] }
    PassFunctionRoles         = { actions = ["iam:PassRole"], resources = [local.managed_role_arns[e]], conditions = [{ test = "StringEquals", variable = "iam:PassedToService", values = ["lambda.amazonaws.com"] }] }

    LogGroups = { actions = ["logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey", "logs:ListTagsForResource", "logs:ListTagsLogGroup", "logs:PutRetentionPolicy", "logs:TagLogGroup", "logs:TagResource", "logs:UntagLogGroup", "logs:UntagResource"], resources = ["${local.arn.logs}:log-group:/aws/lambda/${p}-*", "${local.arn.logs}:log-group:/aws/apigateway/${p}-*"] }
    # API Gateway access logging uses CloudWatch Logs vended-log deliveries, which have no resource ARNs.
    AccessLogDelivery = { actions = ["logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery"], resources = ["*"] }

    # HTTP API and custom domain ARNs carry generated IDs and domain names, not our names: they are
    # scoped by the Environment tag. Created only with it (and only with the known tag keys); changed
    # only while they carry it (routes, integrations, authorizers, stages and API mappings are
    # evaluated with their API's or domain's tags); retagged only while they carry it, never on the
    # Environment key itself.
    CreateTaggedHttpApis = { actions = ["apigateway:POST"], resources = ["${local.apigateway}:/apis", "${local.apigateway}:/domainnames"], conditions = [{ test = "StringEquals", variable = "aws:RequestTag/Environment", values = [e] }, { test = "ForAllValues:StringEquals", variable = "aws:TagKeys", values = var.scope.allowed_tag_keys }] }
    ManageTaggedHttpApis = { actions = ["apigateway:DELETE", "apigateway:PATCH", "apigateway:POST", "apigateway:PUT"], resources = ["${local.apigateway}:/apis/*", "${local.apigateway}:/domainnames/*"], conditions = [{ test = "StringEquals", variable = "aws:ResourceTag/Environment", values = [e] }, { test = "StringEqualsIfExists", variable = "aws:RequestTag/Environment", values = [e] }, { test = "ForAllValues:StringEquals", variable = "aws:TagKeys", values = var.scope.allowed_tag_keys }] }
    RetagTaggedHttpApis  = { actions = ["apigateway:DELETE", "apigateway:POST"], resources = ["${local.apigateway}:/tags/*"], conditions = [{ test = "StringEquals", variable = "aws:ResourceTag/Environment", values = [e] }, { test = "ForAllValues:StringEquals", variable = "aws:TagKeys", values = [for k in var.scope.allowed_tag_keys : k if k != "Environment"] }] }

    Alarms     = { actions = ["cloudwatch:DeleteAlarms", "cloudwatch:ListTagsForResource", "cloudwatch:PutMetricAlarm", "cloudwatch:TagResource", "cloudwatch:UntagResource"], resources = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account}:alarm:${p}-*"] }
    Dashboards = { actions = ["cloudwatch:DeleteDashboards", "cloudwatch:GetDashboard", "cloudwatch:PutDashboard"], resources = ["arn:${local.partition}:cloudwatch::${local.account}:dashboard/${p}"] }
    # sns:Unsubscribe and the subscription attribute actions have no resource-level permissions: a
    # grant would reach every subscription of the account (prod's alarm e-mail included). Changing or
    # removing alarm_email is therefore an administrator's apply.
    Topics = { actions = ["sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource", "sns:SetTopicAttributes", "sns:Subscribe", "sns:TagResource", "sns:UntagResource"], resources = ["${local.arn.sns}:${p}-*"] }

    # KMS keys: no tag-based grant at all. Tagging a key at creation needs kms:TagResource in an IAM
    # policy on every key of the account, and IAM cannot tell a key being created from an existing
    # untagged one; so keys are created untagged, and an environment's key is administered through
    # its own key policy, which names the environment's apply role (modules/alarms). No IAM statement
    # here reaches an existing key.
    CreateUntaggedKeys = { actions = ["kms:CreateKey"], resources = ["*"] }
    KeyAliases         = { actions = ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"], resources = ["${local.arn.kms}:alias/${p}-*"] }
    NoKeyLockout       = { effect = "Deny", actions = ["kms:CreateKey", "kms:PutKeyPolicy"], resources = ["*"], conditions = [{ test = "Bool", variable = "kms:BypassPolicyLockoutSafetyCheck", values = ["true"] }] }

    # The claim-check bucket (modules/event-store, PROJECT-ENV-payloads-ACCOUNT): created and
    # configured by name (ReadOnlyAccess reads its settings); its objects only deleted, when a
    # destroy empties it (force_destroy, where deletion protection is off), never read (above).
    PayloadBuckets      = { actions = ["s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketOwnershipControls", "s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "s3:PutBucketTagging", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration"], resources = ["arn:${local.partition}:s3:::${p}-payloads-*"] }
    EmptyPayloadBuckets = { actions = ["s3:DeleteObject", "s3:DeleteObjectVersion"], resources = ["arn:${local.partition}:s3:::${p}-payloads-*/*"] }

    # No role's trust changes after it is created, no boundary is removed, no managed policy changes.
    KeepTrustAndBoundaries = { effect = "Deny", actions = ["iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:DeleteRolePermissionsBoundary", "iam:SetDefaultPolicyVersion", "iam:UpdateAssumeRolePolicy"], resources = ["*"] }
    # The deploy roles (plan, every environment's apply), the boundaries, the OIDC provider they are
    # trusted through and the other environments' pipe roles are out of every apply's reach; its
    # own pipe role it may pass (above), never change.
    DeployRolesOutOfReach = { effect = "Deny", actions = concat(local.iam_writes, ["iam:PassRole"]), resources = concat(local.deploy_role_arns, values(local.boundary_arns), [local.oidc_provider_arn], [for o, arn in local.pipe_role_arns : arn if o != e]) }
    OwnPipeRoleAsItIs     = { effect = "Deny", actions = local.iam_writes, resources = [local.pipe_role_arns[e]] }
  } }

  # The consumers' grants of the apply roles (modules/event-bus-pipe), in a managed policy of their
  # own: the inline policy keeps its headroom under IAM's 10,240 characters. The pipe, the bus, its
  # rules and the queues are the environment's by name; the pipe runs with the bootstrap's pipe
  # role, the only role passed to Pipes; a rule's targets are the environment's own queues.
  consumer_statements = { for e, p in local.prefixes : e => {
    Pipes         = { actions = ["pipes:CreatePipe", "pipes:DeletePipe", "pipes:DescribePipe", "pipes:ListTagsForResource", "pipes:StartPipe", "pipes:StopPipe", "pipes:TagResource", "pipes:UntagResource", "pipes:UpdatePipe"], resources = ["${local.arn.pipes}:pipe/${p}-*"] }
    PassPipeRole  = { actions = ["iam:PassRole"], resources = [local.pipe_role_arns[e]], conditions = [{ test = "StringEquals", variable = "iam:PassedToService", values = ["pipes.amazonaws.com"] }] }
    BusesAndRules = { actions = ["events:CreateEventBus", "events:DeleteEventBus", "events:DeleteRule", "events:DescribeEventBus", "events:DescribeRule", "events:DisableRule", "events:EnableRule", "events:ListTagsForResource", "events:ListTargetsByRule", "events:PutRule", "events:RemoveTargets", "events:TagResource", "events:UntagResource", "events:UpdateEventBus"], resources = ["${local.arn.events}:event-bus/${p}-*", "${local.arn.events}:rule/${p}-*/${p}-*"] }
    RuleTargets   = { actions = ["events:PutTargets"], resources = ["${local.arn.events}:rule/${p}-*/${p}-*"], conditions = [{ test = "ForAllValues:ArnLike", variable = "events:TargetArn", values = ["${local.arn.sqs}:${p}-*"] }, { test = "Null", variable = "events:TargetArn", values = ["false"] }] }
    Queues        = { actions = ["sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListQueueTags", "sqs:SetQueueAttributes", "sqs:TagQueue", "sqs:UntagQueue"], resources = ["${local.arn.sqs}:${p}-*"] }
  } }

  # Permissions boundary every role created by an apply role must carry: the ceiling of what the
  # function may ever do, whatever an apply writes into its inline policy. It grants writes of
  # events, never reads, and only to requests made with credentials Lambda issued to one of the
  # environment's functions (lambda:SourceFunctionArn, which only Lambda injects): a role an apply
  # creates is worth nothing to whoever else its trust policy might name. X-Ray has no
  # resource-level permissions; trace segments carry no event data.
  boundary_statements = { for e, p in local.prefixes : e => {
    WriteEvents   = { actions = ["dynamodb:BatchWriteItem", "dynamodb:PutItem"], resources = ["${local.arn.dynamodb}:table/${p}-*"], conditions = [local.from_functions[e]] }
    OwnLogs       = { actions = ["logs:CreateLogStream", "logs:PutLogEvents"], resources = ["${local.arn.logs}:log-group:/aws/lambda/${p}-*"], conditions = [local.from_functions[e]] }
    Configuration = { actions = ["secretsmanager:GetSecretValue", "ssm:GetParameter"], resources = ["arn:${local.partition}:secretsmanager:${local.region}:${local.account}:secret:${p}/*", "arn:${local.partition}:ssm:${local.region}:${local.account}:parameter/${p}/*"], conditions = [local.from_functions[e]] }
    PutPayloads   = { actions = ["s3:PutObject"], resources = ["arn:${local.partition}:s3:::${p}-payloads-*/payloads/*"], conditions = [local.from_functions[e]] }
    Tracing       = { actions = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], resources = ["*"] }
  } }
  from_functions = { for e, arn in local.lambda_function_arn : e => { test = "ArnLike", variable = "lambda:SourceFunctionArn", values = [arn] } }

  # Keyed like the roles ("plan" and the environments), and ENV-boundary, ENV-consumers for the
  # managed policies (no environment name holds a '-').
  documents = merge(
    { plan = merge(local.common_statements, local.plan_statements) },
    { for e in var.scope.environments : e => merge(local.common_statements, local.apply_statements[e]) },
    { for e in var.scope.environments : "${e}-boundary" => local.boundary_statements[e] },
    { for e in var.scope.environments : "${e}-consumers" => local.consumer_statements[e] },
  )

  # The managed policies: each environment's permissions boundary (keyed ENV, the address a
  # bootstrap applied before has) and its apply role's consumers policy (ENV-consumers).
  managed_policies = merge(
    { for e, p in local.prefixes : e => { name = "${p}-boundary", document = "${e}-boundary", description = "Permissions boundary of the roles the ${e} deploy role creates" } },
    { for e, p in local.prefixes : "${e}-consumers" => { name = "${p}-github-consumers", document = "${e}-consumers", description = "What the ${e} apply role may do for the environment's consumers (pipe, bus, rules, queues)" } },
  )
}

data "aws_iam_policy_document" "this" {
  for_each = toset(keys(local.documents))

  dynamic "statement" {
    for_each = local.documents[each.key]

    content {
      sid       = statement.key
      effect    = try(statement.value.effect, "Allow")
      actions   = statement.value.actions
      resources = statement.value.resources

      dynamic "condition" {
        for_each = try(statement.value.conditions, [])

        content {
          test     = condition.value.test
          variable = condition.value.variable
          values   = condition.value.values
        }
      }
    }
  }
}

resource "aws_iam_policy" "this" {
  for_each    = local.managed_policies
  name        = each.value.name
  description = each.value.description
  policy      = data.aws_iam_policy_document.this[each.value.document].json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "consumers" {
  for_each   = local.prefixes
  role       = aws_iam_role.this[each.key].name
  policy_arn = aws_iam_policy.this["${each.key}-consumers"].arn
}

# ---------------------------------------------------------------------------------------------------
# The pipe role of each environment's consumers (modules/event-bus-pipe): created here, out of every
# apply's reach (root path, named outside PROJECT-ENV/PROJECT-ENV-*), for that environment's pipe,
# table stream, bus and dead-letter queue only, by the names the environments give them
# (modules/ingest-stack: table PROJECT-ENV-events; modules/event-bus-pipe: pipe and bus
# PROJECT-ENV-events, queue PROJECT-ENV-pipe-dlq). docs/decisions/0031-pipe-role-from-the-bootstrap.md
# ---------------------------------------------------------------------------------------------------
module "pipe_role" {
  source   = "../event-bus-pipe/modules/pipe-role"
  for_each = local.prefixes

  role = { name = local.pipe_role_names[each.key] }
  grants = {
    pipe_arn              = "${local.arn.pipes}:pipe/${each.value}-events"
    stream_arns           = "${local.arn.dynamodb}:table/${each.value}-events/stream/*"
    bus_arn               = "${local.arn.events}:event-bus/${each.value}-events"
    dead_letter_queue_arn = "${local.arn.sqs}:${each.value}-pipe-dlq"
  }
  tags = var.tags
}
