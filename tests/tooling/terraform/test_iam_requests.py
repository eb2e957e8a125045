"""Recorded requests -> IAM actions, resources and condition keys (scripts/tf/iam_coverage.py),
and verdicts that must come out as denials."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from scripts.tf import iam_actions, iam_identities, iam_policy
from scripts.tf.iam_requests import Request, parse_entry

ACCOUNT = "123456789012"
REGION = "eu-west-1"
APPLY = iam_identities.access_key(iam_identities.apply_role("dev"))
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ingest-dev-api"


def entry(
    service: str,
    method: str,
    path: str,
    body: bytes | dict[str, Any] = b"",
    headers: dict[str, str] | None = None,
    key: str = APPLY,
) -> dict[str, Any]:
    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    signed = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={key}/20261130/{REGION}/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0",
        **(headers or {}),
    }
    return {
        "method": method,
        "url": f"https://127.0.0.1:4566{path}",
        "headers": signed,
        "body": base64.b64encode(raw).decode(),
        "body_encoded": True,
    }


def read(raw: dict[str, Any]) -> Request:
    request = parse_entry(raw)
    assert request is not None
    return request


def known(**more: Any) -> iam_actions.Resources:
    return iam_actions.Resources(account=ACCOUNT, region=REGION, **more)


def one_call(
    raw: dict[str, Any], resources: iam_actions.Resources | None = None
) -> iam_actions.Call:
    [call] = iam_actions.calls(read(raw), resources or known())
    return call


def json_call(target: str, service: str, body: dict[str, Any], key: str = APPLY) -> dict[str, Any]:
    headers = {"X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"}
    return entry(service, "POST", "/", body, headers, key=key)


def query_call(service: str, form: str) -> dict[str, Any]:
    return entry(
        service, "POST", "/", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )


def test_an_unsigned_request_is_not_a_call() -> None:
    raw = entry("s3", "GET", "/moto-api/")
    raw["headers"] = {}
    assert parse_entry(raw) is None


def test_the_access_key_tells_the_identity() -> None:
    request = read(json_call("DynamoDB_20120810.DescribeTable", "dynamodb", {"TableName": "t"}))
    assert iam_identities.identity_of(request.key) == "apply:dev"
    assert iam_identities.identity_of("testing") is None


def test_json_protocol_item_write_carries_its_leading_keys() -> None:
    body = {
        "TableName": "ingest-terraform-locks",
        "Item": {"LockID": {"S": "bucket/dev/terraform.tfstate"}, "Info": {"S": "{}"}},
    }
    call = one_call(
        json_call("DynamoDB_20120810.PutItem", "dynamodb", body),
        known(hash_keys={"ingest-terraform-locks": "LockID"}),
    )
    assert call.action == "dynamodb:PutItem"
    assert call.resource == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ingest-terraform-locks"
    assert call.context["dynamodb:LeadingKeys"] == ["bucket/dev/terraform.tfstate"]


def test_query_protocol_create_role_carries_path_boundary_and_tags() -> None:
    form = (
        "Action=CreateRole&Version=2010-05-08&RoleName=ingest-dev-api-role&Path=%2Fingest-dev%2F"
        f"&PermissionsBoundary=arn%3Aaws%3Aiam%3A%3A{ACCOUNT}%3Apolicy%2Fingest-dev-boundary"
        "&AssumeRolePolicyDocument=%7B%7D&Tags.member.1.Key=Environment&Tags.member.1.Value=dev"
    )
    call, tagging = iam_actions.calls(read(query_call("iam", form)), known())
    assert call.action == "iam:CreateRole"
    assert call.resource == f"arn:aws:iam::{ACCOUNT}:role/ingest-dev/ingest-dev-api-role"
    assert call.context["iam:PermissionsBoundary"] == [
        f"arn:aws:iam::{ACCOUNT}:policy/ingest-dev-boundary"
    ]
    assert call.context["aws:RequestTag/Environment"] == ["dev"]
    assert (tagging.action, tagging.resource) == ("iam:TagRole", call.resource)


def test_a_role_policy_write_carries_the_boundary_the_role_was_created_with() -> None:
    resources = known()
    create = "Action=CreateRole&RoleName=r&Path=%2Fp%2F&PermissionsBoundary=arn%3Aaws%3Aiam%3A%3A1%3Apolicy%2Fb"
    resources.learn(read(query_call("iam", create)))
    call = one_call(
        query_call("iam", "Action=PutRolePolicy&RoleName=r&PolicyName=x&PolicyDocument=%7B%7D"),
        resources,
    )
    assert call.resource == f"arn:aws:iam::{ACCOUNT}:role/p/r"
    assert call.context["iam:PermissionsBoundary"] == ["arn:aws:iam::1:policy/b"]


def test_rest_lambda_operations_and_the_role_they_pass() -> None:
    assert (
        one_call(entry("lambda", "GET", "/2015-03-31/functions/ingest-dev-api")).action
        == "lambda:GetFunction"
    )
    versions = one_call(
        entry("lambda", "GET", "/2015-03-31/functions/ingest-dev-api/versions", b"")
    )
    assert (versions.action, versions.resource) == ("lambda:ListVersionsByFunction", FUNCTION_ARN)
    role = f"arn:aws:iam::{ACCOUNT}:role/ingest-dev/ingest-dev-api-role"
    body = {"FunctionName": "ingest-dev-api", "Role": role, "Runtime": "python3.11"}
    create, passed = iam_actions.calls(
        read(
            entry(
                "lambda",
                "POST",
                "/2015-03-31/functions",
                body,
                {"Content-Type": "application/json"},
            )
        ),
        known(),
    )
    assert (create.action, create.resource) == ("lambda:CreateFunction", FUNCTION_ARN)
    assert (passed.action, passed.resource) == ("iam:PassRole", role)
    assert passed.context["iam:PassedToService"] == ["lambda.amazonaws.com"]


def test_add_permission_carries_the_principal() -> None:
    body = {
        "StatementId": "s",
        "Action": "lambda:InvokeFunction",
        "Principal": "apigateway.amazonaws.com",
    }
    call = one_call(entry("lambda", "POST", "/2015-03-31/functions/ingest-dev-api/policy", body))
    assert call.action == "lambda:AddPermission"
    assert call.context["lambda:Principal"] == ["apigateway.amazonaws.com"]


@pytest.mark.parametrize(
    ("method", "path", "action", "resource"),
    [
        (
            "HEAD",
            "/state/dev/terraform.tfstate",
            "s3:GetObject",
            "arn:aws:s3:::state/dev/terraform.tfstate",
        ),
        ("GET", "/state?list-type=2&prefix=env%3A%2F", "s3:ListBucket", "arn:aws:s3:::state"),
        (
            "PUT",
            "/state/dev/terraform.tfstate.tflock",
            "s3:PutObject",
            "arn:aws:s3:::state/dev/terraform.tfstate.tflock",
        ),
        (
            "DELETE",
            "/state/dev/terraform.tfstate.tflock",
            "s3:DeleteObject",
            "arn:aws:s3:::state/dev/terraform.tfstate.tflock",
        ),
    ],
)
def test_s3_operations_map_to_their_iam_actions(
    method: str, path: str, action: str, resource: str
) -> None:
    call = one_call(entry("s3", method, path))
    assert (call.action, call.resource) == (action, resource)


def test_http_api_calls_are_methods_on_paths_with_the_apis_tags() -> None:
    create = one_call(
        entry(
            "apigateway",
            "POST",
            "/v2/apis",
            {"name": "ingest-dev-http", "tags": {"Environment": "dev", "Project": "ingest"}},
        )
    )
    assert (create.action, create.resource) == (
        "apigateway:POST",
        f"arn:aws:apigateway:{REGION}::/apis",
    )
    assert create.context["aws:RequestTag/Environment"] == ["dev"]
    assert sorted(create.context["aws:TagKeys"]) == ["Environment", "Project"]
    route = one_call(
        entry("apigateway", "POST", "/v2/apis/a1b2/routes", {"routeKey": "POST /events"}),
        known(api_tags={"a1b2": {"Environment": "dev"}}),
    )
    assert route.resource == f"arn:aws:apigateway:{REGION}::/apis/a1b2/routes"
    assert route.context["aws:ResourceTag/Environment"] == ["dev"]
    assert "aws:TagKeys" not in route.context


def test_kms_alias_needs_the_alias_and_the_key() -> None:
    body = {"AliasName": "alias/ingest-dev-alarms", "TargetKeyId": "k-1"}
    found = iam_actions.calls(read(json_call("TrentService.CreateAlias", "kms", body)), known())
    assert sorted(c.resource for c in found) == [
        f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/ingest-dev-alarms",
        f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k-1",
    ]
    assert [c.key_id for c in found if ":key/" in c.resource] == ["k-1"]


def test_get_caller_identity_needs_no_permission() -> None:
    assert (
        iam_actions.calls(
            read(query_call("sts", "Action=GetCallerIdentity&Version=2011-06-15")), known()
        )
        == []
    )


def test_the_functions_calls_carry_its_arn() -> None:
    request = read(
        json_call(
            "DynamoDB_20120810.PutItem", "dynamodb", {"TableName": "ingest-dev-events", "Item": {}}
        )
    )
    [call] = iam_actions.calls(request, known(), function_arn=FUNCTION_ARN)
    assert call.context["lambda:SourceFunctionArn"] == [FUNCTION_ARN]


# --- verdicts on mapped calls: what the deploy roles' statements must refuse ---------------------

APPLY_POLICY = iam_policy.parse(
    {
        "Statement": [
            {
                "Sid": "StateLockItems",
                "Effect": "Allow",
                "Action": "dynamodb:PutItem",
                "Resource": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/ingest-terraform-locks",
                "Condition": {
                    "ForAllValues:StringLike": {"dynamodb:LeadingKeys": "bucket/dev/*"},
                    "Null": {"dynamodb:LeadingKeys": "false"},
                },
            },
            {
                "Sid": "FunctionRolesWithBoundary",
                "Effect": "Allow",
                "Action": "iam:CreateRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/ingest-dev/ingest-dev-*",
                "Condition": {
                    "StringEquals": {
                        "iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/ingest-dev-boundary"
                    }
                },
            },
            {
                "Sid": "PassFunctionRoles",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/ingest-dev/ingest-dev-*",
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            },
        ]
    },
    "apply",
)
APPLY_ROLE = iam_policy.Identity(
    "apply:dev", f"arn:aws:iam::{ACCOUNT}:role/ingest-dev-github-apply", tuple(APPLY_POLICY)
)


def verdict(raw: dict[str, Any], resources: iam_actions.Resources | None = None) -> list[bool]:
    return [
        iam_policy.decide(APPLY_ROLE, c.action, c.resource, c.context).allowed
        for c in iam_actions.calls(
            read(raw), resources or known(hash_keys={"ingest-terraform-locks": "LockID"})
        )
    ]


def lock_item(key: str) -> dict[str, Any]:
    body = {"TableName": "ingest-terraform-locks", "Item": {"LockID": {"S": key}}}
    return json_call("DynamoDB_20120810.PutItem", "dynamodb", body)


def test_the_dev_apply_takes_its_own_lock_only() -> None:
    assert verdict(lock_item("bucket/dev/terraform.tfstate")) == [True]
    assert verdict(lock_item("bucket/prod/terraform.tfstate")) == [False]


def test_a_role_without_the_boundary_or_outside_the_path_is_refused() -> None:
    boundary = f"arn%3Aaws%3Aiam%3A%3A{ACCOUNT}%3Apolicy%2Fingest-dev-boundary"
    good = f"Action=CreateRole&RoleName=ingest-dev-api-role&Path=%2Fingest-dev%2F&PermissionsBoundary={boundary}"
    assert verdict(query_call("iam", good)) == [True]
    assert verdict(
        query_call("iam", "Action=CreateRole&RoleName=ingest-dev-api-role&Path=%2Fingest-dev%2F")
    ) == [False]
    assert verdict(
        query_call("iam", f"Action=CreateRole&RoleName=ingest-dev-x&PermissionsBoundary={boundary}")
    ) == [False]


def test_a_function_role_passed_to_pipes_is_refused() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/ingest-dev/ingest-dev-pipe"
    raw = entry(
        "pipes",
        "POST",
        "/v1/pipes/ingest-dev-events",
        {"RoleArn": role, "Source": "s", "Target": "t"},
    )
    *_, passed = iam_actions.calls(read(raw), known())
    assert passed.context["iam:PassedToService"] == ["pipes.amazonaws.com"]
    assert not iam_policy.decide(APPLY_ROLE, passed.action, passed.resource, passed.context).allowed


def test_creating_with_tags_is_also_tagging() -> None:
    body = {"logGroupName": "/aws/lambda/ingest-dev-api", "tags": {"Environment": "dev"}}
    create, tag = iam_actions.calls(
        read(json_call("Logs_20140328.CreateLogGroup", "logs", body)), known()
    )
    assert create.action == "logs:CreateLogGroup"
    assert (tag.action, tag.instead, tag.resource) == (
        "logs:TagResource",
        ("logs:TagLogGroup",),
        create.resource,
    )
    assert tag.context["aws:RequestTag/Environment"] == ["dev"]
    untagged = {"logGroupName": "/aws/lambda/ingest-dev-api"}
    assert (
        len(
            iam_actions.calls(
                read(json_call("Logs_20140328.CreateLogGroup", "logs", untagged)), known()
            )
        )
        == 1
    )


def test_rule_targets_carry_their_arns() -> None:
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:ingest-dev-consumer"
    body = {
        "Rule": "ingest-dev-consumer",
        "EventBusName": "ingest-dev-events",
        "Targets": [{"Id": "q", "Arn": queue}],
    }
    call = one_call(json_call("AWSEvents.PutTargets", "events", body))
    assert (
        call.resource
        == f"arn:aws:events:{REGION}:{ACCOUNT}:rule/ingest-dev-events/ingest-dev-consumer"
    )
    assert call.context["events:TargetArn"] == [queue]
