"""Security lint of the GitHub Actions set-up with zizmor, offline; fails on medium or worse.

zizmor audits the workflows, composite actions and dependabot.yml under the given paths
(``.github`` by default) for template injection, credential persistence, excessive
permissions, cache poisoning, unpinned actions and the like. The run is made deterministic:

* ``--offline``: no GitHub API (the audits that need it are skipped);
* ``--config .github/zizmor.yml`` explicitly, so no other configuration is discovered;
* ``--persona=regular``, ``--strict-collection`` (a file zizmor cannot parse is an error, not
  silently skipped), JSON output, no colours, no progress bars;
* zizmor's own ``ZIZMOR_*``/token variables are removed from its environment;
* the zizmor version must be the one pinned in ``requirements/dev.lock``.

Every finding is listed; the exit status is 1 when one of them has ``--min-severity`` (medium
by default) or more, 2 when zizmor itself failed, 0 otherwise. Suppressions are inline
``# zizmor: ignore[rule] reason`` comments or entries in ``.github/zizmor.yml``, with a reason.

Usage: python -m scripts.ci.zizmor_check [--min-severity medium] [PATH ...]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(".github") / "zizmor.yml"
LOCK = Path("requirements") / "dev.lock"
SEVERITIES = ("informational", "low", "medium", "high")
# zizmor's exit codes: 0 nothing found, 10 + n when the worst finding has severity n (0 unknown,
# 1 informational ... 4 high).
FINDING_EXIT_CODES = frozenset({0, 10, 11, 12, 13, 14})
# Variables zizmor reads besides its flags (config, offline mode, tokens, host).
FOREIGN_ENV = re.compile(r"^(ZIZMOR_.*|GH_TOKEN|GITHUB_TOKEN|GH_HOST)$")
LOCK_PIN = re.compile(r"^zizmor==(?P<version>\S+)", re.MULTILINE)
VERSION = re.compile(r"(\d+\.\d+\.\d+\S*)")


class ZizmorError(RuntimeError):
    """zizmor could not run, or said something this script does not understand."""


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    confidence: str
    description: str
    url: str
    path: str
    line: int
    column: int

    def rank(self) -> int:
        # An unknown severity counts as the worst one: never pass on what was not understood.
        return SEVERITIES.index(self.severity) if self.severity in SEVERITIES else len(SEVERITIES)

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}:{self.column}: {self.severity} {self.rule} "
            f"(confidence {self.confidence}): {self.description} [{self.url}]"
        )


def command(binary: str, config: Path, paths: Sequence[str]) -> list[str]:
    return [
        binary,
        "--offline",
        "--no-progress",
        "--color=never",
        "--persona=regular",
        "--strict-collection",
        "--format=json-v1",
        f"--config={config}",
        *paths,
    ]


def clean_env(environ: Mapping[str, str]) -> dict[str, str]:
    return {key: value for key, value in environ.items() if not FOREIGN_ENV.match(key)}


def _primary_location(raw: Mapping[str, Any]) -> tuple[str, int, int]:
    locations = raw.get("locations") or []
    primary = next(
        (loc for loc in locations if loc.get("symbolic", {}).get("kind") == "Primary"),
        locations[0] if locations else None,
    )
    if primary is None:
        return "?", 0, 0
    key = primary.get("symbolic", {}).get("key", {})
    local = key.get("Local") if isinstance(key, Mapping) else None
    path = str(local.get("verbatim_path", "?")) if isinstance(local, Mapping) else str(key)
    start = primary.get("concrete", {}).get("location", {}).get("start_point", {})
    return path, int(start.get("row", -1)) + 1, int(start.get("column", -1)) + 1


def parse_findings(stdout: str) -> list[Finding]:
    """Findings from zizmor's JSON (v1) output; ignored ones are not in it."""
    try:
        data = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise ZizmorError(f"zizmor's output is not JSON: {exc}") from exc
    if not isinstance(data, list):
        raise ZizmorError("zizmor's JSON output is not a list of findings")
    findings: list[Finding] = []
    for raw in data:
        if not isinstance(raw, Mapping) or "ident" not in raw:
            raise ZizmorError(f"unexpected finding in zizmor's output: {raw!r}")
        if raw.get("ignored"):
            continue
        determinations = raw.get("determinations") or {}
        try:
            path, line, column = _primary_location(raw)
        except (AttributeError, TypeError, ValueError) as exc:
            raise ZizmorError(f"unexpected location in zizmor's output: {exc}") from exc
        findings.append(
            Finding(
                rule=str(raw["ident"]),
                severity=str(determinations.get("severity", "unknown")).lower(),
                confidence=str(determinations.get("confidence", "unknown")).lower(),
                description=str(raw.get("desc", "")),
                url=str(raw.get("url", "")),
                path=path,
                line=line,
                column=column,
            )
        )
    return sorted(findings, key=lambda f: (-f.rank(), f.path, f.line, f.column, f.rule))


