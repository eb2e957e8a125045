"""Fixtures for scripts/fork.py: a scratch checkout, the fake GitHub API, bootstrap outputs."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from scripts import fork  # noqa: E402
from tests.tooling.fork.fake_github import FakeGitHub  # noqa: E402

TOKEN = "ghp_fake_token_for_tests"
ACCOUNT = "210987654321"
REGION = "us-east-2"
WORKFLOWS = tuple(sorted(p.name for p in (REPO_ROOT / ".github" / "workflows").glob("*.yml")))


def bootstrap_outputs(
    account: str = ACCOUNT, region: str = REGION, bucket: str | None = None
) -> dict[str, object]:
    """What `terraform -chdir=environments/bootstrap output -json` prints after the apply."""
    bucket = bucket or f"ingest-tfstate-{account}-{region}"
    configs = {
        env: "\n".join(
            [
                f'bucket         = "{bucket}"',
                f'key            = "{env}/terraform.tfstate"',
                f'region         = "{region}"',
                'dynamodb_table = "ingest-terraform-locks"',
                "use_lockfile   = true",
                "encrypt        = true",
            ]
        )
        for env in ("dev", "prod")
    }
    return {
        "apply_role_arns": {
            "sensitive": False,
            "type": ["map", "string"],
            "value": {
                env: f"arn:aws:iam::{account}:role/ingest-{env}-github-apply"
                for env in ("dev", "prod")
            },
        },
        "backend_configs": {"sensitive": False, "type": ["map", "string"], "value": configs},
        "lock_table": {"sensitive": False, "type": "string", "value": "ingest-terraform-locks"},
        "plan_role_arn": {
            "sensitive": False,
            "type": "string",
            "value": f"arn:aws:iam::{account}:role/ingest-github-plan",
        },
        "state_bucket": {"sensitive": False, "type": "string", "value": bucket},
    }


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the files scripts/fork.py reads and writes (the real ones, FORK markers included)."""
    root = tmp_path / "checkout"
    ignore = shutil.ignore_patterns(".terraform", "*.tfstate", "*.tfstate.*", "tfplan*")
    for top in ("environments", "modules", ".github"):
        shutil.copytree(REPO_ROOT / top, root / top, ignore=ignore, symlinks=True)
    return root


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    path = tmp_path / "bootstrap-outputs.json"
    path.write_text(json.dumps(bootstrap_outputs(), indent=2))
    return path


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub(
        "me",
        "ingest",
        TOKEN,
        users={"alice": 1002, "bob": 1003, "acme": 3000},
        teams={"acme/deployers": 2001},
        me="me",
        workflows=WORKFLOWS,
    )
    with fake:
        yield fake


@dataclass
class Result:
    code: int
    out: str
    err: str


class ForkRunner(Protocol):
    """scripts/fork.py's main() against the scratch checkout and the fake, output captured."""

    def __call__(self, *args: str, repo: str = ...) -> Result: ...


@pytest.fixture
def run_fork(
    checkout: Path,
    github: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> ForkRunner:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_API_URL", raising=False)

    def run(*args: str, repo: str = "me/ingest") -> Result:
        argv = [
            "--account-id",
            ACCOUNT,
            "--region",
            REGION,
            "--repo",
            repo,
            "--api-url",
            github.url,
            "--root",
            str(checkout),
            *args,
        ]
        code = fork.main(argv)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
