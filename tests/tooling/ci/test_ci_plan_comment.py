"""Plan rendering, truncation and the sticky comment upsert of scripts/ci/plan_comment.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.ci.plan_comment import (
    COMMENT_LIMIT,
    GitHub,
    GitHubError,
    PlanReport,
    main,
    marker,
    render,
    summary_line,
    upsert_comment,
)
from tests.tooling.ci.fakes import FakeGitHub

REPO = "acme/ingest"
RUN_URL = "https://github.com/acme/ingest/actions/runs/42"
SUMMARY = "Plan: 3 to add, 1 to change, 0 to destroy."


def plan_text(lines: int) -> str:
    body = "\n".join(
        f'  + resource "aws_thing" "t{i}" {{ name = "{i:06d}" }}' for i in range(lines)
    )
    return f"Terraform will perform the following actions:\n\n{body}\n\n{SUMMARY}\n"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (plan_text(2), SUMMARY),
        ("...\nNo changes. Your infrastructure matches the configuration.\n", "No changes. Your"),
        ("Changes to Outputs:\n  + api_endpoint = (known after apply)\n", "Changes to Outputs:"),
        ("\nError: No valid credential sources found\n\n  with provider", "Error: No valid"),
        ("something unexpected", "No summary line found"),
    ],
)
def test_summary_line(text: str, expected: str) -> None:
    assert summary_line(text).startswith(expected)


def test_a_short_plan_renders_whole_with_marker_and_link() -> None:
    text = plan_text(5)
    body = render(PlanReport("dev", text, run_url=RUN_URL, commit="a" * 40))
    assert body.startswith(marker("dev"))
    assert "Terraform plan: `dev`" in body
    assert f"**{SUMMARY}**" in body
    assert f"[workflow run]({RUN_URL})" in body
    assert "commit `aaaaaaaaaaaa`" in body
    for line in text.strip().splitlines():  # every line, change signs moved to column one
        assert line.replace("  + ", "+   ") in body
    assert "truncated" not in body


def test_a_long_plan_is_truncated_to_the_comment_limit() -> None:
    text = plan_text(5000)
    assert len(text) > COMMENT_LIMIT
    body = render(PlanReport("prod", text, run_url=RUN_URL))
    assert len(body) <= COMMENT_LIMIT
    assert body.startswith(marker("prod"))
    assert f"**{SUMMARY}**" in body  # the summary line is kept even though the tail is cut
    assert "truncated" in body
    assert RUN_URL in body
    assert body.count("```") == 2  # the code fence is closed
    # Cut at a line boundary: the last plan line shown is complete.
    shown = body.split("```diff\n", 1)[1].split("\n... (truncated)", 1)[0]
    assert shown.splitlines()[-1].endswith("}")


@pytest.mark.parametrize("limit", [2_000, 10_000, COMMENT_LIMIT])
def test_rendering_never_exceeds_the_limit(limit: int) -> None:
    for lines in (0, 10, 100, 3000):
        body = render(PlanReport("dev", plan_text(lines), run_url=RUN_URL), limit=limit)
        assert len(body) <= limit


def test_a_fence_in_the_plan_cannot_break_out_of_the_code_block() -> None:
    body = render(PlanReport("dev", '  + value = "```"\n' + SUMMARY))
    assert body.count("```") == 2


def test_change_signs_move_to_the_first_column_for_diff_colouring() -> None:
    text = '\n\n  # aws_lambda_function.f will be updated in-place\n  ~ resource "x" "f" {\n'
    text += '      ~ source_code_hash = "a" -> "b"\n-/+ resource "y" "z" {\n      + id = 1\n'
    body = render(PlanReport("dev", text + SUMMARY))
    assert '\n~   resource "x" "f" {' in body
    assert '\n~       source_code_hash = "a" -> "b"' in body
    assert '\n-/+ resource "y" "z" {' in body
    assert "\n+       id = 1" in body
    assert "\n\n\n  # aws_lambda_function.f will be updated in-place" in body


def test_a_human_comment_quoting_the_marker_is_left_alone(github: FakeGitHub) -> None:
    github.add(5, marker("dev") + " quoted by a person")
    github.comments[5][0]["user"] = {"login": "someone", "type": "User"}
    action, _ = upsert_comment(GitHub("test-token", github.url), REPO, 5, "dev", marker("dev"))
    assert action == "created"
    assert github.comments[5][0]["body"].endswith("quoted by a person")


def test_status_is_shown() -> None:
    assert "❌ Terraform plan failure" in render(PlanReport("dev", "Error: x", status="failure"))
    assert "drift detected: `prod`" in render(PlanReport("prod", SUMMARY, status="drift"))


def test_upsert_creates_then_updates_one_comment_per_environment(github: FakeGitHub) -> None:
    client = GitHub("test-token", github.url)
    github.add(7, "an unrelated review comment")
    action, first = upsert_comment(client, REPO, 7, "dev", marker("dev") + "\nv1")
    assert action == "created"
    action, prod = upsert_comment(client, REPO, 7, "prod", marker("prod") + "\nv1")
    assert action == "created"
    action, again = upsert_comment(client, REPO, 7, "dev", marker("dev") + "\nv2")
    assert (action, again) == ("updated", first)
    bodies = [c["body"] for c in github.comments[7]]
    assert bodies == [
        "an unrelated review comment",
        marker("dev") + "\nv2",
        marker("prod") + "\nv1",
    ]
    assert prod != first
    method, path, headers, _ = github.requests[-1]
    assert (method, path) == ("PATCH", f"/repos/{REPO}/issues/comments/{first}")
    assert headers["Accept"] == "application/vnd.github+json"


def test_upsert_finds_the_marker_beyond_the_first_page(github: FakeGitHub) -> None:
    for i in range(230):
        github.add(9, f"comment {i}")
    mine = github.add(9, marker("prod") + "\nold")
    action, comment_id = upsert_comment(
        GitHub("test-token", github.url), REPO, 9, "prod", marker("prod") + "\nnew"
    )
    assert (action, comment_id) == ("updated", mine)
    pages = [p for m, p, _, _ in github.requests if m == "GET"]
    assert len(pages) == 3


def test_upsert_removes_duplicates_left_by_a_race(github: FakeGitHub) -> None:
    one = github.add(3, marker("dev") + "\na")
    github.add(3, marker("dev") + "\nb")
    action, comment_id = upsert_comment(
        GitHub("test-token", github.url), REPO, 3, "dev", marker("dev") + "\nc"
    )
    assert (action, comment_id) == ("updated", one)
    assert [c["body"] for c in github.comments[3]] == [marker("dev") + "\nc"]


def test_api_errors_are_reported(github: FakeGitHub) -> None:
    github.fail_with = 403
    with pytest.raises(GitHubError, match="HTTP 403"):
        upsert_comment(GitHub("test-token", github.url), REPO, 1, "dev", "x")
    with pytest.raises(GitHubError, match="empty"):
        GitHub("")


def _actions_env(tmp_path: Path, api_url: str, number: int | None = 12) -> dict[str, str]:
    event = tmp_path / "event.json"
    payload = {"pull_request": {"number": number}} if number else {"ref": "refs/heads/main"}
    event.write_text(json.dumps(payload))
    return {
        "GITHUB_TOKEN": "test-token",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": api_url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "42",
        "GITHUB_SHA": "b" * 40,
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
    }


def test_publish_writes_the_summary_and_the_sticky_comment(
    tmp_path: Path, github: FakeGitHub
) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text(plan_text(3))
    env = _actions_env(tmp_path, github.url)
    args = ["publish", "--environment", "dev", "--plan-text", str(plan), "--summary", "--comment"]
    assert main(args, env) == 0
    assert main(args, env) == 0  # a second run updates the same comment
    (comment,) = github.comments[12]
    assert comment["body"].startswith(marker("dev"))
    assert RUN_URL in comment["body"]
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert SUMMARY in summary
    assert marker("dev") not in summary


def test_publish_reports_a_failed_plan_without_output(tmp_path: Path, github: FakeGitHub) -> None:
    env = _actions_env(tmp_path, github.url)
    args = ["publish", "--environment", "prod", "--plan-text", str(tmp_path / "missing.txt")]
    assert main([*args, "--status", "failure", "--comment"], env) == 0
    (comment,) = github.comments[12]
    assert "❌" in comment["body"]
    assert "no plan output" in comment["body"]


def test_the_comment_job_posts_the_status_the_plan_job_saved(
    tmp_path: Path, github: FakeGitHub
) -> None:
    """plan.yml: the plan job has no write token, the comment job runs no Terraform."""
    plan = tmp_path / "plan" / "plan.txt"
    status = tmp_path / "plan" / "status"
    env = _actions_env(tmp_path, github.url)
    plan_job = ["publish", "--environment", "dev", "--plan-text", str(plan), "--summary"]
    assert main([*plan_job, "--status", "failure", "--save-status", str(status)], env) == 0
    assert status.read_text() == "failure\n"
    assert github.requests == []  # the plan job never talks to the API

    comment_job = ["publish", "--environment", "dev", "--plan-text", str(plan), "--comment"]
    assert main([*comment_job, "--status-file", str(status)], env) == 0
    (comment,) = github.comments[12]
    assert "❌ Terraform plan failure" in comment["body"]


@pytest.mark.parametrize("content", [None, "", "success; rm -rf /\n", "<img src=x>"])
def test_a_missing_or_unknown_saved_status_posts_nothing(
    tmp_path: Path, github: FakeGitHub, content: str | None
) -> None:
    status = tmp_path / "status"
    if content is not None:
        status.write_text(content)
    env = _actions_env(tmp_path, github.url)
    args = ["publish", "--environment", "dev", "--plan-text", str(tmp_path / "plan.txt")]
    assert main([*args, "--status-file", str(status), "--comment"], env) == 1
    assert github.requests == []


def test_status_must_be_a_known_outcome(tmp_path: Path) -> None:
    args = ["publish", "--environment", "dev", "--plan-text", str(tmp_path / "plan.txt")]
    with pytest.raises(SystemExit):
        main([*args, "--status", "weird"], {})
    with pytest.raises(SystemExit):
        main([*args, "--status", "failure", "--status-file", str(tmp_path / "s")], {})


def test_publish_outside_a_pull_request_posts_no_comment(
    tmp_path: Path, github: FakeGitHub
) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text(plan_text(1))
    env = _actions_env(tmp_path, github.url, number=None)
    args = ["publish", "--environment", "dev", "--plan-text", str(plan), "--comment"]
    assert main(args, env) == 0
    assert github.requests == []


def test_publish_fails_on_api_errors(tmp_path: Path, github: FakeGitHub) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text(plan_text(1))
    github.fail_with = 500
    env = _actions_env(tmp_path, github.url)
    args = ["publish", "--environment", "dev", "--plan-text", str(plan), "--comment"]
    assert main(args, env) == 1


def test_fork_notice_explains_why_there_is_no_plan(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    assert main(["fork-notice"], {"GITHUB_STEP_SUMMARY": str(summary)}) == 0
    text = summary.read_text()
    assert "fork" in text
    assert "no cloud credentials" in text
