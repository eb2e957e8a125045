"""scripts/tf/iam_lint.py: reading the rendered documents, judging findings, the suppression list."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import parliament  # type: ignore[import-untyped]
import pytest

from scripts.tf import iam_lint
from scripts.tf.iam_lint import Document, Finding, LintError, Suppression, judge

ROOT = Path(__file__).resolve().parents[3]
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Principal": {"Service": "lambda.amazonaws.com"},
            }
        ],
    }
)


def plan_line(run: str, changes: list[dict[str, object]]) -> str:
    return json.dumps(
        {"type": "test_plan", "@testrun": run, "test_plan": {"resource_changes": changes}}
    )


def change(
    address: str, kind: str, after: dict[str, object], unknown: dict[str, object] | None = None
) -> dict[str, object]:
    return {
        "address": address,
        "mode": "managed",
        "type": kind,
        "change": {"after": after, "after_unknown": unknown or {}},
    }


def finding(
    issue: str, severity: str, name: str = "aws_iam_role_policy.apply", detail: str = ""
) -> Finding:
    doc = Document("modules/m", "r", name, "policy", "{}")
    return Finding(doc, issue, severity, issue.title(), detail, "")


class TestDocuments:
    def test_every_policy_attribute_of_the_plan_is_a_document(self) -> None:
        output = "\n".join(
            [
                json.dumps({"type": "version", "terraform": "1.11.4"}),
                plan_line(
                    "r1",
                    [
                        change("aws_iam_role.this", "aws_iam_role", {"assume_role_policy": TRUST}),
                        change("aws_iam_role_policy.this", "aws_iam_role_policy", {"policy": "{}"}),
                        change("aws_sns_topic.t", "aws_sns_topic", {"name": "t"}, {"policy": True}),
                    ],
                ),
            ]
        )
        docs = iam_lint.documents("modules/m", output)
        assert [(d.address, d.attribute) for d in docs] == [
            ("aws_iam_role.this", "assume_role_policy"),
            ("aws_iam_role_policy.this", "policy"),
        ]
        assert docs[0].name == "modules/m:aws_iam_role.this.assume_role_policy"

    def test_a_policy_unknown_at_plan_time_is_an_error(self) -> None:
        output = plan_line(
            "r1", [change("aws_iam_role_policy.x", "aws_iam_role_policy", {}, {"policy": True})]
        )
        with pytest.raises(LintError, match="unknown at plan time"):
            iam_lint.documents("modules/m", output)

    def test_no_plan_is_an_error(self) -> None:
        with pytest.raises(LintError, match="no plan"):
            iam_lint.documents("modules/m", json.dumps({"type": "test_summary"}))

    def test_the_same_document_from_two_runs_is_linted_once(self) -> None:
        doc = Document("modules/m", "r1", "a.b", "policy", "{}")
        assert iam_lint.unique([doc, Document("modules/m", "r2", "a.b", "policy", "{}")]) == [doc]


class TestJudge:
    def test_medium_and_worse_fail_unless_suppressed(self) -> None:
        suppression = Suppression("RESOURCE_STAR", "modules/m:*", "", "a reason")
        verdict = judge(
            [finding("RESOURCE_STAR", "MEDIUM"), finding("MALFORMED", "HIGH")], [suppression]
        )
        assert [f.issue for f in verdict.failing] == ["MALFORMED"]
        assert [f.issue for f, _ in verdict.suppressed] == ["RESOURCE_STAR"]
        assert not verdict.ok

    def test_low_findings_are_notes(self) -> None:
        verdict = judge([finding("RESOURCE_STAR", "LOW")], [])
        assert verdict.ok
        assert len(verdict.below) == 1

    def test_an_unknown_severity_fails(self) -> None:
        assert not judge([finding("X", "SEVERE")], []).ok

    def test_a_suppression_names_one_finding(self) -> None:
        narrow = Suppression("MALFORMED", "modules/m:aws_iam_role.*", "Sid1", "a reason")
        verdict = judge(
            [
                finding("MALFORMED", "HIGH", "aws_iam_role.x", "in Sid1"),
                finding("MALFORMED", "HIGH", "aws_iam_role.x", "in Sid2"),
                finding("MALFORMED", "HIGH", "aws_iam_role_policy.x", "in Sid1"),
            ],
            [narrow],
        )
        assert len(verdict.suppressed) == 1
        assert len(verdict.failing) == 2

    def test_a_suppression_that_matches_nothing_fails(self) -> None:
        stale = Suppression("MALFORMED", "modules/gone:*", "", "a reason")
        verdict = judge([], [stale])
        assert verdict.stale == [stale]
        assert not verdict.ok
        assert judge([], [stale], report_stale=False).ok


class TestSuppressions:
    @pytest.mark.parametrize("suppression", iam_lint.SUPPRESSIONS, ids=lambda s: s.issue)
    def test_each_has_a_reason_a_known_issue_and_a_module(self, suppression: Suppression) -> None:
        iam_lint.load_community_config()
        assert suppression.issue in parliament.config
        assert parliament.config[suppression.issue]["severity"] in ("MEDIUM", "HIGH", "CRITICAL")
        assert suppression.document.startswith("modules/")
        modules = [p.name for p in (ROOT / "modules").iterdir()]
        module = suppression.document.split("/")[1].split(":")[0]
        assert fnmatch.filter(modules, module), module
        assert len(suppression.reason) >= 40

    def test_none_is_a_blanket(self) -> None:
        for suppression in iam_lint.SUPPRESSIONS:
            assert suppression.contains, suppression
            assert suppression.document != "modules/*:*", suppression


class TestParliament:
    def test_finds_what_the_old_deploy_policy_allowed(self) -> None:
        iam_lint.load_community_config()
        # sns:Unsubscribe has no resource-level permission: scoping it to a topic grants nothing.
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["sns:Unsubscribe", "lambda:Get*"],
                    "Resource": "arn:aws:sns:eu-west-1:123456789012:ingest-dev-*",
                }
            ],
        }
        doc = Document("modules/m", "r", "aws_iam_role_policy.x", "policy", json.dumps(policy))
        issues = {f.issue for f in iam_lint.lint(doc)}
        assert "RESOURCE_MISMATCH" in issues

    def test_details_are_stable_text(self) -> None:
        assert iam_lint.compact({"actions": ["b", "a"], "x": None}) == (
            '{"actions": ["a", "b"], "x": null}'
        )
        assert iam_lint.compact(None) == ""


def test_every_module_that_renders_a_policy_is_linted() -> None:
    for main in sorted((ROOT / "modules").glob("*/main.tf")):
        text = main.read_text()
        renders = 'data "aws_iam_policy_document"' in text or "policy " in text
        if renders and "aws_iam_policy_document" in text:
            assert (main.parent / iam_lint.TEST_FILE).is_file(), main.parent.name
    linted = {p.name for p in iam_lint.modules_with_policies()}
    assert linted == {"alarms", "event-bus-pipe", "github-oidc", "ingest-function", "state-backend"}


def test_make_test_runs_the_lint() -> None:
    makefile = (ROOT / "mk" / "terraform.mk").read_text()
    prerequisites = next(
        line for line in makefile.splitlines() if line.startswith("test-terraform:")
    )
    assert "tf-parliament" in prerequisites.split("##")[0]
    assert "scripts/tf/iam_lint.py" in makefile