def find_binary(explicit: str | None) -> str:
    if explicit:
        return explicit
    # The locked one in the virtual environment this runs from, else whatever is on PATH.
    found = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")
    if not found:
        raise ZizmorError("zizmor is not installed (it is in requirements/dev.lock: make venv)")
    return found


def locked_version(root: Path) -> str | None:
    lock = root / LOCK
    if not lock.is_file():
        return None
    found = LOCK_PIN.search(lock.read_text(encoding="utf-8"))
    return found.group("version") if found else None


def installed_version(binary: str, env: Mapping[str, str]) -> str:
    result = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=False, env=dict(env)
    )
    found = VERSION.search(result.stdout)
    if result.returncode != 0 or not found:
        raise ZizmorError(f"{binary} --version failed: {result.stdout}{result.stderr}".strip())
    return found.group(1)


def run(binary: str, config: Path, paths: Sequence[str], env: Mapping[str, str]) -> list[Finding]:
    result = subprocess.run(
        command(binary, config, paths),
        capture_output=True,
        text=True,
        check=False,
        env=dict(env),
    )
    if result.returncode not in FINDING_EXIT_CODES:
        raise ZizmorError(
            f"zizmor failed (exit {result.returncode}):\n{result.stderr.strip()}".rstrip()
        )
    findings = parse_findings(result.stdout)
    if result.returncode != 0 and not findings:
        raise ZizmorError(f"zizmor exited {result.returncode} but reported no finding")
    return findings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zizmor_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", default=[".github"], help="default: .github")
    parser.add_argument("--min-severity", choices=SEVERITIES, default="medium")
    parser.add_argument("--config", type=Path, help="default: ROOT/.github/zizmor.yml")
    parser.add_argument("--zizmor", help="the zizmor binary (default: the one in .venv)")
    parser.add_argument("--root", type=Path, default=REPO_ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    config: Path = args.config or args.root / CONFIG
    env = clean_env(os.environ)
    try:
        if not config.is_file():
            raise ZizmorError(f"zizmor configuration {config} not found")
        binary = find_binary(args.zizmor)
        version = installed_version(binary, env)
        pinned = locked_version(args.root)
        if pinned is not None and version != pinned:
            raise ZizmorError(
                f"zizmor {version} is installed but {LOCK} pins {pinned}: "
                "findings differ between versions (make venv)"
            )
        findings = run(binary, config, args.paths, env)
    except ZizmorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    threshold = SEVERITIES.index(args.min_severity)
    failing = [f for f in findings if f.rank() >= threshold]
    for finding in findings:
        print(("FAIL " if finding in failing else "note ") + str(finding))
    print(
        f"zizmor {version} (offline, {config.name}) over {' '.join(args.paths)}: "
        f"{len(failing)} finding(s) at {args.min_severity} or above, "
        f"{len(findings) - len(failing)} below"
    )
    if failing:
        print(
            f"fix them, or suppress one with '# zizmor: ignore[RULE] <reason>' on its line; "
            f"details: {binary} --offline {' '.join(args.paths)}"
        )
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
