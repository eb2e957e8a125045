"""scripts/fork.py against the fake GitHub API: the full change set, idempotence, dry run, drift."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from typing import Any

import pytest

from scripts import fork
from tests.tooling.fork.conftest import (
    ACCOUNT,
    REGION,
    TOKEN,
    WORKFLOWS,
    ForkRunner,
    bootstrap_outputs,
    snapshot,
)
from tests.tooling.fork.fake_github import FakeGitHub, Recorded

BASE = "/repos/me/ingest"
CHECKS = [
    {"context": c, "integration_id": 15368} for c in ("make test", "tflint and terraform-docs")
]


def calls(records: list[Recorded]) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in records]


def printed_calls(out: str) -> list[tuple[str, str, Any]]:
    """The API calls a run printed: `METHOD /path {json}` lines."""
    found = re.findall(r"^ {6}(GET|PUT|POST|PATCH|DELETE) (/\S+)(?: (\{.*\}))?$", out, re.MULTILINE)
    return [(m, p, json.loads(b) if b else None) for m, p, b in found]


def expected_writes() -> list[tuple[str, str]]:
    return [
        ("PUT", f"{BASE}/actions/permissions"),
        ("PUT", f"{BASE}/actions/permissions/workflow"),
        *[("PUT", f"{BASE}/actions/workflows/{name}/enable") for name in WORKFLOWS],
        ("PUT", f"{BASE}/environments/dev"),
        ("POST", f"{BASE}/environments/dev/deployment-branch-policies"),
        ("POST", f"{BASE}/environments/dev/variables"),
        ("PUT", f"{BASE}/environments/prod"),
        ("POST", f"{BASE}/environments/prod/deployment-branch-policies"),
        ("POST", f"{BASE}/environments/prod/variables"),
        ("POST", f"{BASE}/actions/variables"),
        ("POST", f"{BASE}/actions/variables"),
        ("POST", f"{BASE}/rulesets"),
    ]


def test_a_fresh_repository_gets_the_full_change_set(
    run_fork: ForkRunner, github: FakeGitHub, outputs_file: Path
) -> None:
    result = run_fork("--bootstrap-outputs", str(outputs_file), "--reviewer", "alice")

    assert result.code == 0, result.err
    assert github.rejections == []
    assert calls(github.writes()) == expected_writes()
    assert github.actions["enabled"] is True
    assert github.workflow_permissions == {
        "default_workflow_permissions": "read",
        "can_approve_pull_request_reviews": False,
    }
    assert {w["state"] for w in github.workflows.values()} == {"active"}
    for name in ("dev", "prod"):
        env = github.environments[name]
        assert env.branch_policy == {"protected_branches": False, "custom_branch_policies": True}
        assert [(p["name"], p["type"]) for p in env.policies] == [("main", "branch")]
        assert env.variables == {
            "AWS_APPLY_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/ingest-{name}-github-apply"
        }
        assert env.wait_timer == 0
    assert github.environments["dev"].reviewers == []
    assert github.environments["prod"].reviewers == [{"type": "User", "id": 1002}]
    assert github.environments["prod"].prevent_self_review is True
    assert github.variables == {
        "AWS_REGION": REGION,
        "AWS_PLAN_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/ingest-github-plan",
    }
    (ruleset,) = github.rulesets.values()
    assert ruleset["name"] == "main"
    assert ruleset["enforcement"] == "active"
    assert ruleset["conditions"] == {"ref_name": {"include": ["refs/heads/main"], "exclude": []}}
    rules = {r["type"]: r.get("parameters") for r in ruleset["rules"]}
    assert set(rules) == {"deletion", "non_fast_forward", "pull_request", "required_status_checks"}
    assert rules["pull_request"]["required_approving_review_count"] == 1
    assert rules["pull_request"]["require_code_owner_review"] is True
    assert rules["required_status_checks"]["required_status_checks"] == CHECKS
    assert result.out.rstrip().endswith(f"{len(expected_writes())} API call(s) changed.")


def test_a_second_run_changes_nothing_and_says_so(
    run_fork: ForkRunner, github: FakeGitHub, outputs_file: Path, checkout: Path
) -> None:
    args = ("--bootstrap-outputs", str(outputs_file), "--reviewer", "alice")
    assert run_fork(*args).code == 0
    files = snapshot(checkout)
    github.clear()

    again = run_fork(*args)

    assert again.code == 0, again.err
    assert github.writes() == []
    assert {r.method for r in github.requests} == {"GET"}
    assert github.rejections == []
    assert "(already configured)" in again.out
    assert again.out.rstrip().endswith("Nothing to change.")
    assert snapshot(checkout) == files


def test_dry_run_prints_every_change_and_makes_none(
    run_fork: ForkRunner, github: FakeGitHub, outputs_file: Path, checkout: Path
) -> None:
    args = ("--bootstrap-outputs", str(outputs_file), "--reviewer", "alice")
    files = snapshot(checkout)

    dry = run_fork(*args, "--dry-run")

    assert dry.code == 0, dry.err
    assert github.writes() == []
    assert snapshot(checkout) == files
    assert "Dry run: 5 file(s), " in dry.out
    assert "nothing was changed" in dry.out
    for path in (
        "environments/bootstrap/terraform.tfvars",
        "environments/dev/dev.s3.tfbackend",
        "environments/dev/terraform.tfvars",
        "environments/prod/prod.s3.tfbackend",
        "environments/prod/terraform.tfvars",
    ):
        assert f"  ~ {path}\n" in dry.out
    assert f'+bucket = "ingest-tfstate-{ACCOUNT}-{REGION}"' in dry.out

    # What the dry run printed is exactly what a real run then sends, body for body.
    github.clear()
    real = run_fork(*args)
    sent = [(r.method, r.path, r.body) for r in github.writes()]
    assert printed_calls(dry.out) == sent
    assert printed_calls(real.out) == sent


def test_solo_lets_the_one_person_approve_their_own_deployments(
    run_fork: ForkRunner, github: FakeGitHub, outputs_file: Path
) -> None:
    result = run_fork("--bootstrap-outputs", str(outputs_file), "--solo")

    assert result.code == 0, result.err
    assert ("GET", "/user") in calls(github.requests)
    prod = github.environments["prod"]
    assert prod.reviewers == [{"type": "User", "id": github.users["me"]}]
    assert prod.prevent_self_review is False
    assert "reviewers me, self-review allowed" in result.out
    (ruleset,) = github.rulesets.values()
    pull_request = next(r for r in ruleset["rules"] if r["type"] == "pull_request")["parameters"]
    assert pull_request["required_approving_review_count"] == 0
    assert pull_request["require_code_owner_review"] is False


def test_reviewers_may_be_teams_and_users(
    run_fork: ForkRunner, github: FakeGitHub, outputs_file: Path
) -> None:
    result = run_fork(
        "--bootstrap-outputs",
        str(outputs_file),
        "--reviewer",
        "acme/deployers",
        "--reviewer",
        "bob",
    )

    assert result.code == 0, result.err
    assert github.environments["prod"].reviewers == [
        {"type": "Team", "id": 2001},
        {"type": "User", "id": 1003},
    ]
    assert github.environments["prod"].prevent_self_review is True


def test_plan_checks_are_required_only_when_asked(
    run_fork: ForkRunner, github: FakeGitHub, outputs_file: Path
) -> None:
    assert run_fork("--bootstrap-outputs", str(outputs_file), "--reviewer", "alice").code == 0
    github.clear()

    result = run_fork(
        "--bootstrap-outputs", str(outputs_file), "--reviewer", "alice", "--require-plan-checks"
    )

    assert result.code == 0, result.err
    (ruleset_id,) = github.rulesets
    assert calls(github.writes()) == [("PUT", f"{BASE}/rulesets/{ruleset_id}")]
    checks = next(
        r for r in github.rulesets[ruleset_id]["rules"] if r["type"] == "required_status_checks"
    )
    contexts = [c["context"] for c in checks["parameters"]["required_status_checks"]]
    assert contexts == ["make test", "tflint and terraform-docs", "Plan dev", "Plan prod"]


def test_drift_is_repaired_by_writing_only_the_differences(
    run_fork: ForkRunner, github: FakeGitHub, outputs_file: Path
) -> None:
    args = ("--bootstrap-outputs", str(outputs_file), "--reviewer", "alice")
    assert run_fork(*args).code == 0
    prod = github.environments["prod"]
    prod.prevent_self_review = False
    prod.policies.append({"id": 777, "node_id": "P", "name": "release/*", "type": "branch"})
    github.variables["AWS_REGION"] = "eu-west-1"
    (ruleset_id,) = github.rulesets
    checks = next(
        r for r in github.rulesets[ruleset_id]["rules"] if r["type"] == "required_status_checks"
    )
    checks["parameters"]["required_status_checks"] = CHECKS[:1]
    github.workflows["drift.yml"]["state"] = "disabled_inactivity"
    github.clear()

    result = run_fork(*args)

    assert result.code == 0, result.err
    assert github.rejections == []
    assert calls(github.writes()) == [
        ("PUT", f"{BASE}/actions/workflows/drift.yml/enable"),
        ("PUT", f"{BASE}/environments/prod"),
        ("DELETE", f"{BASE}/environments/prod/deployment-branch-policies/777"),
        ("PATCH", f"{BASE}/actions/variables/AWS_REGION"),
        ("PUT", f"{BASE}/rulesets/{ruleset_id}"),
    ]
    assert "repository variable AWS_REGION: eu-west-1 -> us-east-2" in result.out
    github.clear()
    assert run_fork(*args).out.rstrip().endswith("Nothing to change.")
    assert github.writes() == []


def test_without_bootstrap_outputs_the_role_variables_wait(
    run_fork: ForkRunner, github: FakeGitHub, outputs_file: Path
) -> None:
    first = run_fork("--reviewer", "alice")

    assert first.code == 0, first.err
    assert github.variables == {"AWS_REGION": REGION}
    assert github.environments["dev"].variables == {}
    assert "Waiting for the bootstrap outputs" in first.out
    for pending in (
        "repository variable AWS_PLAN_ROLE_ARN",
        "environment dev variable AWS_APPLY_ROLE_ARN",
        "environment prod variable AWS_APPLY_ROLE_ARN",
    ):
        assert f"  - {pending}\n" in first.out
    github.clear()

    second = run_fork("--bootstrap-outputs", str(outputs_file), "--reviewer", "alice")

    assert second.code == 0, second.err
    assert calls(github.writes()) == [
        ("POST", f"{BASE}/environments/dev/variables"),
        ("POST", f"{BASE}/environments/prod/variables"),
        ("POST", f"{BASE}/actions/variables"),
    ]
    assert "Waiting" not in second.out


def test_local_only_actions_are_opened_to_the_marketplace_actions(
    run_fork: ForkRunner, github: FakeGitHub, outputs_file: Path
) -> None:
    github.actions = {
        "enabled": True,
        "allowed_actions": "local_only",
        "sha_pinning_required": False,
    }

    assert run_fork("--bootstrap-outputs", str(outputs_file), "--solo").code == 0

    first = github.writes()[0]
    assert (first.method, first.path, first.body) == (
        "PUT",
        f"{BASE}/actions/permissions",
        {"enabled": True, "allowed_actions": "all"},
    )


@pytest.mark.parametrize(
    ("setup", "args", "repo", "message"),
    [
        (
            lambda g: setattr(g, "token", "another"),
            (),
            "me/ingest",
            "GET /repos/me/ingest: 401 Bad credentials",
        ),
        (lambda g: None, (), "me/other", "me/other does not exist or the token cannot see it"),
        (
            lambda g: None,
            (),
            "Me/Ingest",
            "GitHub spells the repository me/ingest: use --repo me/ingest",
        ),
        (
            lambda g: setattr(g, "admin", False),
            (),
            "me/ingest",
            "the token has no admin rights on me/ingest",
        ),
        (
            lambda g: None,
            ("--reviewer", "nobody"),
            "me/ingest",
            "reviewer 'nobody' does not exist on GitHub",
        ),
        (lambda g: None, ("--reviewer", "acme"), "me/ingest", "reviewer 'acme' does not exist"),
        (
            lambda g: None,
            ("--reviewer", "acme/nope"),
            "me/ingest",
            "reviewer 'acme/nope' does not exist",
        ),
    ],
)
def test_problems_found_while_reading_stop_before_any_change(
    run_fork: ForkRunner,
    github: FakeGitHub,
    outputs_file: Path,
    checkout: Path,
    setup: Any,
    args: tuple[str, ...],
    repo: str,
    message: str,
) -> None:
    setup(github)
    github.users.pop("acme")
    files = snapshot(checkout)
    reviewers = args or ("--reviewer", "alice")

    result = run_fork("--bootstrap-outputs", str(outputs_file), *reviewers, repo=repo)

    assert result.code == 1
    assert result.err.splitlines() == [
        f"fork: error: {result.err.strip().removeprefix('fork: error: ')}"
    ]
    assert message in result.err
    assert github.writes() == []
    assert snapshot(checkout) == files


def test_a_failed_write_says_how_far_it_got_and_a_rerun_finishes(
    run_fork: ForkRunner, github: FakeGitHub, outputs_file: Path
) -> None:
    github.fail = ("POST", r"/rulesets$", 500)
    args = ("--bootstrap-outputs", str(outputs_file), "--reviewer", "alice")

    failed = run_fork(*args)

    total = len(expected_writes())
    assert failed.code == 1
    assert failed.err == (
        f"fork: error: POST {BASE}/rulesets: 500 Server Error ({total - 1} of {total} API calls made; "
        "run again to finish)\n"
    )
    github.fail = None
    github.clear()
    finished = run_fork(*args)
    assert calls(github.writes()) == [("POST", f"{BASE}/rulesets")]
    assert "Files:\n  (every FORK value is already set)" in finished.out


def test_the_api_url_defaults_to_github(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    args = fork.parse_args(["--account-id", ACCOUNT, "--region", REGION, "--repo", "me/ingest"])
    assert args.api_url == "https://api.github.com"
    monkeypatch.setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3")
    args = fork.parse_args(["--account-id", ACCOUNT, "--region", REGION, "--repo", "me/ingest"])
    assert args.api_url == "https://ghe.example.com/api/v3"


def test_lists_are_read_across_pages(github: FakeGitHub) -> None:
    github.environments["dev"] = env = fork_env(github)
    env.policies = [
        {"id": i, "node_id": "P", "name": f"b{i}", "type": "branch"} for i in range(250)
    ]
    api = fork.GitHub(github.url, TOKEN)

    policies = api.get_all(f"{BASE}/environments/dev/deployment-branch-policies", "branch_policies")

    assert policies is not None
    assert [p["id"] for p in policies] == list(range(250))
    pages = [r.query.get("page") for r in github.requests]
    assert pages == [["1"], ["2"], ["3"]]


def fork_env(github: FakeGitHub) -> Any:
    from tests.tooling.fork.fake_github import Environment

    return Environment(
        github.new_id(),
        "dev",
        branch_policy={"protected_branches": False, "custom_branch_policies": True},
    )


# ---- The fake itself is strict: what passes above is what GitHub's reference describes ------------


def send(
    github: FakeGitHub, method: str, path: str, body: Any = None, **headers: str
) -> tuple[int, Any]:
    """One raw request (http.client adds no headers of its own, unlike urllib)."""
    data = (
        None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    )
    defaults = {
        "Authorization": f"Bearer {TOKEN}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": "2022-11-28",
        "User-Agent": "test",
        "Content-Type": "application/json",
    }
    sent = {key: value for key, value in (defaults | headers).items() if value}
    host, port = github.server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=10)
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


GOOD_RULESET = {
    "name": "main",
    "enforcement": "active",
    "rules": [
        {
            "type": "required_status_checks",
            "parameters": {
                "required_status_checks": [{"context": "make test"}],
                "strict_required_status_checks_policy": False,
            },
        }
    ],
}


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason"),
    [
        (
            "PUT",
            "/environments/prod",
            {"wait_timer": 0, "reviewer": []},
            422,
            "Additional properties",
        ),
        ("PUT", "/environments/prod", {"wait_timer": "0"}, 422, "is not of type 'integer'"),
        ("PUT", "/environments/prod", {"wait_timer": 50000}, 422, "is greater than the maximum"),
        (
            "PUT",
            "/environments/prod",
            {"reviewers": [{"type": "Person", "id": 1}]},
            422,
            "is not one of",
        ),
        (
            "PUT",
            "/environments/prod",
            {"deployment_branch_policy": {"protected_branches": False}},
            422,
            "'custom_branch_policies' is a required property",
        ),
        (
            "PUT",
            "/environments/prod",
            {
                "deployment_branch_policy": {
                    "protected_branches": True,
                    "custom_branch_policies": True,
                }
            },
            422,
            "Exactly one",
        ),
        (
            "PUT",
            "/environments/prod",
            {"reviewers": [{"type": "User", "id": 99}]},
            422,
            "is not a user or team",
        ),
        ("PUT", "/environments/prod", b"{not json", 400, "Problems parsing JSON"),
        (
            "POST",
            "/actions/variables",
            {"name": "AWS_REGION"},
            422,
            "'value' is a required property",
        ),
        (
            "POST",
            "/actions/variables",
            {"name": "AWS_REGION", "value": 1},
            422,
            "is not of type 'string'",
        ),
        (
            "POST",
            "/actions/variables",
            {"name": "GITHUB_X", "value": "v"},
            422,
            "invalid variable name",
        ),
        ("PATCH", "/actions/variables/MISSING", {"value": "v"}, 404, "Not Found"),
        (
            "PUT",
            "/actions/permissions",
            {"allowed_actions": "all"},
            422,
            "'enabled' is a required property",
        ),
        (
            "PUT",
            "/actions/permissions/workflow",
            {"default_workflow_permissions": "none"},
            422,
            "is not one of",
        ),
        ("PUT", "/actions/workflows/ci.yml/enable", {"x": 1}, 400, "takes no body"),
        ("GET", "/actions/workflows/nope.yml", None, 404, "Not Found"),
        (
            "POST",
            "/environments/prod/deployment-branch-policies",
            {"name": "main"},
            404,
            "Not Found",
        ),
        ("POST", "/rulesets", {"name": "main"}, 422, "'enforcement' is a required property"),
        ("POST", "/rulesets", GOOD_RULESET | {"enforcement": "on"}, 422, "is not one of"),
        (
            "POST",
            "/rulesets",
            GOOD_RULESET
            | {
                "rules": [
                    {"type": "pull_request", "parameters": {"required_approving_review_count": 1}}
                ]
            },
            422,
            "is not valid under any of the given schemas",
        ),
        (
            "POST",
            "/rulesets",
            GOOD_RULESET
            | {
                "rules": [
                    {
                        "type": "required_status_checks",
                        "parameters": {
                            "required_status_checks": [{"name": "make test"}],
                            "strict_required_status_checks_policy": False,
                        },
                    }
                ]
            },
            422,
            "is not valid under any",
        ),
        (
            "POST",
            "/rulesets",
            GOOD_RULESET | {"conditions": {"ref_name": {"include": ["main"]}}},
            422,
            "Invalid ref name pattern",
        ),
        (
            "POST",
            "/rulesets",
            GOOD_RULESET | {"rules": [{"type": "deletion"}, {"type": "deletion"}]},
            422,
            "only once",
        ),
        ("GET", "/rulesets?per_page=500", None, 422, "per_page"),
        ("GET", "/rulesets?include_parents=false", None, 422, "unknown query parameter"),
        ("DELETE", "/environments/prod", None, 404, "Not Found"),
    ],
)
def test_the_fake_rejects_what_github_would(
    github: FakeGitHub, method: str, path: str, body: Any, status: int, reason: str
) -> None:
    assert send(github, "PUT", f"{BASE}/environments/prod", {"wait_timer": 0})[0] == 200
    code, answer = send(github, method, BASE + path, body)
    assert code == status
    assert reason in json.dumps(answer)


@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({"Authorization": ""}, 401, "Bad credentials"),
        ({"Authorization": "Bearer wrong"}, 401, "Bad credentials"),
        ({"User-Agent": ""}, 403, "User-Agent"),
        ({"Accept": "application/json"}, 415, "Accept"),
        ({"X-GitHub-Api-Version": "2099-01-01"}, 400, "X-GitHub-Api-Version"),
        ({"Content-Type": "text/plain"}, 415, "Content-Type"),
    ],
)
def test_the_fake_checks_every_header(
    github: FakeGitHub, headers: dict[str, str], status: int, reason: str
) -> None:
    code, answer = send(
        github, "POST", f"{BASE}/actions/variables", {"name": "A", "value": "b"}, **headers
    )
    assert code == status
    assert reason in answer["message"]
    assert github.variables == {}


def test_the_fake_answers_as_github_documents(github: FakeGitHub) -> None:
    assert send(github, "POST", f"{BASE}/actions/variables", {"name": "A", "value": "b"}) == (
        201,
        {},
    )
    assert send(github, "POST", f"{BASE}/actions/variables", {"name": "A", "value": "b"})[0] == 409
    assert send(github, "PATCH", f"{BASE}/actions/variables/A", {"value": "c"}) == (204, None)
    assert send(github, "GET", f"{BASE}/actions/variables/A")[1]["value"] == "c"
    code, created = send(github, "POST", f"{BASE}/rulesets", GOOD_RULESET)
    assert code == 201
    assert created["source_type"] == "Repository"
    checks = created["rules"][0]["parameters"]
    assert checks["do_not_enforce_on_create"] is False  # a default GitHub fills in
    assert send(github, "POST", f"{BASE}/rulesets", GOOD_RULESET)[0] == 422  # the name is taken
    listed = send(github, "GET", f"{BASE}/rulesets")[1]
    assert [r["name"] for r in listed] == ["main"]
    assert "rules" not in listed[0]  # the list holds summaries; GET /rulesets/{id} the rules


def test_outputs_from_the_bootstrap_round_trip(outputs_file: Path) -> None:
    parsed = fork.BootstrapOutputs.parse(outputs_file.read_text(), "f")
    assert parsed.accounts() == {ACCOUNT}
    assert parsed.backend_region == REGION
    assert parsed.apply_role_arns == bootstrap_outputs()["apply_role_arns"]["value"]  # type: ignore[index]
