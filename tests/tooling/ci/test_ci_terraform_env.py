"""Environment selection and the plan/apply rules of scripts/ci/terraform_env.py."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from scripts.ci import terraform_env
from scripts.ci.terraform_env import UnknownEnvironmentError, main, resolve
from tests.tooling.ci.fakes import FakeTerraform


def outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_resolve_maps_an_environment_to_its_files(name: str) -> None:
    env = resolve(name)
    assert env.directory == Path("environments") / name
    assert env.backend_config == f"{name}.s3.tfbackend"
    assert env.var_file == "terraform.tfvars"
    assert f"-backend-config={name}.s3.tfbackend" in env.init_args()
    # terraform.tfvars is loaded by Terraform itself: no duplicate -var-file.
    assert env.var_file_args() == []


@pytest.mark.parametrize("name", ["staging", "", "Dev", "../prod", "bootstrap", "dev "])
def test_unknown_environments_are_rejected(name: str) -> None:
    with pytest.raises(UnknownEnvironmentError):
        resolve(name)


def test_cli_rejects_an_unknown_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resolve", "qa"]) == 2
    assert "unknown environment 'qa'" in capsys.readouterr().err


def test_the_committed_environments_match_the_known_ones() -> None:
    assert main(["list"]) == 0
    assert terraform_env.ENVIRONMENTS == ("dev", "prod")


def test_resolve_writes_github_outputs(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    assert main(["--root", str(repo), "resolve", "prod", "--check"]) == 0
    assert outputs(out) == {
        "environment": "prod",
        "directory": "environments/prod",
        "backend_config": "prod.s3.tfbackend",
        "var_file": "terraform.tfvars",
    }


def test_resolve_check_reports_missing_files(repo: Path) -> None:
    (repo / "environments" / "dev" / "dev.s3.tfbackend").unlink()
    assert main(["--root", str(repo), "resolve", "dev", "--check"]) == 1
    assert resolve("dev").missing_files(repo) == [
        repo / "environments" / "dev" / "dev.s3.tfbackend"
    ]


def test_plan_inits_with_the_backend_file_and_saves_the_plan(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh_out = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(gh_out))
    plan, text = tmp_path / "out" / "tfplan", tmp_path / "out" / "plan.txt"
    args = ["--root", str(repo), "plan", "dev", "--out", str(plan), "--text", str(text)]
    code = main([*args, "--lock=false"])
    assert code == 0
    init, planned, show = fake_terraform.commands()
    assert init == ["init", "-input=false", "-no-color", "-backend-config=dev.s3.tfbackend"]
    assert planned[0] == "plan"
    assert f"-out={plan}" in planned
    assert "-detailed-exitcode" in planned
    assert "-lock=false" in planned
    assert show == ["show", "-no-color", str(plan)]
    assert all(Path(str(c["cwd"])) == repo / "environments" / "dev" for c in fake_terraform.calls())
    assert text.read_text().startswith("Plan: 1 to add")
    assert outputs(gh_out) == {
        "has_changes": "true",
        "plan_sha256": hashlib.sha256(plan.read_bytes()).hexdigest(),
    }


def test_plan_without_changes(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    gh_out = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(gh_out))
    monkeypatch.setenv("FAKE_TF_PLAN_EXIT", "0")
    args = ["--root", str(repo), "plan", "prod", "--out", str(tmp_path / "p")]
    assert main([*args, "--detailed-exitcode"]) == 0
    assert outputs(gh_out)["has_changes"] == "false"
    assert "-lock=false" not in fake_terraform.commands()[1]


def test_detailed_exitcode_fails_on_drift(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform
) -> None:
    args = ["--root", str(repo), "plan", "prod", "--out", str(tmp_path / "p")]
    assert main([*args, "--detailed-exitcode"]) == 2
    assert main(args) == 0


def test_a_failed_plan_keeps_the_error_text(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_PLAN_EXIT", "1")
    text = tmp_path / "plan.txt"
    args = ["--root", str(repo), "plan", "dev", "--out", str(tmp_path / "p"), "--text", str(text)]
    assert main(args) == 1
    assert "Error: Invalid provider configuration" in text.read_text()
    assert [c[0] for c in fake_terraform.commands()] == ["init", "plan"]


def test_plan_stops_when_init_fails(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_EXIT_INIT", "1")
    with pytest.raises(SystemExit, match="terraform init failed"):
        main(["--root", str(repo), "plan", "dev", "--out", str(tmp_path / "p")])
    assert [c[0] for c in fake_terraform.commands()] == ["init"]


def test_apply_applies_exactly_the_saved_plan(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform
) -> None:
    plan = tmp_path / "tfplan"
    plan.write_bytes(b"reviewed plan")
    digest = hashlib.sha256(b"reviewed plan").hexdigest()
    args = ["--root", str(repo), "apply", "prod", "--plan", str(plan)]
    assert main([*args, "--expect-sha256", digest.upper()]) == 0
    init, apply = fake_terraform.commands()
    assert init[0] == "init"
    assert "-backend-config=prod.s3.tfbackend" in init
    assert apply == ["apply", "-input=false", "-no-color", str(plan)]
    assert "-auto-approve" not in apply


def test_apply_refuses_a_plan_that_is_not_the_reviewed_one(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = tmp_path / "tfplan"
    plan.write_bytes(b"something else")
    args = ["--root", str(repo), "apply", "prod", "--plan", str(plan)]
    assert main([*args, "--expect-sha256", "0" * 64]) == 1
    assert "refusing to apply" in capsys.readouterr().err
    assert fake_terraform.commands() == []


def test_apply_needs_a_saved_plan(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform
) -> None:
    with pytest.raises(SystemExit):
        main(["--root", str(repo), "apply", "dev"])  # --plan is required
    assert main(["--root", str(repo), "apply", "dev", "--plan", str(tmp_path / "none")]) == 1
    assert fake_terraform.commands() == []


def test_apply_reports_a_failed_apply(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_EXIT_APPLY", "1")
    plan = tmp_path / "tfplan"
    plan.write_bytes(b"plan")
    assert main(["--root", str(repo), "apply", "dev", "--plan", str(plan)]) == 1


def _changes(serial: int, code_hash: str) -> dict[str, object]:
    """A `terraform show -json` plan: what varies between two plans of one change, and not."""
    return {
        "timestamp": f"2026-01-0{serial}T00:00:00Z",
        "prior_state": {"serial": serial},
        "resource_changes": [
            {"address": "aws_s3_bucket.b", "change": {"actions": ["no-op"], "before": {}}},
            {
                "address": "module.stack.aws_lambda_function.ingest",
                "change": {
                    "actions": ["update"],
                    "before": {"source_code_hash": "old"},
                    "after": {"source_code_hash": code_hash},
                    "after_unknown": {},
                },
            },
        ],
        "output_changes": {"api_endpoint": {"actions": ["no-op"]}},
    }


def _replan(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh: dict[str, object]
) -> tuple[list[str], Path]:
    plan = tmp_path / "tfplan"
    plan.write_bytes(b"reviewed plan")
    reviewed = _changes(1, "new")

    def show_json(self: terraform_env.Terraform, plan_file: Path) -> dict[str, object]:
        return reviewed if plan_file == plan else fresh

    monkeypatch.setattr(terraform_env.Terraform, "show_json", show_json)
    digest = hashlib.sha256(b"reviewed plan").hexdigest()
    args = ["--root", str(repo), "apply", "dev", "--plan", str(plan), "--expect-sha256", digest]
    return [*args, "--replan"], plan


def test_replan_applies_a_fresh_plan_of_the_reviewed_changes(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another run moved the state's serial: the saved plan is stale, its changes are not.
    args, plan = _replan(repo, tmp_path, monkeypatch, _changes(2, "new"))
    assert main(args) == 0
    init, replan, apply = fake_terraform.commands()
    assert init[0] == "init"
    assert replan[0] == "plan"
    assert "-lock=false" not in replan
    assert apply == ["apply", "-input=false", "-no-color", f"{plan}.fresh"]


def test_replan_refuses_a_plan_that_changed_since_the_review(
    repo: Path,
    tmp_path: Path,
    fake_terraform: FakeTerraform,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args, _ = _replan(repo, tmp_path, monkeypatch, _changes(2, "newer"))
    assert main(args) == 1
    assert "the plan changed since it was reviewed" in capsys.readouterr().err
    assert [c[0] for c in fake_terraform.commands()] == ["init", "plan"]


def test_replan_without_changes_is_already_applied(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_PLAN_EXIT", "0")
    args, _ = _replan(repo, tmp_path, monkeypatch, _changes(2, "new"))
    assert main(args) == 0
    assert [c[0] for c in fake_terraform.commands()] == ["init", "plan"]


def test_replan_still_checks_the_reviewed_digest(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    args, _ = _replan(repo, tmp_path, monkeypatch, _changes(2, "new"))
    args[args.index("--expect-sha256") + 1] = "0" * 64
    assert main(args) == 1
    assert fake_terraform.commands() == []


def test_planned_changes_ignore_what_varies_between_plans() -> None:
    assert terraform_env.planned_changes(_changes(1, "a")) == terraform_env.planned_changes(
        _changes(7, "a")
    )
    assert terraform_env.planned_changes(_changes(1, "a")) != terraform_env.planned_changes(
        _changes(1, "b")
    )
    assert terraform_env.planned_changes({}) == []


def test_output_is_printed_and_exported(
    repo: Path,
    tmp_path: Path,
    fake_terraform: FakeTerraform,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gh_out = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(gh_out))
    assert main(["--root", str(repo), "output", "dev", "api_endpoint"]) == 0
    url = "https://abc.execute-api.eu-west-1.amazonaws.com"
    assert capsys.readouterr().out.strip() == url
    assert outputs(gh_out) == {"api_endpoint": url}
    assert fake_terraform.commands() == [["output", "-no-color", "-raw", "api_endpoint"]]


def test_multiline_outputs_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "o"))
    with pytest.raises(ValueError, match="single line"):
        terraform_env.write_github_output({"x": "a\nb"})


def test_lock_flag_parsing() -> None:
    with pytest.raises(SystemExit):
        main(["plan", "dev", "--out", "x", "--lock=maybe"])


# --- with the real terraform binary (no provider needed: terraform_data is built in) ----------

REAL_TERRAFORM = shutil.which("terraform")

MAIN_TF = """\
terraform {
  backend "local" {}
}

