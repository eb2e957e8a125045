"""scripts/ci/zizmor_check.py: zizmor over .github/, offline, failing on medium or worse.

The tests run the real, locked zizmor: over this repository's .github/ (must be clean), and over
temporary workflows with known problems (must fail), so that the check cannot pass silently.
The threshold and error handling are also tested against a stand-in binary.
"""

from __future__ import annotations

import json
import re
import stat
import sys
from pathlib import Path

import pytest
import yaml

from scripts.ci import zizmor_check
from tests.tooling.ci.fakes import WORKFLOW_HEAD

REPO_ROOT = Path(__file__).resolve().parents[3]
GITHUB_DIR = REPO_ROOT / ".github"

INJECTION = """\
name: greet
on: pull_request
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    permissions:
      contents: read
    steps:
      - run: echo "Thanks for ${{ github.event.pull_request.title }}"
"""

PERSISTED_CHECKOUT = (
    "name: build\n"
    + WORKFLOW_HEAD
    + "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"
    + "      - run: make package\n"
)


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = zizmor_check.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def workflow(tmp_path: Path, source: str, name: str = "ci.yml") -> Path:
    directory = tmp_path / ".github" / "workflows"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(source, encoding="utf-8")
    return tmp_path / ".github"


# --- The real zizmor ---------------------------------------------------------------------------


def test_this_repository_has_no_medium_or_higher_finding(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = check(capsys, str(GITHUB_DIR))
    assert code == 0, out + err
    assert "0 finding(s) at medium or above" in out


def test_a_template_injection_is_reported_and_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = check(capsys, str(workflow(tmp_path, INJECTION)))
    assert code == 1
    assert re.search(r"FAIL \S*workflows/ci\.yml:11:\d+: high template-injection", out), out


def test_a_checkout_that_keeps_the_token_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = check(capsys, str(workflow(tmp_path, PERSISTED_CHECKOUT)))
    assert code == 1
    assert "artipacked" in out


def test_an_inline_suppression_needs_the_rule_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    suppressed = INJECTION.replace(
        '}}"\n', '}}" # zizmor: ignore[template-injection] test fixture\n'
    )
    assert check(capsys, str(workflow(tmp_path, suppressed)))[0] == 0
    wrong_rule = INJECTION.replace('}}"\n', '}}" # zizmor: ignore[artipacked] wrong rule\n')
    assert check(capsys, str(workflow(tmp_path, wrong_rule)))[0] == 1


def test_a_workflow_zizmor_cannot_read_is_an_error_not_a_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    github = workflow(tmp_path, INJECTION.replace("steps:", "steps: ["), name="broken.yml")
    code, _, err = check(capsys, str(github))
    assert code == 2
    assert "broken.yml" in err


def test_nothing_to_audit_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".github").mkdir()
    assert check(capsys, str(tmp_path / ".github"))[0] == 2


def test_the_check_is_part_of_make_test_workflows() -> None:
    makefile = (REPO_ROOT / "mk" / "workflows.mk").read_text(encoding="utf-8")
    found = re.search(r"^test-workflows:(?P<deps>[^#\n]*)", makefile, re.MULTILINE)
    assert found
    assert "workflow-zizmor" in found.group("deps").split()
    assert "-m scripts.ci.zizmor_check" in makefile


def test_every_suppression_gives_a_reason() -> None:
    config_path = GITHUB_DIR / "zizmor.yml"
    for path in sorted(set(GITHUB_DIR.rglob("*.y*ml")) - {config_path}):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if "zizmor: ignore" in line:
                assert re.search(r"# zizmor: ignore\[[a-z0-9,-]+\]\s+\S{3}", line), (
                    f"{path.name}:{number}: add the reason after the ignore comment"
                )
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    lines = config_path.read_text(encoding="utf-8").splitlines()
    for rule in config.get("rules") or {}:
        index = lines.index(f"  {rule}:")
        assert lines[index - 1].lstrip().startswith("#"), f"zizmor.yml: say why {rule} is set"


# --- Threshold and failures, with a stand-in binary ----------------------------------------------

FAKE_ZIZMOR = """#!{python}
import json, os, sys
if sys.argv[1:] == ["--version"]:
    print("zizmor " + os.environ.get("FAKE_ZIZMOR_VERSION", "1.32.0"))
    sys.exit(0)
with open(os.environ["FAKE_ZIZMOR_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "env": sorted(os.environ)}}) + "\\n")
sys.stdout.write(os.environ.get("FAKE_ZIZMOR_OUT", "[]"))
sys.exit(int(os.environ.get("FAKE_ZIZMOR_EXIT", "0")))
"""


