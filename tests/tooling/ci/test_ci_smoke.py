"""The deployment smoke test (scripts/ci/smoke.py) against local servers."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import harness
from scripts.ci import smoke
from tests.tooling.ci.fakes import StandInAPI

REPO_ROOT = Path(__file__).resolve().parents[3]
FAST = ["--attempts", "3", "--delay", "0.01", "--timeout", "5"]


@pytest.fixture
def api() -> Iterator[StandInAPI]:
    with StandInAPI() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_summary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)


def test_passes_against_a_conforming_api(api: StandInAPI) -> None:
    assert smoke.main(["--url", api.url, *FAST]) == 0
    assert len(api.stored) == 1  # the repeat was answered as a duplicate, not stored again
    ((source, event_id),) = api.stored
    assert source == smoke.SMOKE_SOURCE
    assert event_id.startswith("smoke-")


def test_a_trailing_slash_in_the_endpoint_is_fine(api: StandInAPI) -> None:
    assert smoke.main(["--url", api.url + "/", *FAST]) == 0
    assert ("GET", "/health") in api.requests


def test_retries_while_a_deployment_settles(api: StandInAPI) -> None:
    api.unavailable_for = 2
    assert smoke.main(["--url", api.url, *FAST]) == 0


def test_gives_up_after_the_attempts(api: StandInAPI, capsys: pytest.CaptureFixture[str]) -> None:
    api.unavailable_for = 100
    assert smoke.main(["--url", api.url, *FAST]) == 1
    assert "gave up after 3 attempts" in capsys.readouterr().out


def test_fails_when_health_is_not_ok(api: StandInAPI) -> None:
    api.health_status = 204
    assert smoke.main(["--url", api.url, *FAST]) == 1


def test_fails_when_a_repeat_is_not_reported_as_duplicate(api: StandInAPI) -> None:
    api.duplicate_status = 202
    assert smoke.main(["--url", api.url, *FAST]) == 1


def test_fails_when_nothing_listens(capsys: pytest.CaptureFixture[str]) -> None:
    port = harness.free_port()
    assert smoke.main(["--url", f"http://127.0.0.1:{port}", *FAST]) == 1
    assert "FAIL" in capsys.readouterr().out


@pytest.mark.parametrize("url", ["ftp://example.com", "127.0.0.1:3000", "file:///etc/passwd"])
def test_rejects_urls_that_are_not_http(url: str) -> None:
    assert smoke.main(["--url", url]) == 2


def test_writes_a_job_summary(
    api: StandInAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert smoke.main(["--url", api.url, "--environment", "dev", *FAST]) == 0
    text = summary.read_text()
    assert "Smoke test `dev` passed" in text
    assert "POST /events again -> 200 duplicate" in text


# --- against the real service: `ingest serve` with its embedded DynamoDB emulator -------------


def _ingest_available() -> bool:
    try:
        return importlib.util.find_spec("ingest_tools.cli.main") is not None
    except ModuleNotFoundError:
        return False


@pytest.fixture(scope="module")
def ingest_serve() -> Iterator[str]:
    if not _ingest_available():
        pytest.skip("the ingest package (entry point ingest_tools.cli.main) is not importable")
    # The console script next to this interpreter (.venv/bin/ingest), as a developer runs it.
    script = shutil.which("ingest", path=str(Path(sys.executable).parent))
    serving = harness.ingest_serve(command=[script] if script else harness.INGEST, quiet=False)
    yield serving.url
    serving.stop()


@pytest.mark.slow
def test_passes_against_ingest_serve(ingest_serve: str) -> None:
    assert smoke.main(["--url", ingest_serve, *FAST]) == 0


@pytest.mark.slow
def test_passes_against_ingest_serve_via_the_cli(ingest_serve: str) -> None:
    ingest = shutil.which("ingest", path=str(Path(sys.executable).parent))
    if ingest is None:
        pytest.skip("the ingest console script is not installed next to this Python")
    assert smoke.main(["--url", ingest_serve, "--via-cli", "--ingest", ingest, *FAST]) == 0
