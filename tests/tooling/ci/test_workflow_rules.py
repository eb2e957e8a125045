"""Rules every GitHub workflow in this repository must follow (see docs/gitops.md).

* every `uses:` is a local `./` action or workflow, or `owner/repo@<40-hex commit>` with a
  version comment;
* top-level permissions are set and minimal, each job widens only what it needs;
* `id-token: write` only on jobs that assume an AWS role, and roles come from variables;
* a job that may write to GitHub holds no cloud credentials and runs no Terraform;
* `run:` blocks contain no `${{ }}` expressions (values come in through `env:`), and the token
  is only handed to the steps that use it, never to a whole job or workflow;
* no `pull_request_target`, no secrets besides the automatic token;
* jobs that touch Terraform state have a concurrency group; nothing in an apply's group cancels;
* every job of a workflow that runs on `main` (deploy, drift) and reads or writes an
  environment's state waits in that environment's one group, `terraform-<environment>`, with
  `cancel-in-progress: false`, matrix jobs included: no plan, apply or drift check of one run
  interleaves with another's apply;
* applies only ever apply a saved, reviewed plan file inside a GitHub environment, and re-plan
  (`--replan`: apply only if the changes are the reviewed ones) or apply a plan saved in the
  same run attempt, so that a plan made before another run's apply is never applied;
* every artifact upload can be repeated by a re-run (`overwrite: true`, or a name with
  `github.run_attempt`), and what an apply downloads outlives the longest approval wait;
* Terraform's version is pinned in one place, `.terraform-version`.

Reusable workflows (`on: workflow_call`, only called from this repository) are checked where
they run: their jobs once per call, with the caller's inputs in place of `${{ inputs.* }}`, so
that "inside the prod environment" or "the dev plan's artifact" are checked values, not
templates. A call grants exactly the permissions its jobs ask for, passes only declared inputs
of the declared types and inherits no secrets. The same checks run on a planted caller and
reusable workflow, first as written (they pass) and then with one rule broken at a time (each
must fail): the rules can still fail.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
WORKFLOW_DIR = REPO_ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.y*ml"))
ACTIONS = sorted((REPO_ROOT / ".github" / "actions").glob("*/action.y*ml"))
ALL_FILES = WORKFLOWS + ACTIONS

AWS_CREDENTIALS = "aws-actions/configure-aws-credentials"
PINNED = re.compile(
    r"^(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(?:/[^@\s]+)?@(?P<sha>[0-9a-f]{40})$"
)
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<value>[^\s#]+)(?P<rest>.*)$")
VERSION_COMMENT = re.compile(r"^\s+#\s+v\d+(?:\.\d+){0,2}\s*$")
VARS_EXPRESSION = re.compile(r"^\$\{\{\s*vars\.[A-Z0-9_]+\s*\}\}$")
INPUT_EXPRESSION = re.compile(r"\$\{\{\s*inputs\.(?P<name>[A-Za-z0-9_-]+)\s*\}\}")
MATRIX_EXPRESSION = re.compile(r"\$\{\{\s*matrix\.(?P<name>[A-Za-z0-9_-]+)\s*\}\}")
PLAN_DIGEST = re.compile(r"^\$\{\{\s*needs\.(?P<job>[A-Za-z0-9_-]+)\.outputs\.plan_sha256\s*\}\}$")
STATE_COMMAND = re.compile(r"scripts\.ci\.terraform_env\s+(plan|apply)|\bterraform\s+(plan|apply)")
PLAN_COMMAND = re.compile(r"scripts\.ci\.terraform_env\s+plan\b")
APPLY_COMMAND = re.compile(r"scripts\.ci\.terraform_env\s+apply\b")
ALLOWED_TOP_LEVEL: tuple[dict[str, str], ...] = ({}, {"contents": "read"})
GITHUB_TOKEN = re.compile(r"github\.token|secrets\.GITHUB_TOKEN")
LOCAL_WORKFLOW = "./.github/workflows/"
PERMISSION_LEVELS = {"none": 0, "read": 1, "write": 2}
INPUT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "number": (int, float),
}


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


def is_reusable(workflow: dict[Any, Any]) -> bool:
    return "workflow_call" in triggers(workflow)


def declared_inputs(workflow: dict[Any, Any]) -> dict[str, dict[str, Any]]:
    return dict((triggers(workflow).get("workflow_call") or {}).get("inputs") or {})


def jobs(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from load(path)["jobs"].items()


def is_call(job: dict[str, Any]) -> bool:
    """A job that runs a reusable workflow instead of steps."""
    return "uses" in job


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def needs(job: dict[str, Any]) -> set[str]:
    value = job.get("needs", [])
    return {value} if isinstance(value, str) else set(value)


def assumes_aws_role(job: dict[str, Any]) -> bool:
    return any(str(step.get("uses", "")).startswith(AWS_CREDENTIALS + "@") for step in steps(job))


def runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in steps(job))


def touches_state(job: dict[str, Any]) -> bool:
    return assumes_aws_role(job) or bool(STATE_COMMAND.search(runs(job)))


def applies(job: dict[str, Any]) -> bool:
    return bool(APPLY_COMMAND.search(runs(job)))


def artifacts(job: dict[str, Any], action: str) -> list[str]:
    """Names of the artifacts a job uploads or downloads (action: upload / download)."""
    return [
        str((step.get("with") or {}).get("name", ""))
        for step in steps(job)
        if str(step.get("uses", "")).startswith(f"actions/{action}-artifact@")
    ]


def environment_name(job: dict[str, Any]) -> Any:
    environment = job.get("environment")
    return environment.get("name") if isinstance(environment, dict) else environment


def concurrency_group(job: dict[str, Any]) -> str | None:
    concurrency = job.get("concurrency")
    if isinstance(concurrency, dict):
        return str(concurrency.get("group") or "") or None
    return str(concurrency) if concurrency else None


def substitute(value: Any, inputs: dict[str, Any]) -> Any:
    """`value` with every `${{ inputs.NAME }}` replaced by the input's value (as GitHub renders it)."""
    if isinstance(value, str):

        def render(found: re.Match[str]) -> str:
            name = found.group("name")
            if name not in inputs:
                return found.group(0)
            given = inputs[name]
            return json.dumps(given) if isinstance(given, bool) else str(given)

        return INPUT_EXPRESSION.sub(render, value)
    if isinstance(value, dict):
        return {key: substitute(item, inputs) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, inputs) for item in value]
    return value


