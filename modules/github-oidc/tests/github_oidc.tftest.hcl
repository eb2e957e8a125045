mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }

  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "123456789012"
    }
  }

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-1"
    }
  }

  mock_resource "aws_iam_openid_connect_provider" {
    defaults = {
      arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
  }

  mock_resource "aws_iam_policy" {
    defaults = {
      arn = "arn:aws:iam::123456789012:policy/ingest-boundary"
    }
  }
}

variables {
  github_owner      = "example-org"
  github_repository = "ingest"
  project           = "ingest"
  state_bucket_arn  = "arn:aws:s3:::ingest-tfstate-test"
  lock_table_arn    = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-terraform-locks"
}

run "trust_is_exact" {
  command = apply

  assert {
    condition     = aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com" && aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "The GitHub OIDC provider with audience sts.amazonaws.com."
  }

  assert {
    condition = alltrue(flatten([
      for doc in concat([data.aws_iam_policy_document.trust_plan], values(data.aws_iam_policy_document.trust_apply)) : [
        for s in doc.statement : [for c in s.condition : c.test == "StringEquals"]
      ]
    ]))
    error_message = "Trust conditions use StringEquals only."
  }

  assert {
    condition = alltrue(flatten([
      for doc in concat([data.aws_iam_policy_document.trust_plan], values(data.aws_iam_policy_document.trust_apply)) : [
        for s in doc.statement : [for c in s.condition : [for v in c.values : !strcontains(v, "*") && !strcontains(v, "?")]]
      ]
    ]))
    error_message = "No wildcard in any trusted value."
  }

  assert {
    condition = toset(flatten([
      for s in data.aws_iam_policy_document.trust_plan.statement : [for c in s.condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"]
    ])) == toset(["repo:example-org/ingest:pull_request", "repo:example-org/ingest:ref:refs/heads/main"])
    error_message = "The plan role trusts pull requests and main only."
  }

  assert {
    condition = alltrue([
      for e, doc in data.aws_iam_policy_document.trust_apply : toset(flatten([
        for s in doc.statement : [for c in s.condition : c.values if c.variable == "token.actions.githubusercontent.com:sub"]
      ])) == toset(["repo:example-org/ingest:environment:${e}"])
    ]) && toset(keys(aws_iam_role.apply)) == toset(["dev", "prod"])
    error_message = "One apply role per environment, trusted only for that GitHub environment."
  }

  assert {
    condition = alltrue(flatten([
      for doc in concat([data.aws_iam_policy_document.trust_plan], values(data.aws_iam_policy_document.trust_apply)) : [
        for s in doc.statement : anytrue([for c in s.condition : c.variable == "token.actions.githubusercontent.com:aud" && toset(c.values) == toset(["sts.amazonaws.com"])])
      ]
    ]))
    error_message = "Every trust statement pins the audience."
  }

  assert {
    condition     = aws_iam_role_policy_attachment.plan_read_only.policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess"
    error_message = "The plan role is read-only."
  }

  assert {
    condition = alltrue([
      for e, doc in data.aws_iam_policy_document.apply : alltrue([
        for s in doc.statement : alltrue([for r in s.resources : r == "*" || strcontains(r, "ingest-${e}") || strcontains(r, "ingest-tfstate-test") || strcontains(r, "ingest-terraform-locks") || strcontains(r, ":apigateway:") || strcontains(r, ":key/")])
      ])
    ])
    error_message = "Apply roles write only PROJECT-ENV-* resources (plus state, HTTP APIs and tagged keys)."
  }
}

run "reuse_existing_provider" {
  command = apply

  variables {
    create_oidc_provider = false
    oidc_provider_arn    = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    environments         = ["prod"]
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0 && output.oidc_provider_arn == var.oidc_provider_arn
    error_message = "An existing provider is reused."
  }
}

run "rejects_wildcards_and_missing_provider" {
  command = plan

  variables {
    github_owner         = "*"
    github_repository    = "ingest*"
    environments         = []
    create_oidc_provider = false
    plan_branches        = ["release/*"]
  }

  expect_failures = [var.github_owner, var.github_repository, var.environments, var.oidc_provider_arn, var.plan_branches]
}
