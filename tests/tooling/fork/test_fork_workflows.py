"""What scripts/fork.py sets up is what .github/workflows reads and reports.

The check names, variables and environments are constants in the script (it runs with the
standard library only); these tests hold them to the workflows, so that renaming a job or adding
a variable fails here instead of in a fork's first deploy.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from scripts import fork
from tests.tooling.fork.conftest import REPO_ROOT

WORKFLOW_DIR = REPO_ROOT / ".github" / "workflows"


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((WORKFLOW_DIR / name).read_text())
    assert isinstance(data, dict)
    return data


def triggers(workflow: dict[Any, Any]) -> dict[str, Any]:
    # PyYAML reads the key `on` as the boolean True.
    on = workflow.get("on", workflow.get(True))
    assert isinstance(on, dict)
    return on


def job_names(workflow: dict[Any, Any]) -> list[str]:
    """The check-run names of a workflow's jobs (matrix values substituted into `name`)."""
    names = []
    for key, job in workflow["jobs"].items():
        name = str(job.get("name", key))
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        variables = re.findall(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", name)
        if not variables:
            names.append(name)
            continue
        (variable,) = variables
        names += [
            re.sub(r"\$\{\{\s*matrix\.\w+\s*\}\}", str(value), name) for value in matrix[variable]
        ]
    return names


def test_the_required_checks_are_the_ci_jobs_which_run_on_every_pull_request() -> None:
    ci = load("ci.yml")
    on = triggers(ci)
    assert "pull_request" in on
    assert not (on["pull_request"] or {}).get("paths"), (
        "a required check must run on every pull request"
    )
    assert not (on["pull_request"] or {}).get("paths-ignore")
    assert sorted(job_names(ci)) == sorted(fork.CI_CHECKS)
    assert all("if" not in job for job in ci["jobs"].values())


def test_the_plan_checks_are_opt_in_because_plan_runs_only_for_planned_paths() -> None:
    plan = load("plan.yml")
    assert set(fork.PLAN_CHECKS) <= set(job_names(plan))
    # If plan.yml ever runs on every pull request, its checks can become required by default.
    assert triggers(plan)["pull_request"]["paths"], "plan.yml now runs on every pull request"


def variables_by_job() -> list[tuple[str, bool, set[str]]]:
    """(workflow:job, runs in a GitHub environment, the `vars.` it reads) for every job."""
    found = []
    for path in sorted(WORKFLOW_DIR.glob("*.y*ml")):
        data = yaml.safe_load(path.read_text())
        for key, job in data["jobs"].items():
            text = yaml.safe_dump(job)
            names = set(re.findall(r"\bvars\.([A-Za-z_][A-Za-z0-9_]*)", text))
            found.append((f"{path.name}:{key}", "environment" in job, names))
    return found


def test_every_variable_the_workflows_read_is_set_where_they_read_it() -> None:
    repository, per_environment = set(fork.REPOSITORY_VARIABLES), set(fork.ENVIRONMENT_VARIABLES)
    read: set[str] = set()
    for job, in_environment, names in variables_by_job():
        visible = repository | per_environment if in_environment else repository
        assert names <= visible, (
            f"{job} reads {sorted(names - visible)}, which scripts/fork.py does not set there"
        )
        read |= names
    assert read == repository | per_environment, "scripts/fork.py sets a variable nothing reads"


def test_the_workflows_need_no_secret_from_a_fork() -> None:
    for path in sorted(WORKFLOW_DIR.glob("*.y*ml")):
        secrets = set(re.findall(r"\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)", path.read_text()))
        assert secrets <= {"GITHUB_TOKEN"}, (
            f"{path.name} reads secrets {sorted(secrets)}: add them to scripts/fork.py"
        )


def test_the_environments_are_the_ones_deploy_calls() -> None:
    deploy = load("deploy.yml")
    called = {
        job["with"]["environment"]
        for job in deploy["jobs"].values()
        if "uses" in job and "with" in job
    }
    assert called == set(fork.ENVIRONMENTS)
    assert fork.REVIEWED_ENVIRONMENT in called
    pushes = triggers(deploy)["push"]["branches"]
    assert pushes == [fork.DEPLOY_BRANCH]


def test_every_workflow_is_one_the_script_enables() -> None:
    files = sorted(p.name for p in Path(WORKFLOW_DIR).glob("*.y*ml"))
    assert "drift.yml" in files
    assert "schedule" in triggers(load("drift.yml"))
