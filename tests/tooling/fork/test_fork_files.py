"""scripts/fork.py's file half: every FORK value written, nothing else, the way terraform fmt would."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from scripts import fork
from tests.tooling.fork.conftest import (
    ACCOUNT,
    REGION,
    REPO_ROOT,
    ForkRunner,
    bootstrap_outputs,
    snapshot,
)
from tests.tooling.fork.fake_github import FakeGitHub

MARKED = re.compile(r"#[ \t]*FORK\b")


def test_only_the_marked_lines_change_and_they_hold_the_new_values(
    run_fork: ForkRunner, checkout: Path
) -> None:
    before = snapshot(checkout)

    result = run_fork("--files-only")

    assert result.code == 0, result.err
    after = snapshot(checkout)
    changed = sorted(name for name in before if before[name] != after[name])
    assert changed == [
        "environments/bootstrap/terraform.tfvars",
        "environments/dev/dev.s3.tfbackend",
        "environments/dev/terraform.tfvars",
        "environments/prod/prod.s3.tfbackend",
        "environments/prod/terraform.tfvars",
    ]
    for name in changed:
        old, new = before[name].decode().splitlines(), after[name].decode().splitlines()
        assert len(old) == len(new), name
        for number, (line_before, line_after) in enumerate(zip(old, new, strict=True), 1):
            if line_before != line_after:
                assert MARKED.search(line_before), (
                    f"{name}:{number} is not marked FORK: {line_before!r}"
                )
    values = {name: attributes(after[name].decode()) for name in changed}
    assert (
        values["environments/bootstrap/terraform.tfvars"].items()
        >= {
            "aws_region": f'"{REGION}"',
            "github_owner": '"me"',
            "github_repository": '"ingest"',
            "allowed_account_ids": f'["{ACCOUNT}"]',
        }.items()
    )
    for env in ("dev", "prod"):
        assert values[f"environments/{env}/terraform.tfvars"]["aws_region"] == f'"{REGION}"'
        assert (
            values[f"environments/{env}/terraform.tfvars"]["allowed_account_ids"]
            == f'["{ACCOUNT}"]'
        )
        backend = values[f"environments/{env}/{env}.s3.tfbackend"]
        assert backend["bucket"] == f'"ingest-tfstate-{ACCOUNT}-{REGION}"'
        assert backend["region"] == f'"{REGION}"'
        assert backend["key"] == f'"{env}/terraform.tfstate"'
    assert (
        "alarm_email" not in values["environments/dev/terraform.tfvars"]
    )  # optional: left commented


def attributes(text: str) -> dict[str, str]:
    """Active `key = value` lines, the value as written (without a trailing comment)."""
    found = re.findall(r"^([a-z_]+)\s*=\s*(.*?)\s*(?:#.*)?$", text, re.MULTILINE)
    return dict(found)


def test_a_rerun_leaves_every_file_byte_identical(
    run_fork: ForkRunner, checkout: Path, outputs_file: Path
) -> None:
    args = (
        "--files-only",
        "--bootstrap-outputs",
        str(outputs_file),
        "--alarm-email",
        "ops@example.net",
    )
    assert run_fork(*args).code == 0
    first = snapshot(checkout)

    again = run_fork(*args)

    assert again.code == 0, again.err
    assert snapshot(checkout) == first
    assert again.out.rstrip().endswith("Nothing to change.")


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform CLI")
def test_terraform_fmt_accepts_the_rewritten_files(
    run_fork: ForkRunner, checkout: Path, tmp_path: Path
) -> None:
    assert (
        run_fork(
            "--files-only", "--alarm-email", "ops@example.net", "--existing-oidc-provider"
        ).code
        == 0
    )
    check = tmp_path / "fmt"
    check.mkdir()
    # terraform fmt reads .tf/.tfvars only; a backend file has the same syntax.
    for index, path in enumerate(sorted(checkout.glob("environments/*/*"))):
        if path.suffix in {".tfvars", ".tfbackend"}:
            shutil.copy(path, check / f"{index}-{path.parent.name}.tfvars")
    env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull}
    result = subprocess.run(
        ["terraform", "fmt", "-check", "-list=true", str(check)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"terraform fmt would change: {result.stdout}{result.stderr}"


SYNTHETIC = {
    "environments/bootstrap/terraform.tfvars": (
        "# Values a fork must change are marked FORK.\n"
        'aws_region        = "eu-west-1"   # FORK\n'
        'github_owner      = "example-org" # FORK\n'
        'github_repository = "ingest"      # FORK\n'
        '# allowed_account_ids  = ["123456789012"] # FORK (recommended)\n'
        "# create_oidc_provider = false            # FORK: when the account has the provider\n"
        '# oidc_provider_arn    = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"\n'
        "# trailing comment\n"
    ),
    "environments/dev/dev.s3.tfbackend": (
        "# terraform init -backend-config=dev.s3.tfbackend\n"
        'bucket = "ingest-tfstate-123456789012-eu-west-1" # FORK: the state_bucket output\n'
        'key    = "dev/terraform.tfstate"\n'
        'region = "eu-west-1" # FORK\n'
        "# Locking\n"
        'dynamodb_table = "ingest-terraform-locks"\n'
        "use_lockfile   = true\n"
    ),
    "environments/dev/terraform.tfvars": (
        "# dev\n"
        'aws_region = "eu-west-1" # FORK\n'
        '# allowed_account_ids = ["123456789012"] # FORK (recommended)\n'
        '# alarm_email         = "oncall@example.com" # FORK (optional)\n'
        "\n"
        'environment = "dev"\n'
        "retention_days = 7 # unmarked, and not aligned: left exactly as it is\n"
    ),
}
EXPECTED = {
    "environments/bootstrap/terraform.tfvars": (
        "# Values a fork must change are marked FORK.\n"
        'aws_region           = "ap-south-1"                      # FORK\n'
        'github_owner         = "a-rather-long-organisation-name" # FORK\n'
        'github_repository    = "ingest-fork"                     # FORK\n'
        'allowed_account_ids  = ["000011112222"]                  # FORK (recommended)\n'
        "create_oidc_provider = false                             # FORK: when the account has the provider\n"
        'oidc_provider_arn    = "arn:aws:iam::000011112222:oidc-provider/token.actions.githubusercontent.com"\n'
        "# trailing comment\n"
    ),
    "environments/dev/dev.s3.tfbackend": (
        "# terraform init -backend-config=dev.s3.tfbackend\n"
        'bucket = "ingest-tfstate-000011112222-ap-south-1" # FORK: the state_bucket output\n'
        'key    = "dev/terraform.tfstate"\n'
        'region = "ap-south-1" # FORK\n'
        "# Locking\n"
        'dynamodb_table = "ingest-terraform-locks"\n'
        "use_lockfile   = true\n"
    ),
    "environments/dev/terraform.tfvars": (
        "# dev\n"
        'aws_region          = "ap-south-1"         # FORK\n'
        'allowed_account_ids = ["000011112222"]     # FORK (recommended)\n'
        'alarm_email         = "alerts@example.org" # FORK (optional)\n'
        "\n"
        'environment = "dev"\n'
        "retention_days = 7 # unmarked, and not aligned: left exactly as it is\n"
    ),
}


def test_the_rewrite_is_exact(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name, text in SYNTHETIC.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    argv = [
        "--account-id",
        "000011112222",
        "--region",
        "ap-south-1",
        "--repo",
        "a-rather-long-organisation-name/ingest-fork",
        "--alarm-email",
        "alerts@example.org",
        "--existing-oidc-provider",
        "--files-only",
        "--root",
        str(tmp_path),
    ]

    assert fork.main(argv) == 0

    for name, text in EXPECTED.items():
        assert (tmp_path / name).read_text() == text, name
    capsys.readouterr()
    assert fork.main(argv) == 0
    assert capsys.readouterr().out.rstrip().endswith("Nothing to change.")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # A commented line ends both runs; a blank line too.
        (
            ['a = "1" # FORK', "# note", 'bbbb = "2" # c'],
            ['a = "1" # FORK', "# note", 'bbbb = "2" # c'],
        ),
        # Consecutive attributes align `=`; only lines with a comment align the comment.
        (
            ['a = "1" # FORK', 'bbbb = "22"', 'cc = "3" # x'],
            ['a    = "1" # FORK', 'bbbb = "22"', 'cc   = "3" # x'],
        ),
        (
            ['a = "1" # FORK', 'bbbb = "22" # y', "", 'z = "far" # untouched'],
            ['a    = "1"  # FORK', 'bbbb = "22" # y', "", 'z = "far" # untouched'],
        ),
        # A multi-line value ends the run (terraform fmt does not align across it).
        (
            ['a = "1" # FORK', "tags = {", '  k = "v"', "}"],
            ['a = "1" # FORK', "tags = {", '  k = "v"', "}"],
        ),
        # A `#` inside a string is not a comment.
        (
            ['a = "1" # FORK', 'url = "http://x/#frag"'],
            ['a   = "1" # FORK', 'url = "http://x/#frag"'],
        ),
    ],
)
def test_alignment_follows_terraform_fmt(lines: list[str], expected: list[str]) -> None:
    bodies = list(lines)
    fork.align(bodies, {0})
    assert bodies == expected


def test_every_fork_marker_in_the_repository_has_a_value() -> None:
    """A new `# FORK` line needs its value in scripts/fork.py (marked_values)."""
    config = config_for(REPO_ROOT)
    _, notes = fork.plan_files(config)
    assert [note for note in notes if "marked FORK" in note] == []


def config_for(root: Path, **overrides: object) -> fork.Config:
    settings: dict[str, object] = {
        "account_id": ACCOUNT,
        "region": REGION,
        "owner": "me",
        "name": "ingest",
        "outputs": None,
        "reviewers": (),
        "solo": False,
        "alarm_email": None,
        "existing_oidc_provider": False,
        "require_plan_checks": False,
        "files": True,
        "github": False,
        "dry_run": True,
        "api_url": "http://127.0.0.1:9",
        "root": root,
    }
    return fork.Config(**(settings | overrides))  # type: ignore[arg-type]


def test_an_unknown_marked_key_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "environments" / "dev" / "terraform.tfvars"
    path.parent.mkdir(parents=True)
    path.write_text('project = "ingest" # FORK\n')

    changes, notes = fork.plan_files(config_for(tmp_path))

    assert changes == []
    assert notes == [
        "environments/dev/terraform.tfvars: project is marked FORK but has no value here; left as is"
    ]


def test_the_bootstrap_outputs_name_the_bucket(
    run_fork: ForkRunner, checkout: Path, tmp_path: Path
) -> None:
    outputs = tmp_path / "custom.json"
    outputs.write_text(json.dumps(bootstrap_outputs(bucket="my-own-state-bucket")))

    assert run_fork("--files-only", "--bootstrap-outputs", str(outputs)).code == 0

    for env in ("dev", "prod"):
        text = (checkout / "environments" / env / f"{env}.s3.tfbackend").read_text()
        assert 'bucket = "my-own-state-bucket" # FORK' in text


def test_without_outputs_the_bucket_follows_the_bootstrap_tfvars(
    run_fork: ForkRunner, checkout: Path
) -> None:
    tfvars = checkout / "environments" / "bootstrap" / "terraform.tfvars"
    tfvars.write_text(tfvars.read_text() + '\nproject = "events"\n')

    assert run_fork("--files-only").code == 0

    text = (checkout / "environments" / "dev" / "dev.s3.tfbackend").read_text()
    assert f'bucket = "events-tfstate-{ACCOUNT}-{REGION}" # FORK' in text


def test_a_lock_table_other_than_the_bootstraps_is_pointed_out(
    run_fork: ForkRunner, tmp_path: Path
) -> None:
    outputs = bootstrap_outputs()
    outputs["lock_table"] = {"sensitive": False, "type": "string", "value": "other-locks"}
    path = tmp_path / "o.json"
    path.write_text(json.dumps(outputs))

    result = run_fork("--files-only", "--bootstrap-outputs", str(path))

    assert result.code == 0
    assert (
        "Note: environments/dev/dev.s3.tfbackend: dynamodb_table is 'ingest-terraform-locks', "
        "the bootstrap's lock table 'other-locks' (not marked FORK; left as is)"
    ) in result.out


@pytest.mark.parametrize(
    ("outputs", "message"),
    [
        (
            bootstrap_outputs(account="999988887777"),
            "the bootstrap outputs are for account 999988887777, not 210987654321",
        ),
        (
            bootstrap_outputs(region="eu-central-1"),
            "the bootstrap outputs are for region eu-central-1, not us-east-2",
        ),
        ({}, "has no outputs: apply environments/bootstrap first"),
        ({"state_bucket": {"value": "b"}}, "has no output 'lock_table'"),
        ([1, 2], "is not the object `terraform output -json` prints"),
        (
            bootstrap_outputs(bucket="Not_A_Bucket"),
            "state_bucket 'Not_A_Bucket' is not a bucket name",
        ),
    ],
)
def test_bootstrap_outputs_that_do_not_fit_are_refused(
    run_fork: ForkRunner, checkout: Path, tmp_path: Path, outputs: object, message: str
) -> None:
    path = tmp_path / "o.json"
    path.write_text(json.dumps(outputs))
    before = snapshot(checkout)

    result = run_fork("--files-only", "--bootstrap-outputs", str(path))

    assert result.code == 1
    assert len(result.err.splitlines()) == 1
    assert message in result.err
    assert snapshot(checkout) == before


def test_the_outputs_can_come_from_terraform(
    run_fork: ForkRunner, checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "terraform.log"
    binary = tmp_path / "terraform"
    binary.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps([os.getcwd(), sys.argv[1:]]) + '\\n')\n"
        f"print({json.dumps(json.dumps(bootstrap_outputs(bucket='from-terraform-bucket')))})\n"
    )
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("TERRAFORM_BIN", str(binary))

    result = run_fork("--files-only", "--bootstrap-from-terraform")

    assert result.code == 0, result.err
    assert json.loads(log.read_text()) == [
        str(checkout),
        ["-chdir=environments/bootstrap", "output", "-json"],
    ]
    assert (
        'bucket = "from-terraform-bucket"'
        in (checkout / "environments/dev/dev.s3.tfbackend").read_text()
    )


def test_a_failing_terraform_is_one_line(
    run_fork: ForkRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = tmp_path / "terraform"
    binary.write_text(
        f"#!{sys.executable}\nimport sys\nprint('Error: No state', file=sys.stderr)\nsys.exit(1)\n"
    )
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("TERRAFORM_BIN", str(binary))

    result = run_fork("--files-only", "--bootstrap-from-terraform")

    assert result.code == 1
    assert result.err.endswith("output -json failed: Error: No state\n")
    assert len(result.err.splitlines()) == 1


def test_files_only_needs_no_token_and_calls_nothing(
    run_fork: ForkRunner, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    assert run_fork("--files-only").code == 0
    assert github.requests == []


def test_github_only_leaves_the_files_alone(
    run_fork: ForkRunner, github: FakeGitHub, checkout: Path, outputs_file: Path
) -> None:
    before = snapshot(checkout)
    result = run_fork("--github-only", "--bootstrap-outputs", str(outputs_file), "--solo")
    assert result.code == 0, result.err
    assert snapshot(checkout) == before
    assert "Files:" not in result.out
    assert github.writes()


def test_line_endings_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "environments" / "dev" / "terraform.tfvars"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'# dev\r\naws_region = "eu-west-1" # FORK\r\nenvironment = "dev"\r\n')

    assert (
        fork.main(
            [
                "--account-id",
                ACCOUNT,
                "--region",
                REGION,
                "--repo",
                "me/ingest",
                "--files-only",
                "--root",
                str(tmp_path),
            ]
        )
        == 0
    )

    assert (
        path.read_bytes() == b'# dev\r\naws_region  = "us-east-2" # FORK\r\nenvironment = "dev"\r\n'
    )
