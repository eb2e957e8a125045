"""scripts/fork.py on the command line: bad input is one line on stderr, never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests import support
from tests.support import Ran
from tests.tooling.fork.conftest import REPO_ROOT, snapshot

SCRIPT = REPO_ROOT / "scripts" / "fork.py"
GOOD = {"--account-id": "210987654321", "--region": "us-east-2", "--repo": "me/ingest"}


def run(args: list[str], root: Path, *, with_token: bool = True) -> Ran:
    token = {"GITHUB_TOKEN": "a-token"} if with_token else {}
    unset = {"GITHUB_TOKEN", "GITHUB_API_URL"}
    argv = [sys.executable, str(SCRIPT), *args, "--root", str(root)]
    return support.run(argv, env=token, unset=unset, cwd=root)


def argv(**changes: str | None) -> list[str]:
    options = GOOD | {f"--{k.replace('_', '-')}": v for k, v in changes.items()}
    return [f"{key}={value}" for key, value in options.items() if value is not None]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (argv(account_id="1234"), "--account-id must be 12 digits, not '1234'"),
        (argv(account_id="12345678901a"), "--account-id must be 12 digits"),
        (argv(account_id="1234567890123"), "--account-id must be 12 digits"),
        (
            argv(region="EU-west-1"),
            "--region must be an AWS region code such as eu-west-1, not 'EU-west-1'",
        ),
        (argv(region="euwest1"), "--region must be an AWS region code"),
        (argv(region="us-east"), "--region must be an AWS region code"),
        (argv(repo="ingest"), "--repo must be OWNER/NAME as on GitHub, not 'ingest'"),
        (argv(repo="me/ingest/x"), "--repo must be OWNER/NAME"),
        (argv(repo="-me/ingest"), "--repo must be OWNER/NAME"),
        (argv(repo="me/"), "--repo must be OWNER/NAME"),
        (argv(repo="me/ingest.git"), "--repo must be OWNER/NAME"),
        (argv(repo="me/in gest"), "--repo must be OWNER/NAME"),
        (
            [*argv(), "--reviewer", "not a login"],
            "--reviewer 'not a login' is neither a GitHub login nor ORG/TEAM",
        ),
        (
            [*argv(), "--solo", "--alarm-email", "nobody"],
            "--alarm-email 'nobody' is not an e-mail address",
        ),
        ([*argv(), "--solo", "--api-url", "ftp://x"], "--api-url must be an http(s) URL"),
        (argv(), "prod needs a reviewer: --reviewer LOGIN or ORG/TEAM (repeatable), or --solo"),
        (
            [*argv(), "--solo", "--bootstrap-outputs", "/nonexistent.json"],
            "cannot read /nonexistent.json",
        ),
        (argv(account_id=None), "the following arguments are required: --account-id"),
        ([*argv(), "--files-only", "--github-only"], "not allowed with argument"),
        ([*argv(), "--surprise"], "unrecognized arguments: --surprise"),
    ],
)
def test_bad_input_fails_with_one_line(checkout: Path, args: list[str], message: str) -> None:
    before = snapshot(checkout)

    result = run(args, checkout)

    assert result.code != 0
    assert "Traceback" not in result.err
    assert len(result.err.splitlines()) == 1, result.err
    assert result.err.startswith("fork: error: ")
    assert message in result.err
    assert result.out == ""
    assert snapshot(checkout) == before


def test_a_missing_token_is_one_line(checkout: Path) -> None:
    result = run([*argv(), "--solo"], checkout, with_token=False)
    assert result.code == 1
    assert result.err == (
        "fork: error: GITHUB_TOKEN is not set: a token with admin rights on me/ingest "
        "(e.g. GITHUB_TOKEN=$(gh auth token)), or --files-only\n"
    )


def test_an_unreachable_api_is_one_line(checkout: Path) -> None:
    result = run([*argv(), "--solo", "--api-url", "http://127.0.0.1:9"], checkout)
    assert result.code == 1
    assert result.err.startswith("fork: error: cannot reach http://127.0.0.1:9: ")
    assert len(result.err.splitlines()) == 1


def test_a_directory_that_is_not_a_checkout_is_refused(tmp_path: Path) -> None:
    result = run([*argv(), "--files-only"], tmp_path)
    assert result.code == 1
    assert (
        result.err
        == f"fork: error: {tmp_path.resolve()} is not a checkout of this repository (no environments/)\n"
    )


def test_the_script_runs_on_its_own_with_files_only(checkout: Path) -> None:
    result = run([*argv(), "--files-only", "--dry-run"], checkout, with_token=False)
    assert result.code == 0, result.err
    assert "Dry run: 5 file(s), 0 API call(s) would change; nothing was changed." in result.out


def test_make_fork_runs_the_script_with_args() -> None:
    # As a person runs it: not as a sub-make of `make test`, whose flags print directory lines.
    make_flags = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    make_dry_run = ["make", "-n", "fork", "ARGS=--account-id 210987654321 --dry-run"]
    result = support.run(make_dry_run, unset=make_flags, cwd=REPO_ROOT)
    assert result.code == 0, result.err
    assert result.out.strip().endswith("scripts/fork.py --account-id 210987654321 --dry-run")
    listed = support.run(["make", "help"], cwd=REPO_ROOT)
    assert any(line.split()[:1] == ["fork"] for line in listed.out.splitlines())
