"""The IAM evaluator of scripts/tf/iam_coverage.py: what it must allow, and what it must deny."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.tf import iam_policy
from scripts.tf.iam_policy import Identity, condition_holds, decide, parse

ROLE = "arn:aws:iam::123456789012:role/ingest-dev-github-apply"
TABLE = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-dev-events"


def policy(*statements: dict[str, Any], where: str = "inline") -> tuple[iam_policy.Statement, ...]:
    return tuple(parse({"Version": "2012-10-17", "Statement": list(statements)}, where))


def grant(effect: str, action: Any, resource: Any, **more: Any) -> dict[str, Any]:
    sid = more.pop("Sid", effect[0])
    return {"Sid": sid, "Effect": effect, "Action": action, "Resource": resource, **more}


def allow(action: Any, resource: Any, **more: Any) -> dict[str, Any]:
    return grant("Allow", action, resource, **more)


def deny(action: Any, resource: Any, **more: Any) -> dict[str, Any]:
    return grant("Deny", action, resource, **more)


def who(
    *statements: dict[str, Any], boundary: tuple[dict[str, Any], ...] | None = None
) -> Identity:
    fence = None if boundary is None else policy(*boundary, where="boundary")
    return Identity("apply:dev", ROLE, policy(*statements), fence)


def test_action_wildcards_are_case_insensitive_and_resources_globs() -> None:
    me = who(allow("DynamoDB:Describe*", "arn:aws:dynamodb:*:123456789012:table/ingest-dev-*"))
    assert decide(me, "dynamodb:DescribeTable", TABLE, {}).allowed
    assert not decide(me, "dynamodb:DeleteTable", TABLE, {}).allowed
    other = "arn:aws:dynamodb:eu-west-1:123456789012:table/ingest-prod-events"
    assert not decide(me, "dynamodb:DescribeTable", other, {}).allowed


def test_question_mark_is_one_character() -> None:
    me = who(allow("s3:GetObjec?", "arn:aws:s3:::b/dev/?.tflock"))
    assert decide(me, "s3:GetObject", "arn:aws:s3:::b/dev/x.tflock", {}).allowed
    assert not decide(me, "s3:GetObject", "arn:aws:s3:::b/dev/xy.tflock", {}).allowed


def test_an_explicit_deny_wins_over_any_allow() -> None:
    me = who(allow("dynamodb:*", "*", Sid="All"), deny("dynamodb:Scan", TABLE, Sid="NoEventData"))
    decision = decide(me, "dynamodb:Scan", TABLE, {})
    assert not decision.allowed
    assert [s.sid for s in decision.denied_by] == ["NoEventData"]
    assert decide(me, "dynamodb:PutItem", TABLE, {}).allowed


def test_not_action_and_not_resource() -> None:
    me = who(
        {
            "Sid": "N",
            "Effect": "Allow",
            "NotAction": "iam:*",
            "NotResource": "arn:aws:s3:::secret/*",
        }
    )
    assert decide(me, "s3:GetObject", "arn:aws:s3:::state/dev", {}).allowed
    assert not decide(me, "s3:GetObject", "arn:aws:s3:::secret/x", {}).allowed
    assert not decide(me, "iam:GetRole", ROLE, {}).allowed


def test_the_boundary_must_allow_too() -> None:
    me = who(
        allow(["dynamodb:PutItem", "dynamodb:Query"], TABLE),
        boundary=(allow("dynamodb:PutItem", "arn:aws:dynamodb:*:*:table/ingest-dev-*"),),
    )
    assert decide(me, "dynamodb:PutItem", TABLE, {}).allowed
    refused = decide(me, "dynamodb:Query", TABLE, {})
    assert not refused.allowed
    assert "boundary" in refused.why


def test_a_boundary_alone_grants_nothing() -> None:
    me = who(boundary=(allow("*", "*"),))
    assert not decide(me, "dynamodb:PutItem", TABLE, {}).allowed


def key_policy(principal: str, action: str = "kms:*") -> tuple[iam_policy.Statement, ...]:
    grant = allow(action, "*", Principal={"AWS": principal})
    return policy(grant, where="key")


def test_a_kms_key_needs_its_key_policy() -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/k1"
    me = who(allow("kms:*", "*"))
    to_account = key_policy("arn:aws:iam::123456789012:root")
    to_someone_else = key_policy("arn:aws:iam::123456789012:role/x")
    assert decide(me, "kms:DescribeKey", key, {}, to_account, resource_policy_required=True).allowed
    assert not decide(
        me, "kms:DescribeKey", key, {}, to_someone_else, resource_policy_required=True
    ).allowed
    naming_me = key_policy(ROLE, "kms:Describe*")
    assert decide(
        who(), "kms:DescribeKey", key, {}, naming_me, resource_policy_required=True
    ).allowed


@pytest.mark.parametrize(
    ("operator", "values", "context", "holds"),
    [
        ("StringEquals", ["dev"], {"k": ["dev"]}, True),
        ("StringEquals", ["dev"], {"k": ["prod"]}, False),
        ("StringEquals", ["dev"], {}, False),
        ("StringNotEquals", ["dev"], {"k": ["prod"]}, True),
        ("StringNotEquals", ["dev"], {"k": ["dev"]}, False),
        ("StringNotEquals", ["dev"], {}, True),
        ("StringLike", ["b/dev/*"], {"k": ["b/dev/terraform.tfstate"]}, True),
        ("StringLike", ["b/dev/*"], {"k": ["b/prod/terraform.tfstate"]}, False),
        ("StringEqualsIfExists", ["dev"], {}, True),
        ("StringEqualsIfExists", ["dev"], {"k": ["prod"]}, False),
        (
            "ArnLike",
            ["arn:aws:lambda:*:1:function:ingest-dev-*"],
            {"k": ["arn:aws:lambda:eu-west-1:1:function:ingest-dev-api"]},
            True,
        ),
        (
            "ArnLike",
            ["arn:aws:lambda:*:1:function:ingest-dev-*"],
            {"k": ["arn:aws:lambda:eu-west-1:2:function:ingest-dev-api"]},
            False,
        ),
        ("ArnLike", ["arn:aws:lambda:*:1:function:ingest-dev-*"], {}, False),
        ("ArnEquals", ["arn:aws:iam::1:policy/b"], {"k": ["arn:aws:iam::1:policy/b"]}, True),
        ("Bool", ["true"], {"k": ["true"]}, True),
        ("Bool", ["true"], {"k": ["false"]}, False),
        ("Null", ["false"], {"k": ["x"]}, True),
        ("Null", ["false"], {}, False),
        ("Null", ["true"], {}, True),
        ("ForAllValues:StringLike", ["b/dev/*"], {"k": ["b/dev/a", "b/dev/b"]}, True),
        ("ForAllValues:StringLike", ["b/dev/*"], {"k": ["b/dev/a", "b/prod/b"]}, False),
        ("ForAllValues:StringLike", ["b/dev/*"], {}, True),
        ("ForAnyValue:StringEquals", ["Environment"], {"k": ["Owner", "Environment"]}, True),
        ("ForAnyValue:StringEquals", ["Environment"], {"k": ["Owner"]}, False),
        ("ForAnyValue:StringEquals", ["Environment"], {}, False),
        ("NumericLessThan", ["10"], {"k": ["3"]}, True),
    ],
)
def test_condition_operators(
    operator: str, values: list[str], context: dict[str, list[str]], holds: bool
) -> None:
    assert condition_holds(operator, "k", values, context) is holds


def test_condition_keys_are_case_insensitive() -> None:
    assert condition_holds(
        "StringEquals",
        "IAM:PassedToService",
        ["lambda.amazonaws.com"],
        {"iam:PassedToService": ["lambda.amazonaws.com"]},
    )


def test_an_unknown_operator_is_an_error_not_a_silent_verdict() -> None:
    with pytest.raises(ValueError, match="not supported"):
        condition_holds("IpAddress", "aws:SourceIp", ["10.0.0.0/8"], {"aws:SourceIp": ["10.1.1.1"]})


def test_conditions_of_a_statement_all_hold() -> None:
    lock = allow(
        "dynamodb:PutItem",
        "arn:aws:dynamodb:eu-west-1:123456789012:table/locks",
        Condition={
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["bucket/dev/*"]},
            "Null": {"dynamodb:LeadingKeys": "false"},
        },
    )
    me = who(lock)
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/locks"
    assert decide(
        me, "dynamodb:PutItem", table, {"dynamodb:LeadingKeys": ["bucket/dev/terraform.tfstate"]}
    ).allowed
    assert not decide(
        me, "dynamodb:PutItem", table, {"dynamodb:LeadingKeys": ["bucket/prod/terraform.tfstate"]}
    ).allowed
    # Without the key (a Scan, say) the ForAllValues would hold: the Null condition refuses it.
    assert not decide(me, "dynamodb:PutItem", table, {}).allowed


def test_bool_values_may_be_json_booleans() -> None:
    me = who(
        allow("kms:CreateKey", "*"),
        deny(
            "kms:CreateKey", "*", Condition={"Bool": {"kms:BypassPolicyLockoutSafetyCheck": True}}
        ),
    )
    assert decide(
        me, "kms:CreateKey", "*", {"kms:BypassPolicyLockoutSafetyCheck": ["false"]}
    ).allowed
    assert not decide(
        me, "kms:CreateKey", "*", {"kms:BypassPolicyLockoutSafetyCheck": ["true"]}
    ).allowed