variable "environment" {
  type = string
}

variable "message" {
  type    = string
  default = "v1"
}

resource "terraform_data" "marker" {
  input = "${var.environment}-${var.message}"
}

output "api_endpoint" {
  value = "https://${terraform_data.marker.output}.example.test"
}
"""


@pytest.mark.slow
@pytest.mark.skipif(REAL_TERRAFORM is None, reason="terraform is not installed")
def test_plan_apply_output_with_real_terraform(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = repo / "environments" / "dev"
    (directory / "main.tf").write_text(MAIN_TF)
    (directory / "dev.s3.tfbackend").write_text(f'path = "{tmp_path / "dev.tfstate"}"\n')
    monkeypatch.setenv("TERRAFORM_BIN", str(REAL_TERRAFORM))
    monkeypatch.setenv("TF_DATA_DIR", str(tmp_path / "tf-data"))
    monkeypatch.setenv("CHECKPOINT_DISABLE", "1")
    gh_out = tmp_path / "github_output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(gh_out))
    root = ["--root", str(repo)]
    plan, text = tmp_path / "plan" / "tfplan", tmp_path / "plan" / "plan.txt"

    assert main([*root, "plan", "dev", "--out", str(plan), "--text", str(text)]) == 0
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in text.read_text()
    digest = outputs(gh_out)["plan_sha256"]
    assert outputs(gh_out)["has_changes"] == "true"

    apply = [*root, "apply", "dev", "--plan", str(plan), "--expect-sha256", digest]
    assert main(apply) == 0
    assert main([*root, "output", "dev", "api_endpoint"]) == 0
    assert outputs(gh_out)["api_endpoint"] == "https://dev-v1.example.test"

    # Applied: nothing left to do, and the same saved plan cannot be applied twice (stale).
    gh_out.write_text("")
    drift = [*root, "plan", "dev", "--out", str(tmp_path / "again"), "--detailed-exitcode"]
    assert main(drift) == 0
    assert outputs(gh_out)["has_changes"] == "false"
    assert main(apply) == 1

    # A change made outside the code is reported as drift by -detailed-exitcode.
    (directory / "terraform.tfvars").write_text('environment = "dev"\nmessage = "v2"\n')
    assert main([*drift, "--lock=false"]) == 2