def matrix_variants(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The job once per combination of its matrix's list axes, `${{ matrix.* }}` rendered."""
    matrix = (body.get("strategy") or {}).get("matrix") or {}
    combinations: list[dict[str, Any]] = [{}]
    if isinstance(matrix, dict):
        for axis, values in matrix.items():
            if isinstance(values, list):
                combinations = [{**c, axis: value} for c in combinations for value in values]

    def render(value: Any, combination: dict[str, Any]) -> Any:
        if isinstance(value, str):
            return MATRIX_EXPRESSION.sub(
                lambda found: str(combination.get(found.group("name"), found.group(0))), value
            )
        if isinstance(value, dict):
            return {key: render(item, combination) for key, item in value.items()}
        if isinstance(value, list):
            return [render(item, combination) for item in value]
        return value

    return [render(body, combination) for combination in combinations]


def runs_on_main(path: Path) -> bool:
    """A workflow that deploys or checks the environments from main (not a pull request's)."""
    return "pull_request" not in triggers(load(path))


@dataclass(frozen=True)
class Job:
    """A job as it runs: a reusable workflow's job once per call, with the caller's inputs."""

    workflow: str  # the workflow file that runs it (the caller's, for a called job)
    call: str | None  # the calling job, for a job of a reusable workflow
    defined_in: str  # the file that defines it
    name: str
    body: dict[str, Any]
    siblings: dict[str, dict[str, Any]]  # the jobs it can `needs:`, inputs substituted alike

    @property
    def node(self) -> str:
        """Its name in the run's job graph (`call/job` for a called job)."""
        return f"{self.call}/{self.name}" if self.call else self.name

    @property
    def where(self) -> str:
        if self.call:
            return f"{self.workflow}:{self.call}/{self.defined_in}:{self.name}"
        return f"{self.workflow}:{self.name}"


@dataclass(frozen=True)
class Call:
    """A job that calls a reusable workflow, and that workflow (empty when it cannot be read)."""

    workflow: str
    name: str
    body: dict[str, Any]
    callee_path: Path | None
    callee: dict[Any, Any]

    @property
    def where(self) -> str:
        return f"{self.workflow}:{self.name}"


def call_inputs(call: dict[str, Any], callee: dict[Any, Any]) -> dict[str, Any]:
    values = {
        name: spec["default"] for name, spec in declared_inputs(callee).items() if "default" in spec
    }
    values.update(call.get("with") or {})
    return values


def collect(paths: Iterable[Path], root: Path = REPO_ROOT) -> tuple[list[Job], list[Call]]:
    """Every job as it runs, and every call of a reusable workflow, in the given workflows."""
    found_jobs: list[Job] = []
    found_calls: list[Call] = []
    for path in paths:
        workflow = load(path)
        if is_reusable(workflow):
            continue  # its jobs are taken where it is called
        own = dict(workflow["jobs"])
        for name, body in own.items():
            if not is_call(body):
                found_jobs.append(Job(path.name, None, path.name, name, body, own))
                continue
            uses = str(body["uses"])
            target = root / uses if uses.startswith(LOCAL_WORKFLOW) else None
            callee = load(target) if target is not None and target.is_file() else {}
            found_calls.append(Call(path.name, name, body, target, callee))
            inputs = call_inputs(body, callee) if callee else {}
            called = {
                inner: substitute(job, inputs) for inner, job in (callee.get("jobs") or {}).items()
            }
            for inner, job in called.items():
                assert target is not None
                found_jobs.append(Job(path.name, name, target.name, inner, job, called))
    return found_jobs, found_calls


ALL_JOBS, ALL_CALLS = collect(WORKFLOWS)
REUSABLE = [path for path in WORKFLOWS if is_reusable(load(path))]


def job_id(job: Job) -> str:
    return job.where


def call_id(call: Call) -> str:
    return call.where


def file_id(path: Path) -> str:
    return path.name


# --- the rules, as checks that raise AssertionError ---------------------------------------------


def check_pins(path: Path, root: Path = REPO_ROOT) -> None:
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
            target = root / value
            assert (target / "action.yml").is_file() or target.is_file(), f"{where}: not found"
            continue
        assert not value.startswith("docker://"), f"{where}: docker images are not allowed"
        assert PINNED.match(value), f"{where}: pin owner/repo@<40-hex commit SHA>"
        assert VERSION_COMMENT.match(rest), f"{where}: add the version as '# vX.Y.Z'"
    # Every `uses:` the YAML parser sees was checked line by line (no exotic formatting).
    assert sorted(line_uses) == parsed_uses


def check_top_level_permissions(path: Path) -> None:
    workflow = load(path)
    assert "permissions" in workflow, f"{path.name}: set top-level permissions: {{}}"
    assert workflow["permissions"] in ALLOWED_TOP_LEVEL, f"{path.name}: top-level permissions"


def check_run_blocks(path: Path) -> None:
    data = load(path)
    job_list = data.get("jobs", {}).values() if "jobs" in data else [data.get("runs", {})]
    for job in job_list:
        for step in steps(job):
            script = str(step.get("run", ""))
            assert "${{" not in script, (
                f"{path.name}: step {step.get('name')!r} expands an expression into its script; "
                "pass the value through env: and quote the variable"
            )


def check_token_only_in_steps(path: Path) -> None:
    workflow = load(path)
    assert not GITHUB_TOKEN.search(str(workflow.get("env", ""))), f"{path.name}: top-level env"
    for name, job in jobs(path):
        assert not GITHUB_TOKEN.search(str(job.get("env", ""))), f"{path.name}:{name}: job env"


def check_checkout_does_not_persist_the_token(path: Path) -> None:
    data = load(path)
    job_list = data.get("jobs", {}).values() if "jobs" in data else [data.get("runs", {})]
    for job in job_list:
        for step in steps(job):
            if str(step.get("uses", "")).startswith("actions/checkout@"):
                assert (step.get("with") or {}).get("persist-credentials") is False, (
                    f"{path.name}: checkout with persist-credentials: false"
                )


def check_reusable_workflow(path: Path, callers: Iterable[Call]) -> None:
    workflow = load(path)
    # Its jobs are checked at each call; run on its own they would be checked nowhere.
    assert set(triggers(workflow)) == {"workflow_call"}, (
        f"{path.name}: a reusable workflow is only called (on: workflow_call and nothing else)"
    )
    assert not any(is_call(job) for _, job in jobs(path)), (
        f"{path.name}: a reusable workflow calls no other (its jobs would go unchecked)"
    )
    assert any(call.callee_path == path for call in callers), f"{path.name}: called from nowhere"


def check_job_permissions(job: Job) -> None:
    permissions = job.body.get("permissions")
    assert isinstance(permissions, dict), f"{job.where}: declare job permissions"
    assert permissions.get("contents") in (None, "read"), f"{job.where}: contents"
    allowed_writes = {"id-token", "pull-requests"}
    writes = {scope for scope, level in permissions.items() if level == "write"}
    assert writes <= allowed_writes, f"{job.where}: unexpected write scopes {writes}"


def check_id_token(job: Job) -> None:
    wants_token = (job.body.get("permissions") or {}).get("id-token") == "write"
    assert wants_token == assumes_aws_role(job.body), (
        f"{job.where}: id-token: write must go with (and only with) {AWS_CREDENTIALS}"
    )


def check_github_writers_hold_no_credentials(job: Job) -> None:
    permissions = job.body.get("permissions") or {}
    writes = {s for s, level in permissions.items() if level == "write" and s != "id-token"}
    if not writes:
        return
    # Terraform runs third-party providers; they must not find a token that writes to GitHub.
    assert permissions.get("id-token") != "write", f"{job.where}: split the job"
    assert not touches_state(job.body), f"{job.where}: no Terraform next to {writes}"


def check_roles_come_from_variables(job: Job) -> None:
    for step in steps(job.body):
        if str(step.get("uses", "")).startswith(AWS_CREDENTIALS + "@"):
            settings = step.get("with") or {}
            assert VARS_EXPRESSION.match(str(settings.get("role-to-assume", ""))), (
                f"{job.where}: role-to-assume must be a ${{{{ vars.* }}}} expression"
            )
            assert VARS_EXPRESSION.match(str(settings.get("aws-region", ""))), (
                f"{job.where}: aws-region must be a ${{{{ vars.* }}}} expression"
            )
            assert not {"aws-access-key-id", "aws-secret-access-key"} & set(settings)


def check_timeout(job: Job) -> None:
    assert isinstance(job.body.get("timeout-minutes"), int), f"{job.where}: timeout-minutes"


# An environment approval waits up to 30 days; a plan kept no longer than that could expire
# under a pending approval, or under a re-run of its apply.
APPROVAL_WAIT_DAYS = 30


def check_uploads_can_be_repeated(path: Path) -> None:
    for name, job in jobs(path):
        for step in steps(job):
            if not str(step.get("uses", "")).startswith("actions/upload-artifact@"):
                continue
            settings = step.get("with") or {}
            assert settings.get("overwrite") is True or "github.run_attempt" in str(
                settings.get("name", "")
            ), (
                f"{path.name}:{name}: a re-run uploads {settings.get('name')!r} again: "
                "overwrite: true (or name it with github.run_attempt)"
            )


def check_applies_outlive_the_approval(all_jobs: list[Job]) -> None:
    """Every artifact an apply downloads is kept longer than an approval may wait."""
    for job in all_jobs:
        if not applies(job.body):
            continue
        wanted = set(artifacts(job.body, "download"))
        for other in all_jobs:
            if other.workflow != job.workflow:
                continue
            for step in steps(other.body):
                settings = step.get("with") or {}
                if not str(step.get("uses", "")).startswith("actions/upload-artifact@"):
                    continue
                if settings.get("name") not in wanted:
                    continue
                days = settings.get("retention-days")
                assert isinstance(days, int), f"{other.where}: set retention-days"
                assert days > APPROVAL_WAIT_DAYS, (
                    f"{other.where}: {settings.get('name')} is kept {days} days; {job.where} "
                    f"may wait {APPROVAL_WAIT_DAYS} days for approval: keep it longer"
                )


def check_state_concurrency(job: Job) -> None:
    if not touches_state(job.body):
        return
    concurrency = job.body.get("concurrency")
    assert isinstance(concurrency, dict), f"{job.where}: needs a job concurrency group"
    assert concurrency.get("group"), f"{job.where}: concurrency group"
    if applies(job.body):
        assert concurrency.get("cancel-in-progress") is False, (
            f"{job.where}: an apply must never be cancelled half-way"
        )


def check_apply_uses_the_saved_reviewed_plan(job: Job) -> None:
    text = runs(job.body)
    assert not re.search(r"\bterraform\s+apply\b", text), (
        f"{job.where}: apply through scripts.ci.terraform_env, which only applies plan files"
    )
    assert "-auto-approve" not in text, f"{job.where}: -auto-approve"
    if not applies(job.body):
        return
    env_name = environment_name(job.body)
    assert env_name in ("dev", "prod"), f"{job.where}: apply inside a GitHub environment"
    group = concurrency_group(job.body)
    assert group is not None, f"{job.where}: needs a job concurrency group"
    assert env_name in group, f"{job.where}: the concurrency group names the environment"
    downloaded = [name for name in artifacts(job.body, "download") if f"tfplan-{env_name}" in name]
    this_attempt = bool(downloaded) and all("github.run_attempt" in name for name in downloaded)
    for command in APPLY_COMMAND.finditer(text):
        line = text[command.start() :].split("\n\n")[0]
        assert "--plan " in line, f"{job.where}: apply needs --plan <saved plan file>"
        assert "--expect-sha256" in line, f"{job.where}: check the plan file's digest"
        # A saved plan from an earlier attempt (or made before another run's apply took the
        # group) is stale: re-plan and compare, or apply only this attempt's plan.
        assert "--replan" in line or this_attempt, (
            f"{job.where}: apply --replan, or only a plan saved in this run attempt "
            "(artifact named with github.run_attempt)"
        )
    assert downloaded, f"{job.where}: download the saved plan tfplan-{env_name}"
    # The digest comes from the job that made and saved this environment's plan, under the
    # same concurrency group: no other apply can move the state in between unnoticed.
    digests = [str((step.get("env") or {}).get("PLAN_SHA256", "")) for step in steps(job.body)]
    planners = {found.group("job") for d in digests if (found := PLAN_DIGEST.match(d.strip()))}
    assert len(planners) == 1, f"{job.where}: PLAN_SHA256 from needs.<plan job>.outputs"
    planner = planners.pop()
    assert planner in needs(job.body), f"{job.where}: needs the plan job {planner}"
    plan = job.siblings.get(planner, {})
    assert PLAN_COMMAND.search(runs(plan)), f"{job.where}: {planner} makes no plan"
    assert set(downloaded) <= set(artifacts(plan, "upload")), (
        f"{job.where}: {planner} saves no {downloaded}"
    )
    assert "plan_sha256" in str((plan.get("outputs") or {}).get("plan_sha256", "")), (
        f"{job.where}: {planner} publishes no plan_sha256"
    )
    assert concurrency_group(plan) == group, f"{job.where}: plan and apply share {group}"


def check_nothing_cancels_an_apply(all_jobs: list[Job]) -> None:
    # cancel-in-progress is the newcomer's choice: a plan that may cancel would cancel the
    # apply running in its group.
    groups = {concurrency_group(job.body) for job in all_jobs if applies(job.body)}
    for job in all_jobs:
        if concurrency_group(job.body) in groups:
            concurrency = job.body["concurrency"]
            assert concurrency.get("cancel-in-progress") is False, (
                f"{job.where}: shares an apply's concurrency group, so it must never cancel"
            )


def check_environment_state_is_serialized(all_jobs: list[Job], on_main: set[str]) -> None:
    """Every job of a main-branch workflow (deploy, drift) that reads or writes an environment's
    state waits in `terraform-<environment>` and never cancels: a drift check or a later run's
    plan cannot read or plan against a state that an apply is changing, and GitHub's one
    pending job per group is replaced, never a running one cancelled."""
    for job in all_jobs:
        if job.workflow not in on_main:
            continue
        for variant in matrix_variants(job.body):
            if not touches_state(variant):
                continue
            environment = str((variant.get("env") or {}).get("ENVIRONMENT", ""))
            assert environment in ("dev", "prod"), (
                f"{job.where}: name the environment it touches in env.ENVIRONMENT (dev or prod)"
            )
            group = concurrency_group(variant)
            assert group == f"terraform-{environment}", (
                f"{job.where}: reads or writes {environment}'s state, so it waits in "
                f"terraform-{environment} (not {group})"
            )
            assert variant["concurrency"].get("cancel-in-progress") is False, (
                f"{job.where}: shares terraform-{environment}, so it must never cancel"
            )


def check_call(call: Call, all_jobs: list[Job]) -> None:
    uses = str(call.body["uses"])
    assert uses.startswith(LOCAL_WORKFLOW), (
        f"{call.where}: call a reusable workflow of this repository (its jobs are checked here)"
    )
    assert call.callee, f"{call.where}: {uses} not found"
    assert is_reusable(call.callee), f"{call.where}: {uses} has no on: workflow_call"
    assert call.body.get("secrets") != "inherit", (
        f"{call.where}: no secrets: inherit; pass the secrets a workflow needs by name"
    )
    declared = declared_inputs(call.callee)
    passed = dict(call.body.get("with") or {})
    assert set(passed) <= set(declared), (
        f"{call.where}: undeclared inputs {set(passed) - set(declared)}"
    )
    missing = {
        name for name, spec in declared.items() if spec.get("required") and name not in passed
    }
    assert not missing, f"{call.where}: required inputs missing: {missing}"
    for name, value in passed.items():
        if isinstance(value, str) and value.lstrip().startswith("${{"):
            continue  # typed when it is evaluated
        kind = str(declared[name].get("type"))
        assert kind in INPUT_TYPES, f"{call.where}: input {name} has no type"
        ok = isinstance(value, INPUT_TYPES[kind]) and not (
            kind != "boolean" and isinstance(value, bool)
        )
        assert ok, f"{call.where}: input {name} must be a {kind}, got {value!r}"

    called = [job for job in all_jobs if job.workflow == call.workflow and job.call == call.name]
    # The call sets the ceiling for the token of the jobs it runs: exactly what they ask for,
    # so that id-token: write reaches this workflow only where a called job assumes a role.
    granted = call.body.get("permissions")
    assert isinstance(granted, dict), f"{call.where}: declare the permissions the called jobs need"
    needed: dict[str, str] = {}
    for job in called:
        for scope, level in (job.body.get("permissions") or {}).items():
            if PERMISSION_LEVELS[level] > PERMISSION_LEVELS[needed.get(scope, "none")]:
                needed[scope] = level
    granted_levels = {scope: level for scope, level in granted.items() if level != "none"}
    assert granted_levels == needed, (
        f"{call.where}: grant exactly the called jobs' permissions {needed}, not {granted_levels}"
    )
    # A call waiting in the group that one of its own jobs needs would wait on itself.
    own = concurrency_group(call.body)
    assert own is None or own not in {concurrency_group(job.body) for job in called}, (
        f"{call.where}: concurrency group {own} belongs to the called jobs"
    )


JOB_CHECKS: tuple[Callable[[Job], None], ...] = (
    check_job_permissions,
    check_id_token,
    check_github_writers_hold_no_credentials,
    check_roles_come_from_variables,
    check_timeout,
    check_state_concurrency,
    check_apply_uses_the_saved_reviewed_plan,
)
FILE_CHECKS: tuple[Callable[[Path], None], ...] = (
    check_top_level_permissions,
    check_run_blocks,
    check_token_only_in_steps,
    check_checkout_does_not_persist_the_token,
    check_uploads_can_be_repeated,
)


# --- the rules on this repository's workflows ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "ok"),
    [
        ("      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2", True),
        ("  uses: hashicorp/setup-terraform@b9cd54a3c349d3f38e8881555d616ced269862dd # v3", True),
        (
            "    uses: octo/pipelines/.github/workflows/x.yml@11bd71901bbe5b1630ceea73d27597364c9af683 # v1.0.0",
            True,
        ),
        ("      - uses: actions/checkout@v4", False),
        ("      - uses: actions/checkout@11bd719 # v4.2.2", False),
        ("      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683", False),
        ("      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # latest", False),
        ("      - uses: actions/checkout@main # v4.2.2", False),
        ("    uses: octo/pipelines/.github/workflows/x.yml@main # v1.0.0", False),
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
    assert REUSABLE, "deploy.yml runs each environment through a reusable workflow"
    assert ALL_CALLS


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path) -> None:
    check_pins(path)


def test_one_action_is_pinned_to_one_commit_everywhere() -> None:
    pins: dict[str, set[str]] = {}
    for path in ALL_FILES:
        for line in path.read_text(encoding="utf-8").splitlines():
            found = USES_LINE.match(line)
            if found and not found.group("value").startswith("./"):
                value = found.group("value") + found.group("rest").strip()
                pins.setdefault(value.split("@")[0], set()).add(value)
    assert {action: pin for action, pin in pins.items() if len(pin) > 1} == {}


@pytest.mark.parametrize("path", WORKFLOWS, ids=file_id)
def test_top_level_permissions_are_minimal(path: Path) -> None:
    check_top_level_permissions(path)


@pytest.mark.parametrize("path", REUSABLE, ids=file_id)
def test_reusable_workflows_are_only_called_from_here(path: Path) -> None:
    check_reusable_workflow(path, ALL_CALLS)


@pytest.mark.parametrize(
    ("check", "job"),
    [(check, job) for check in JOB_CHECKS for job in ALL_JOBS],
    ids=[f"{check.__name__}:{job_id(job)}" for check in JOB_CHECKS for job in ALL_JOBS],
)
def test_every_job_follows_each_job_rule(check: Callable[[Job], None], job: Job) -> None:
    """JOB_CHECKS: narrow permissions, id-token only with a role, no credentials where GitHub is
    written, roles from variables, timeouts, a concurrency group on state, reviewed plans."""
    check(job)


@pytest.mark.parametrize("call", ALL_CALLS, ids=call_id)
def test_calls_grant_exactly_what_the_called_jobs_need_and_pass_declared_inputs(call: Call) -> None:
    check_call(call, ALL_JOBS)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_run_blocks_take_values_from_env_not_expressions(path: Path) -> None:
    check_run_blocks(path)


@pytest.mark.parametrize("path", WORKFLOWS, ids=file_id)
def test_the_token_goes_only_to_the_steps_that_use_it(path: Path) -> None:
    check_token_only_in_steps(path)


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_no_secrets_in_workflows(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    used = set(re.findall(r"secrets\.([A-Za-z0-9_]+)", text))
    assert used <= {"GITHUB_TOKEN"}, f"{path.name}: secrets {used}; use OIDC and variables"
    assert not re.search(r"arn:aws:iam::\d{12}", text), f"{path.name}: hard-coded role ARN"


@pytest.mark.parametrize("path", WORKFLOWS, ids=file_id)
def test_no_pull_request_target(path: Path) -> None:
    assert "pull_request_target" not in triggers(load(path))
    assert "pull_request_target" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_checkout_does_not_persist_the_token(path: Path) -> None:
    check_checkout_does_not_persist_the_token(path)


def test_nothing_cancels_an_apply() -> None:
    check_nothing_cancels_an_apply(ALL_JOBS)


@pytest.mark.parametrize("path", WORKFLOWS, ids=file_id)
def test_a_rerun_can_upload_its_artifacts_again(path: Path) -> None:
    check_uploads_can_be_repeated(path)


def test_what_an_apply_needs_outlives_the_approval() -> None:
    check_applies_outlive_the_approval(ALL_JOBS)


def test_plans_applies_and_drift_checks_of_an_environment_never_interleave() -> None:
    on_main = {path.name for path in WORKFLOWS if runs_on_main(path)}
    assert {"deploy.yml", "drift.yml"} <= on_main
    check_environment_state_is_serialized(ALL_JOBS, on_main)
    groups = {
        concurrency_group(variant)
        for job in ALL_JOBS
        if job.workflow in on_main
        for variant in matrix_variants(job.body)
        if touches_state(variant)
    }
    assert groups == {"terraform-dev", "terraform-prod"}, groups


def test_deploy_goes_dev_then_prod_behind_a_reviewed_environment() -> None:
    path = WORKFLOW_DIR / "deploy.yml"
    assert "push" in triggers(load(path))
    deploy_jobs, deploy_calls = collect([path])
    top_level = dict(load(path)["jobs"])
    members = {
        call.name: {j.node for j in deploy_jobs if j.call == call.name} for call in deploy_calls
    }

    def expand(name: str) -> set[str]:
        return members.get(name, {name})

    def direct(job: Job) -> set[str]:
        found = {f"{job.call}/{n}" if job.call else n for n in needs(job.body)}
        if job.call:  # a called job also waits for everything its call waits for
            found |= {node for n in needs(top_level[job.call]) for node in expand(n)}
        return {node for n in found for node in (expand(n) if "/" not in n else {n})}

    graph = {job.node: direct(job) for job in deploy_jobs}

    def ancestors(node: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph[node])
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return seen

    apply_jobs = [job for job in deploy_jobs if applies(job.body)]
    apply_in = {environment_name(job.body): job for job in apply_jobs}
    assert sorted(apply_in) == ["dev", "prod"], "an apply for dev and one for prod"
    assert len(apply_jobs) == 2, "one apply per environment"
    plan_of = {
        env: [job for job in deploy_jobs if f"tfplan-{env}" in artifacts(job.body, "upload")]
        for env in apply_in
    }
    assert all(len(plans) == 1 for plans in plan_of.values()), plan_of
    dev, prod = apply_in["dev"], apply_in["prod"]
    plan_dev, plan_prod = plan_of["dev"][0], plan_of["prod"][0]

    # The artifact is built once and every later job downloads that one.
    builders = [job.node for job in deploy_jobs if "make package" in runs(job.body)]
    assert builders == ["build"]
    assert {"build", plan_dev.node} <= ancestors(dev.node)
    assert {"build", plan_dev.node, dev.node, plan_prod.node} <= ancestors(prod.node)
    for job in (dev, prod):
        # The smoke test is a job of its own after the apply (re-runnable alone), reading the
        # deployed URL from the apply's output; it holds no credentials and touches no state.
        smokes = [
            other
            for other in deploy_jobs
            if other.call == job.call and "scripts.ci.smoke" in runs(other.body)
        ]
        assert len(smokes) == 1, f"{job.where}: one smoke-test job after the apply"
        smoke = smokes[0]
        assert job.node in ancestors(smoke.node), f"{smoke.where}: needs {job.name}"
        assert not touches_state(smoke.body), f"{smoke.where}: no credentials, no state"
        assert f"needs.{job.name}.outputs.api_endpoint" in str(smoke.body), smoke.where
        assert "api_endpoint" in (job.body.get("outputs") or {}), job.where
    # `!cancelled()` lets a job start after a failed dependency: where the way to prod uses it,
    # the condition itself must require dev's success.
    dev_entry, prod_entry = dev.call or dev.name, prod.call or prod.name
    assert dev_entry in needs(top_level[prod_entry])
    condition = str(top_level[prod_entry].get("if", ""))
    if "cancelled()" in condition or "always()" in condition:
        assert f"needs.{dev_entry}.result == 'success'" in condition, condition


def test_workflow_dispatch_chooses_an_environment_and_drift_is_scheduled() -> None:
    deploy = triggers(load(WORKFLOW_DIR / "deploy.yml"))
    options = deploy["workflow_dispatch"]["inputs"]["environment"]["options"]
    assert options == ["dev", "prod"]
    drift_path = WORKFLOW_DIR / "drift.yml"
    assert "schedule" in triggers(load(drift_path))
    assert "--detailed-exitcode" in drift_path.read_text(encoding="utf-8")


def test_forks_get_a_notice_instead_of_credentials() -> None:
    plan = dict(jobs(WORKFLOW_DIR / "plan.yml"))
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


# --- the same checks on a planted caller and reusable workflow: they can fail -------------------

PLANTED = yaml.safe_load((Path(__file__).parent / "planted_workflows.yaml").read_text("utf-8"))
MUTATIONS: dict[str, dict[str, Any]] = {entry["name"]: entry for entry in PLANTED["mutations"]}


def mutate(caller: dict[str, Any], callee: dict[str, Any], mutation: dict[str, Any]) -> None:
    """Set (or, with ``delete``, remove) the mutation's ``path`` in the caller or the callee."""
    first, *keys = mutation["path"].split(".")
    node: Any = caller if first == "caller" else callee
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    last = keys[-1]
    if mutation.get("delete"):
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = mutation["value"]
    else:
        node[last] = mutation["value"]


def planted_violations(tmp_path: Path, mutation: dict[str, Any] | None = None) -> list[str]:
    """Write the planted pair (optionally broken), run every check, return the failures."""
    caller, callee = copy.deepcopy(PLANTED["caller"]), copy.deepcopy(PLANTED["callee"])
    if mutation is not None:
        mutate(caller, callee, mutation)
    directory = tmp_path / ".github" / "workflows"
    directory.mkdir(parents=True)
    caller_path, callee_path = directory / "deploy.yml", directory / "_env.yml"
    caller_path.write_text(yaml.safe_dump(caller, sort_keys=False), encoding="utf-8")
    callee_path.write_text(yaml.safe_dump(callee, sort_keys=False), encoding="utf-8")
    paths = [callee_path, caller_path]
    found_jobs, found_calls = collect(paths, root=tmp_path)
    checks: list[Callable[[], None]] = [
        *(partial(check, path) for check in FILE_CHECKS for path in paths),
        partial(check_reusable_workflow, callee_path, found_calls),
        *(partial(check, job) for check in JOB_CHECKS for job in found_jobs),
        *(partial(check_call, call, found_jobs) for call in found_calls),
        partial(check_nothing_cancels_an_apply, found_jobs),
        partial(check_environment_state_is_serialized, found_jobs, {caller_path.name}),
        partial(check_applies_outlive_the_approval, found_jobs),
    ]
    failures: list[str] = []
    for check in checks:
        try:
            check()
        except AssertionError as error:
            failures.append(str(error))
    return failures


def test_the_planted_pair_passes_as_written(tmp_path: Path) -> None:
    assert planted_violations(tmp_path) == []


@pytest.mark.parametrize("broken", sorted(MUTATIONS))
def test_each_rule_fails_on_a_planted_violation(tmp_path: Path, broken: str) -> None:
    mutation = MUTATIONS[broken]
    failures = planted_violations(tmp_path, mutation)
    assert any(mutation["expect"] in failure for failure in failures), failures
