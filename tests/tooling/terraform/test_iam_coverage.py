"""scripts/tf/iam_coverage.py end to end on a small saved rehearsal: states, a recording, a verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scripts.tf import iam_coverage, iam_identities
from tests.tooling.terraform.test_iam_requests import entry, json_call

ACCOUNT = "123456789012"
IAM = f"arn:aws:iam::{ACCOUNT}"
BUCKET = "ingest-tfstate"
FUNCTION = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:ingest-dev-api"
TABLE = "ingest-dev-events"


def resource(
    kind: str, name: str, *instances: dict[str, Any], index: str | None = None
) -> dict[str, Any]:
    return {
        "mode": "managed",
        "type": kind,
        "name": name,
        "instances": [{"index_key": index, "attributes": a} for a in instances],
    }


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def role(name: str, path: str = "/", boundary: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "arn": f"{IAM}:role{path}{name}",
        "path": path,
        "permissions_boundary": boundary,
    }


STATE_READ = {
    "Sid": "StateRead",
    "Effect": "Allow",
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}
UNUSED = {"Sid": "NeverUsed", "Effect": "Allow", "Action": "sns:CreateTopic", "Resource": "*"}
WRITE = {
    "Sid": "WriteEvents",
    "Effect": "Allow",
    "Action": "dynamodb:PutItem",
    "Resource": f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/{TABLE}",
    "Condition": {"ArnLike": {"lambda:SourceFunctionArn": FUNCTION}},
}


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    """A bootstrap with a plan role and dev's apply role, and dev with its function."""
    bootstrap = {
        "resources": [
            resource(
                "aws_iam_role", "this", role("ingest-github-plan"), role("ingest-dev-github-apply")
            ),
            resource(
                "aws_iam_role_policy",
                "this",
                {"role": "ingest-github-plan", "policy": document(STATE_READ, UNUSED)},
                {"role": "ingest-dev-github-apply", "policy": document(STATE_READ)},
            ),
            resource(
                "aws_iam_policy",
                "boundary",
                {"arn": f"{IAM}:policy/ingest-dev-boundary", "policy": document(WRITE)},
            ),
        ]
    }
    dev = {
        "resources": [
            resource(
                "aws_iam_role",
                "this",
                role("ingest-dev-api-role", "/ingest-dev/", f"{IAM}:policy/ingest-dev-boundary"),
            ),
            resource(
                "aws_iam_role_policy",
                "this",
                {"role": "ingest-dev-api-role", "policy": document(WRITE)},
            ),
            resource(
                "aws_lambda_function",
                "this",
                {"arn": FUNCTION, "role": f"{IAM}:role/ingest-dev/ingest-dev-api-role"},
            ),
        ]
    }
    (tmp_path / iam_coverage.BOOTSTRAP_STATE).write_text(json.dumps(bootstrap))
    (tmp_path / "dev-00.tfstate").write_text(json.dumps(dev))
    return tmp_path


def record(directory: Path, *entries: dict[str, Any]) -> None:
    # Two entries on one line, as moto's recorder writes them when requests overlap.
    text = "\n".join(json.dumps(e) for e in entries[:-1])
    text += json.dumps(entries[-1]) + "\n" if entries else ""
    (directory / iam_coverage.RECORDING).write_text(text)


def key(identity: str) -> str:
    return iam_identities.access_key(identity)


def put_event(identity: str) -> dict[str, Any]:
    body = {"TableName": TABLE, "Item": {"pk": {"S": "x"}}}
    return json_call("DynamoDB_20120810.PutItem", "dynamodb", body, key=key(identity))


def test_every_call_allowed_passes_and_names_the_unused_statement(
    saved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record(
        saved,
        entry("s3", "GET", f"/{BUCKET}/dev/terraform.tfstate", key=key("plan")),
        entry("s3", "GET", f"/{BUCKET}/dev/terraform.tfstate", key=key("apply:dev")),
        put_event("function:dev"),
        entry("s3", "PUT", f"/{BUCKET}", key=key("admin")),
    )
    assert iam_coverage.report(saved)
    out = capsys.readouterr().out
    assert "this:ingest-github-plan/NeverUsed (no call needs it: a candidate for removal)" in out
    assert "1 calls not evaluated" in out  # the administrator's
    # No call here needs any of the exemptions: each is named, to be removed when stale.
    assert out.count("exemption no call needed") == len(iam_coverage.EXEMPT)


def test_a_call_the_policy_does_not_allow_fails(
    saved: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record(saved, entry("s3", "PUT", f"/{BUCKET}/prod/terraform.tfstate", key=key("apply:dev")))
    assert not iam_coverage.report(saved)
    assert "s3:PutObject" in capsys.readouterr().out


def test_the_functions_write_needs_lambdas_source_arn_and_the_boundary(saved: Path) -> None:
    record(saved, put_event("function:dev"))
    rows, _, _ = iam_coverage.evaluate(saved)
    assert [(r.action, r.verdict) for r in rows] == [("dynamodb:PutItem", "allowed")]
    # The same write by a role without the function's identity is no one's: the plan role refuses it.
    record(saved, put_event("plan"))
    assert not iam_coverage.report(saved)


def test_a_persons_read_of_events_must_be_refused_to_every_role(saved: Path) -> None:
    query = {"TableName": TABLE, "KeyConditionExpression": "pk = :p"}
    record(saved, json_call("DynamoDB_20120810.Query", "dynamodb", query, key=key("person")))
    rows, _, _ = iam_coverage.evaluate(saved)
    verdicts = {r.identity: r.verdict for r in rows if r.action == "dynamodb:Query"}
    assert set(verdicts) == {"plan", "apply:dev", "function:dev"}
    assert set(verdicts.values()) == {iam_coverage.READ_REFUSED}
