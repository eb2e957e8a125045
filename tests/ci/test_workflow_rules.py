"""Rules every GitHub workflow in this repository must follow (see docs/gitops.md).

* every `uses:` is a local `./` action or `owner/repo@<40-hex commit>` with a version comment;
* top-level permissions are set and minimal, each job widens only what it needs;
* `id-token: write` only on jobs that assume an AWS role, and roles come from variables;
* a job that may write to GitHub holds no cloud credentials and runs no Terraform;
* `run:` blocks contain no `${{ }}` expressions (values come in through `env:`), and the token
  is only handed to the steps that use it, never to a whole job or workflow;
* no `pull_request_target`, no secrets besides the automatic token;
* jobs that touch Terraform state have a concurrency group; applying ones never cancel;
* applies only ever apply a saved, reviewed plan file inside a GitHub environment;
* Terraform's version is pinned in one place, `.terraform-version`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
ACTIONS = sorted((REPO_ROOT / ".github" / "actions").glob("*/action.y*ml"))
ALL_FILES = WORKFLOWS + ACTIONS

AWS_CREDENTIALS = "aws-actions/configure-aws-credentials"
PINNED = re.compile(
    r"^(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(?:/[^@\s]+)?@(?P<sha>[0-9a-f]{40})$"
)
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<value>[^\s#]+)(?P<rest>.*)$")
VERSION_COMMENT = re.compile(r"^\s+#\s+v\d+(?:\.\d+){0,2}\s*$")
VARS_EXPRESSION = re.compile(r"^\$\{\{\s*vars\.[A-Z0-9_]+\s*\}\}$")
STATE_COMMAND = re.compile(r"scripts\.ci\.terraform_env\s+(plan|apply)|\bterraform\s+(plan|apply)")
APPLY_COMMAND = re.compile(r"scripts\.ci\.terraform_env\s+apply\b")
ALLOWED_TOP_LEVEL: tuple[dict[str, str], ...] = ({}, {"contents": "read"})
GITHUB_TOKEN = re.compile(r"github\.token|secrets\.GITHUB_TOKEN")


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path} is not a YAML mapping"
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads a bare `on` key as the boolean True.
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return dict.fromkeys(on)
    assert isinstance(on, dict)
    return on


def jobs(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from load(path)["jobs"].items()


def all_jobs() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path in WORKFLOWS:
        for name, job in jobs(path):
            yield path.name, name, job


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def assumes_aws_role(job: dict[str, Any]) -> bool:
    return any(str(step.get("uses", "")).startswith(AWS_CREDENTIALS + "@") for step in steps(job))


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(job))


def touches_state(job: dict[str, Any]) -> bool:
    return assumes_aws_role(job) or bool(STATE_COMMAND.search(runs(job)))


def applies(job: dict[str, Any]) -> bool:
    return bool(APPLY_COMMAND.search(runs(job)))


JOB_IDS = [f"{wf}:{name}" for wf, name, _ in all_jobs()]


@pytest.mark.parametrize(
    ("line", "ok"),
    [
        ("      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", True),
        ("  uses: hashicorp/setup-terraform@b9cd54a3c349d3f38e8881555d616ced269862dd # v3", True),
        ("      - uses: actions/checkout@v4", False),
        ("      - uses: actions/checkout@11bd719 # v4.2.2", False),
        ("      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", False),
        ("      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # latest", False),
        ("      - uses: actions/checkout@main # v4.2.2", False),
    ],
)
def test_the_pin_rule_itself(line: str, ok: bool) -> None:
    found = USES_LINE.match(line)
    assert found
    pinned = bool(PINNED.match(found.group("value"))) and bool(
        VERSION_COMMENT.match(found.group("rest"))
    )
    assert pinned is ok


def test_there_are_workflows_to_check() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", "plan.yml", "deploy.yml", "drift.yml"} <= names


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    parsed_uses = sorted(re.findall(r"'uses': '([^']+)'", repr(load(path))))
    line_uses: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = USES_LINE.match(line)
        if not found:
            continue
        value, rest = found.group("value"), found.group("rest")
        line_uses.append(value)
        where = f"{path.name}:{number}: {line.strip()}"
        if value.startswith("./"):
            target = REPO_ROOT / value
            assert (target / "action.yml").is_file() or target.is_file(), f"{where}: not found"
            continue
        assert not value.startswith("docker://"), f"{where}: docker images are not allowed"
        assert PINNED.match(value), f"{where}: pin owner/repo@<40-hex commit SHA>"
        assert VERSION_COMMENT.match(rest), f"{where}: add the version as '# vX.Y.Z'"
    # Every `uses:` the YAML parser sees was checked line by line (no exotic formatting).
    assert sorted(line_uses) == parsed_uses


def test_one_action_is_pinned_to_one_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in ALL_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            found = USES_LINE.match(line)
            if found and not found.group("value").startswith("./"):
                value = found.group("value") + found.group("rest").strip()
                pins.setdefault(value.split("@")[0], set()).add(value)
    assert {action: pin for action, pin in pins.items() if len(pin) > 1} == {}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_top_level_permissions_are_minimal(path: Path) -> None:
    workflow = load(path)
    assert "permissions" in workflow, f"{path.name}: set top-level permissions: {{}}"
    assert workflow["permissions"] in ALLOWED_TOP_LEVEL


@pytest.mark.parametrize(("workflow", "name", "job"), list(all_jobs()), ids=JOB_IDS)
def test_each_job_declares_its_own_narrow_permissions(
    workflow: str, name: str, job: dict[str, Any]
) -> None:
    permissions = job.get("permissions")
    assert isinstance(permissions, dict), f"{workflow}:{name}: declare job permissions"
    assert permissions.get("contents") in (None, "read"), f"{workflow}:{name}: contents"
    allowed_writes = {"id-token", "pull-requests"}
    writes = {scope for scope, level in permissions.items() if level == "write"}
    assert writes <= allowed_writes, f"{workflow}:{name}: unexpected write scopes {writes}"


@pytest.mark.parametrize(("workflow", "name", "job"), list(all_jobs()), ids=JOB_IDS)
def test_id_token_only_where_an_aws_role_is_assumed(
    workflow: str, name: str, job: dict[str, Any]
) -> None:
    wants_token = (job.get("permissions") or {}).get("id-token") == "write"
    assert wants_token == assumes_aws_role(job), (
        f"{workflow}:{name}: id-token: write must go with (and only with) {AWS_CREDENTIALS}"
    )


@pytest.mark.parametrize(("workflow", "name", "job"), list(all_jobs()), ids=JOB_IDS)
def test_a_job_that_writes_to_github_holds_no_cloud_credentials(
    workflow: str, name: str, job: dict[str, Any]
) -> None:
    permissions = job.get("permissions") or {}
    writes = {s for s, level in permissions.items() if level == "write" and s != "id-token"}
    if not writes:
        return
    # Terraform runs third-party providers; they must not find a token that writes to GitHub.
    assert permissions.get("id-token") != "write", f"{workflow}:{name}: split the job"
    assert not touches_state(job), f"{workflow}:{name}: no Terraform next to {writes}"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_run_blocks_take_values_from_env_not_expressions(path: Path) -> None:
    data = load(path)
    job_list = data.get("jobs", {}).values() if "jobs" in data else [data.get("runs", {})]
    for job in job_list:
        for step in steps(job):
            script = str(step.get("run", ""))
            assert "${{" not in script, (
                f"{path.name}: step {step.get('name')!r} expands an expression into its script; "
                "pass the value through env: and quote the variable"
            )


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_the_token_goes_only_to_the_steps_that_use_it(path: Path) -> None:
    workflow = load(path)
    assert not GITHUB_TOKEN.search(str(workflow.get("env", ""))), f"{path.name}: top-level env"
    for name, job in jobs(path):
        assert not GITHUB_TOKEN.search(str(job.get("env", ""))), f"{path.name}:{name}: job env"


@pytest.mark.parametrize(("workflow", "name", "job"), list(all_jobs()), ids=JOB_IDS)
def test_roles_come_from_variables(workflow: str, name: str, job: dict[str, Any]) -> None:
    for step in steps(job):
        if str(step.get("uses", "")).startswith(AWS_CREDENTIALS + "@"):
            settings = step.get("with") or {}
            assert VARS_EXPRESSION.match(str(settings.get("role-to-assume", ""))), (
                f"{workflow}:{name}: role-to-assume must be a ${{{{ vars.* }}}} expression"
            )
            assert VARS_EXPRESSION.match(str(settings.get("aws-region", "")))
            assert not {"aws-access-key-id", "aws-secret-access-key"} & set(settings)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_no_secrets_in_workflows(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    used = set(re.findall(r"secrets\.([A-Za-z0-9_]+)", text))
    assert used <= {"GITHUB_TOKEN"}, f"{path.name}: secrets {used}; use OIDC and variables"
    assert not re.search(r"arn:aws:iam::\d{12}", text), f"{path.name}: hard-coded role ARN"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_pull_request_target(path: Path) -> None:
    assert "pull_request_target" not in triggers(load(path))
    assert "pull_request_target" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("workflow", "name", "job"), list(all_jobs()), ids=JOB_IDS)
def test_jobs_have_timeouts(workflow: str, name: str, job: dict[str, Any]) -> None:
    assert isinstance(job.get("timeout-minutes"), int), f"{workflow}:{name}: timeout-minutes"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_checkout_does_not_persist_the_token(path: Path) -> None:
    data = load(path)
    job_list = data.get("jobs", {}).values() if "jobs" in data else [data.get("runs", {})]
    for job in job_list:
        for step in steps(job):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert (step.get("with") or {}).get("persist-credentials") is False


@pytest.mark.parametrize(("workflow", "name", "job"), list(all_jobs()), ids=JOB_IDS)
def test_state_touching_jobs_have_a_concurrency_group(
    workflow: str, name: str, job: dict[str, Any]
) -> None:
    if not touches_state(job):
        return
    concurrency = job.get("concurrency")
    assert isinstance(concurrency, dict), f"{workflow}:{name}: needs a job concurrency group"
    assert concurrency.get("group"), f"{workflow}:{name}: concurrency group"
    if applies(job):
        assert concurrency.get("cancel-in-progress") is False, (
            f"{workflow}:{name}: an apply must never be cancelled half-way"
        )


@pytest.mark.parametrize(("workflow", "name", "job"), list(all_jobs()), ids=JOB_IDS)
def test_applies_use_the_saved_reviewed_plan(workflow: str, name: str, job: dict[str, Any]) -> None:
    text = runs(job)
    assert not re.search(r"\bterraform\s+apply\b", text), (
        f"{workflow}:{name}: apply through scripts.ci.terraform_env, which only applies plan files"
    )
    assert "-auto-approve" not in text
    if not applies(job):
        return
    environment = job.get("environment")
    env_name = environment.get("name") if isinstance(environment, dict) else environment
    assert env_name in ("dev", "prod"), f"{workflow}:{name}: apply inside a GitHub environment"
    assert env_name in str(job["concurrency"]["group"])
    for command in APPLY_COMMAND.finditer(text):
        line = text[command.start() :].split("\n\n")[0]
        assert "--plan " in line, f"{workflow}:{name}: apply needs --plan <saved plan file>"
        assert "--expect-sha256" in line, f"{workflow}:{name}: check the plan file's digest"
    downloads = [
        str((step.get("with") or {}).get("name", ""))
        for step in steps(job)
        if str(step.get("uses", "")).startswith("actions/download-artifact@")
    ]
    assert f"tfplan-{env_name}" in downloads, f"{workflow}:{name}: download the saved plan"
    sha_env = " ".join(str((step.get("env") or {}).get("PLAN_SHA256", "")) for step in steps(job))
    assert re.search(r"needs\.plan-[a-z]+\.outputs\.plan_sha256", sha_env)


def test_deploy_goes_dev_then_prod_behind_a_reviewed_environment() -> None:
    deploy = dict(jobs(REPO_ROOT / ".github" / "workflows" / "deploy.yml"))
    assert "push" in triggers(load(REPO_ROOT / ".github" / "workflows" / "deploy.yml"))

    def needs(job: str) -> set[str]:
        value = deploy[job].get("needs", [])
        return {value} if isinstance(value, str) else set(value)

    def ancestors(job: str) -> set[str]:
        seen: set[str] = set()
        todo = list(needs(job))
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(needs(current))
        return seen

    assert {"build", "plan-dev"} <= ancestors("apply-dev")
    assert {"build", "plan-dev", "apply-dev", "plan-prod"} <= ancestors("apply-prod")
    assert deploy["apply-prod"]["environment"]["name"] == "prod"
    assert deploy["apply-dev"]["environment"]["name"] == "dev"
    # The artifact is built once and every later job downloads that one.
    builders = [name for name, job in deploy.items() if "make package" in runs(job)]
    assert builders == ["build"]
    for name in ("apply-dev", "apply-prod"):
        assert "scripts.ci.smoke" in runs(deploy[name]), f"{name}: smoke test after apply"


def test_workflow_dispatch_chooses_an_environment_and_drift_is_scheduled() -> None:
    deploy = triggers(load(REPO_ROOT / ".github" / "workflows" / "deploy.yml"))
    options = deploy["workflow_dispatch"]["inputs"]["environment"]["options"]
    assert options == ["dev", "prod"]
    drift_path = REPO_ROOT / ".github" / "workflows" / "drift.yml"
    assert "schedule" in triggers(load(drift_path))
    assert "--detailed-exitcode" in drift_path.read_text(encoding="utf-8")


def test_forks_get_a_notice_instead_of_credentials() -> None:
    plan = dict(jobs(REPO_ROOT / ".github" / "workflows" / "plan.yml"))
    fork_jobs = [job for job in plan.values() if "!= github.repository" in str(job.get("if"))]
    assert fork_jobs
    assert all(not assumes_aws_role(job) for job in fork_jobs)
    assert any("fork-notice" in runs(job) for job in fork_jobs)
    for job in plan.values():
        if assumes_aws_role(job):
            # Credentialed jobs run only for branches of this repository.
            chain = [job, *(plan[n] for n in [job.get("needs")] if isinstance(n, str))]
            assert any("== github.repository" in str(j.get("if")) for j in chain)


def test_terraform_version_is_pinned_in_one_place() -> None:
    version = (REPO_ROOT / ".terraform-version").read_text(encoding="utf-8")
    assert re.fullmatch(r"\d+\.\d+\.\d+\n?", version)
    for path in ALL_FILES:
        for value in re.findall(r"terraform_version:\s*(\S.*)", path.read_text(encoding="utf-8")):
            assert value.startswith("${{"), f"{path.name}: read .terraform-version instead"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_scripts_called_by_workflows_exist(path: Path) -> None:
    for module in re.findall(r"-m\s+scripts\.ci\.([a-z_]+)", path.read_text(encoding="utf-8")):
        assert (REPO_ROOT / "scripts" / "ci" / f"{module}.py").is_file(), module