def finding(rule: str, severity: str, *, ignored: bool = False) -> dict[str, object]:
    return {
        "ident": rule,
        "desc": f"{rule} description",
        "url": f"https://docs.zizmor.sh/audits/#{rule}",
        "determinations": {"confidence": "High", "severity": severity, "persona": "Regular"},
        "locations": [
            {
                "symbolic": {"key": {"Local": {"verbatim_path": "x.yml"}}, "kind": "Related"},
                "concrete": {"location": {"start_point": {"row": 0, "column": 0}}},
            },
            {
                "symbolic": {"key": {"Local": {"verbatim_path": "x.yml"}}, "kind": "Primary"},
                "concrete": {"location": {"start_point": {"row": 4, "column": 6}}},
            },
        ],
        "ignored": ignored,
    }


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    binary = tmp_path / "zizmor"
    binary.write_text(FAKE_ZIZMOR.format(python=sys.executable))
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "zizmor.log"
    monkeypatch.setenv("FAKE_ZIZMOR_LOG", str(log))
    root = tmp_path / "root"
    (root / ".github").mkdir(parents=True)
    (root / ".github" / "zizmor.yml").write_text("rules: {}\n")
    (root / "requirements").mkdir()
    (root / "requirements" / "dev.lock").write_text("zizmor==1.32.0 \\\n    --hash=sha256:00\n")
    return binary, root


def fake_check(
    capsys: pytest.CaptureFixture[str], fake: tuple[Path, Path], *argv: str
) -> tuple[int, str, str]:
    binary, root = fake
    return check(capsys, "--zizmor", str(binary), "--root", str(root), *argv, "somewhere")


@pytest.mark.parametrize(
    ("severity", "code"),
    [("Informational", 0), ("Low", 0), ("Medium", 1), ("High", 1), ("Unknown", 1)],
)
def test_medium_and_above_fail_the_rest_is_listed(
    fake: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    severity: str,
    code: int,
) -> None:
    monkeypatch.setenv("FAKE_ZIZMOR_OUT", json.dumps([finding("some-rule", severity)]))
    monkeypatch.setenv("FAKE_ZIZMOR_EXIT", "13")
    result, out, _ = fake_check(capsys, fake)
    assert result == code
    assert f"x.yml:5:7: {severity.lower()} some-rule" in out
    assert ("FAIL " if code else "note ") in out


def test_the_threshold_can_be_lowered(
    fake: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_ZIZMOR_OUT", json.dumps([finding("some-rule", "Low")]))
    monkeypatch.setenv("FAKE_ZIZMOR_EXIT", "12")
    assert fake_check(capsys, fake, "--min-severity", "low")[0] == 1


def test_the_run_is_offline_strict_and_uses_only_our_config(
    fake: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZIZMOR_CONFIG", "/elsewhere/zizmor.yml")
    monkeypatch.setenv("GH_TOKEN", "not-for-zizmor")
    assert fake_check(capsys, fake)[0] == 0
    binary, root = fake
    (call,) = [json.loads(line) for line in (binary.parent / "zizmor.log").read_text().splitlines()]
    argv = call["argv"]
    for flag in ("--offline", "--strict-collection", "--persona=regular", "--format=json-v1"):
        assert flag in argv
    assert f"--config={root / '.github' / 'zizmor.yml'}" in argv
    assert argv[-1] == "somewhere"
    assert "ZIZMOR_CONFIG" not in call["env"]
    assert "GH_TOKEN" not in call["env"]


@pytest.mark.parametrize(
    ("out", "exit_code", "message"),
    [
        ("[]", 1, "zizmor failed (exit 1)"),
        ("not json", 0, "not JSON"),
        ('{"ident": "x"}', 0, "not a list"),
        ("[]", 14, "reported no finding"),
    ],
)
def test_zizmor_trouble_is_an_error(
    fake: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    out: str,
    exit_code: int,
    message: str,
) -> None:
    monkeypatch.setenv("FAKE_ZIZMOR_OUT", out)
    monkeypatch.setenv("FAKE_ZIZMOR_EXIT", str(exit_code))
    code, _, err = fake_check(capsys, fake)
    assert code == 2
    assert message in err


def test_another_zizmor_version_than_the_locked_one_is_an_error(
    fake: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_ZIZMOR_VERSION", "1.31.0")
    code, _, err = fake_check(capsys, fake)
    assert code == 2
    assert "pins 1.32.0" in err


def test_ignored_findings_do_not_count(
    fake: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_ZIZMOR_OUT", json.dumps([finding("x", "High", ignored=True)]))
    assert fake_check(capsys, fake)[0] == 0


def test_a_missing_config_is_an_error(
    fake: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (fake[1] / ".github" / "zizmor.yml").unlink()
    assert fake_check(capsys, fake)[0] == 2
