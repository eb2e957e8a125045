"""Fixtures for the tests of scripts/ci (the logic the GitHub workflows call)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    # The workflows run `python -m scripts.ci.<name>` from the repository root.
    sys.path.insert(0, str(REPO_ROOT))

from tests.tooling.ci.fakes import FAKE_TERRAFORM, FakeTerraform  # noqa: E402


@pytest.fixture
def fake_terraform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeTerraform:
    binary = tmp_path / "bin" / "terraform"
    binary.parent.mkdir()
    binary.write_text(FAKE_TERRAFORM.format(python=sys.executable))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "terraform-calls.jsonl"
    monkeypatch.setenv("TERRAFORM_BIN", str(binary))
    monkeypatch.setenv("FAKE_TF_LOG", str(log))
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    monkeypatch.delenv("GITHUB_ENV", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return FakeTerraform(binary, log)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A minimal repository layout with the dev and prod root modules."""
    root = tmp_path / "repo"
    for env in ("dev", "prod"):
        directory = root / "environments" / env
        directory.mkdir(parents=True)
        (directory / "main.tf").write_text("terraform {}\n")
        (directory / f"{env}.s3.tfbackend").write_text(f'key = "{env}.tfstate"\n')
        (directory / "terraform.tfvars").write_text(f'environment = "{env}"\n')
    return root
