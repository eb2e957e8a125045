"""The README's "Try it" works as written: its commands, run in order, with the files in examples/.

`make run ...` is asked (make -n) for the command it runs, which is started on a free port with its
data directory in a temporary folder; every other command runs as written (the URL moved to that
port) from the repository's root, with no flag added.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from scripts.harness import LOOPBACK, ROOT, aws_env, free_port, start
from tests.support import run

README = ROOT / "README.md"
DOCUMENTED_URL = "http://127.0.0.1:3000"
MAKE_FLAGS = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")


def try_it_commands(text: str) -> list[str]:
    """The shell commands of the "Try it" section, continuation lines joined, comments dropped."""
    section = text.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    commands: list[str] = []
    for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL):
        lines = (line.strip() for line in block.replace("\\\n", " ").splitlines())
        commands += [line for line in lines if line and not line.startswith("#")]
    return commands


def test_the_section_is_found() -> None:
    commands = try_it_commands(README.read_text("utf-8"))
    assert commands[0].startswith("make run"), commands
    assert any(command.endswith("ingest events list") for command in commands), commands


def serve_command(make_run: str, port: int) -> list[str]:
    """What ``make run`` would run, on ``port``."""
    env = aws_env(drop=MAKE_FLAGS)
    argv = ["make", "-n", "-s", "--no-print-directory", *shlex.split(make_run)[1:], f"PORT={port}"]
    planned = run(argv, env=env, whole_env=True, cwd=ROOT)
    assert planned.code == 0, planned.err
    command = shlex.split(planned.out.strip().splitlines()[-1])
    assert command[:2] == [".venv/bin/ingest", "serve"], planned.out
    return [str(ROOT / command[0]), *command[1:]]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's example uses curl")
def test_the_readme_commands_work_as_written(tmp_path: Path) -> None:
    make_run, *commands = try_it_commands(README.read_text("utf-8"))
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    env = aws_env(extra={"INGEST_DATA_DIR": str(tmp_path / "data")})
    server = start(
        serve_command(make_run, port), health=f"{url}/health", env=env, cwd=ROOT, timeout=120
    )
    try:
        outputs = []
        for command in commands:
            shell = ["bash", "-c", command.replace(DOCUMENTED_URL, url)]
            ran = run(shell, env=env, whole_env=True, cwd=ROOT, timeout=120)
            assert ran.code == 0, f"{command}\n{ran.out}\n{ran.err}"
            outputs.append(ran.out)
    finally:
        log = server.stop()
    assert "/webhooks/github" in log, log
    listed = [json.loads(line) for line in outputs[-1].splitlines() if line.startswith("{")]
    stored = {(event["source"], event["type"]) for event in listed}
    assert stored == {("default", "order.created"), ("shop", "order.created"), ("github", "push")}
