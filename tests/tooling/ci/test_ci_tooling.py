"""scripts/ci/tf_docs_check.py and scripts/ci/provider_mirror.py with stand-in binaries."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from scripts.ci import provider_mirror, tf_docs_check
from tests.tooling.ci.fakes import FakeTerraform

FAKE_DOCS = """#!{python}
import json, os, sys
with open(os.environ["FAKE_DOCS_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
sys.exit(1 if sys.argv[-1].endswith(os.environ.get("FAKE_DOCS_STALE", "<none>")) else 0)
"""


def _module(root: Path, rel: str, readme: str | None) -> Path:
    directory = root / rel
    directory.mkdir(parents=True)
    (directory / "main.tf").write_text('variable "x" {}\n')
    if readme is not None:
        (directory / "README.md").write_text(readme)
    return directory


MARKED = f"# Module\n\n{tf_docs_check.BEGIN}\n...\n{tf_docs_check.END}\n"


@pytest.fixture
def docs_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    _module(root, "modules/api", MARKED)
    _module(root, "modules/table", MARKED)
    _module(root, "modules/plain", "# No generated section\n")
    _module(root, "environments/dev", None)
    (root / "modules/api/.terraform/modules/x").mkdir(parents=True)
    (root / "modules/api/.terraform/modules/x/README.md").write_text(MARKED)
    return root


@pytest.fixture
def fake_docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    binary = tmp_path / "terraform-docs"
    binary.write_text(FAKE_DOCS.format(python=sys.executable))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "docs.log"
    monkeypatch.setenv("TERRAFORM_DOCS_BIN", str(binary))
    monkeypatch.setenv("FAKE_DOCS_LOG", str(log))
    return log


def test_only_readmes_with_markers_are_checked(docs_repo: Path) -> None:
    found = tf_docs_check.documented_dirs(docs_repo)
    assert found == [docs_repo / "modules/api", docs_repo / "modules/table"]


def test_check_passes_when_up_to_date(docs_repo: Path, fake_docs: Path) -> None:
    assert tf_docs_check.main(["--root", str(docs_repo)]) == 0
    calls = fake_docs.read_text().splitlines()
    assert len(calls) == 2
    assert "--output-check" in calls[0]
    assert "--output-mode=inject" in calls[0]


def test_check_fails_when_stale(
    docs_repo: Path,
    fake_docs: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FAKE_DOCS_STALE", "table")
    assert tf_docs_check.main(["--root", str(docs_repo)]) == 1
    assert "modules/table/README.md is out of date" in capsys.readouterr().out


def test_fix_rewrites_instead_of_checking(docs_repo: Path, fake_docs: Path) -> None:
    (docs_repo / ".terraform-docs.yml").write_text("formatter: markdown table\n")
    assert tf_docs_check.main(["--root", str(docs_repo), "--fix"]) == 0
    call = fake_docs.read_text().splitlines()[0]
    assert "--output-check" not in call
    assert "--config=" in call


def test_missing_binary_skips_locally_and_fails_when_required(
    docs_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TERRAFORM_DOCS_BIN", raising=False)
    monkeypatch.setenv("PATH", str(docs_repo))
    assert tf_docs_check.main(["--root", str(docs_repo)]) == 0
    assert tf_docs_check.main(["--root", str(docs_repo), "--require"]) == 1


def test_nothing_to_check_is_fine(tmp_path: Path, fake_docs: Path) -> None:
    assert tf_docs_check.main(["--root", str(tmp_path)]) == 0


def test_nothing_to_check_fails_when_required(tmp_path: Path, fake_docs: Path) -> None:
    # In CI a check that finds no markers would check nothing: it fails instead.
    assert tf_docs_check.main(["--root", str(tmp_path), "--require"]) == 1


def test_a_module_readme_without_markers_fails_when_required(
    docs_repo: Path, fake_docs: Path
) -> None:
    assert tf_docs_check.unmarked_modules(docs_repo) == [docs_repo / "modules" / "plain"]
    assert tf_docs_check.main(["--root", str(docs_repo)]) == 0
    assert tf_docs_check.main(["--root", str(docs_repo), "--require"]) == 1


def test_every_module_readme_here_carries_the_markers() -> None:
    # What CI's terraform-docs step checks: every module's README, none skipped.
    root = Path(tf_docs_check.REPO_ROOT)
    assert tf_docs_check.documented_dirs(root)
    assert tf_docs_check.unmarked_modules(root) == []


def test_provider_mirror_runs_each_root_module_and_exports_the_path(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_env = tmp_path / "github_env"
    monkeypatch.setenv("GITHUB_ENV", str(github_env))
    (repo / "environments" / "notes").mkdir()  # no .tf files: not a root module
    (repo / "modules" / "table").mkdir(parents=True)
    (repo / "modules" / "table" / "main.tf").write_text("")
    out = tmp_path / "mirror"
    assert provider_mirror.main(["--root", str(repo), "--out", str(out), "--github-env"]) == 0
    calls = fake_terraform.calls()
    names = [Path(str(c["cwd"])).name for c in calls]
    assert names == ["dev", "dev", "prod", "prod", "table", "table"]
    assert "-lockfile=readonly" in fake_terraform.commands()[0]
    assert fake_terraform.commands()[1] == [
        "providers",
        "mirror",
        "-platform=linux_amd64",
        str(out.resolve()),
    ]
    assert all(c["data_dir"] for c in calls)  # never the working tree's .terraform
    assert github_env.read_text() == f"TF_PROVIDER_MIRROR={out.resolve()}\n"


def test_provider_mirror_fails_when_terraform_fails(
    repo: Path, tmp_path: Path, fake_terraform: FakeTerraform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_EXIT_PROVIDERS", "1")
    assert provider_mirror.main(["--root", str(repo), "--out", str(tmp_path / "m")]) == 1


def test_provider_mirror_needs_root_modules(tmp_path: Path) -> None:
    assert provider_mirror.main(["--root", str(tmp_path), "--out", str(tmp_path / "m")]) == 1
