"""Fixtures for the whole suite (helpers live in tests/support.py), and the kind markers.

Every test is marked with the kind of its folder, so a run can pick kinds: `pytest -m unit`,
`pytest -m "not e2e and not tooling"`. The folders (see README, Repository layout):

- tests/unit: pure logic, no network, no subprocess;
- tests/integration: the handler and the adapters in process, against moto's in-process mock_aws,
  and what a fresh interpreter imports for them (tests/support.py fresh_python);
- tests/e2e: a real `ingest serve`, other servers and the `ingest` command (load, fuzzing, replay);
- tests/tooling: the repository's own tooling (CI scripts, Terraform lint, fork, docs, package).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import _local_credentials, server

__all__ = ["_local_credentials", "server"]

TESTS = Path(__file__).resolve().parent
KINDS = ("unit", "integration", "e2e", "tooling")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """The order is random (pytest-randomly) unless ``-p no:randomly``: say how to repeat it."""
    seed = getattr(config.option, "randomly_seed", None)
    if config.pluginmanager.hasplugin("randomly") and isinstance(seed, int):
        terminalreporter.write_line(f"random order: --randomly-seed={seed} repeats it")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path.resolve()
        if not path.is_relative_to(TESTS):
            continue
        kind = path.relative_to(TESTS).parts[0]
        if kind not in KINDS:
            raise pytest.UsageError(f"{item.nodeid}: tests live in tests/{{{','.join(KINDS)}}}/")
        item.add_marker(kind)
