"""The `ingest` command on a terminal (a pseudo-terminal): `events tail --follow` prints each event
as it arrives, and `events export` and `replay` show their progress with the totals."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scripts.harness import INGEST
from tests.support import Server, serving

pytestmark = pytest.mark.slow

#: How long a step may take before the test gives up (a bound on waiting, not a target).
PATIENCE = 60.0


class Terminal:
    """A command whose stdout and stderr are a pseudo-terminal, read as it writes."""

    def __init__(self, *args: str) -> None:
        self.master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k not in ("INGEST_URL", "SOURCES")}
        self.process = subprocess.Popen(
            [*INGEST, *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env
        )
        os.close(slave)
        self.output = ""

    def _read(self, wait: float) -> bool:
        """Read what is there within ``wait`` seconds; False once the command closed it."""
        ready, _, _ = select.select([self.master], [], [], wait)
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the other side is closed
            return False
        self.output += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return bool(chunk)

    def read_until(self, done: Callable[[str], bool]) -> str:
        deadline = time.monotonic() + PATIENCE
        while not done(self.output):
            assert time.monotonic() < deadline, self.output
            if not self._read(0.2):
                break
        assert done(self.output), self.output
        return self.output

    def finish(self) -> int:
        """Everything it writes until it exits; its exit code."""
        while self._read(0.2) or self.process.poll() is None:
            pass
        os.close(self.master)
        return self.process.wait(PATIENCE)

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.finish()


@pytest.fixture(scope="module")
def api() -> Iterator[Server]:
    with serving(table="terminal") as server:
        yield server


def _table(server: Server) -> tuple[str, ...]:
    return ("--endpoint-url", server.endpoint, "--table", server.table)


def _post(server: Server, source: str, event_type: str) -> str:
    reply = server.post_json("/events", {"type": event_type, "source": source, "data": {}})
    assert reply.status == 202, reply.body
    return str(reply.json()["event_id"])


def shows(text: str) -> Callable[[str], bool]:
    return lambda output: text in output


def test_tail_follow_prints_each_event_as_it_arrives(api: Server) -> None:
    before = _post(api, "tail", "order.created")
    terminal = Terminal("events", "tail", "--follow", "--interval", "0.2", *_table(api))
    terminal.read_until(shows(before))  # the latest event first
    arrived: list[str] = []
    for n in range(3):
        event_id = _post(api, "tail", f"order.step{n}")
        arrived.append(event_id)
        # Each one shows while the command runs, before the next is sent.
        terminal.read_until(shows(event_id))
    assert terminal.interrupt() == 130
    ours = {before, *arrived}
    lines = [line for line in terminal.output.splitlines() if set(line.split()) & ours]
    assert [line.split()[3] for line in lines] == [before, *arrived]  # one line each, in order
    for line, step in zip(lines[1:], range(3), strict=True):
        assert re.match(rf"\d\d:\d\d:\d\d\.\d{{3}}  tail  order\.step{step}  ", line), line
    assert "Traceback" not in terminal.output


def test_export_and_replay_show_progress_with_totals(api: Server, tmp_path: Path) -> None:
    for n in range(5):
        _post(api, "progress", f"item.{n}")
    out = tmp_path / "progress.jsonl"
    export = Terminal("events", "export", "--source", "progress", "--out", str(out), *_table(api))
    assert export.finish() == 0
    assert re.search(r"\rexported: 5 \([0-9.]+ s(, \d+/s)?\) done\n", export.output), export.output
    assert f"exported 5 events to {out}" in export.output
    assert len(out.read_text("utf-8").splitlines()) == 5

    # Into the same deployment: each event stored again under its event_id as Idempotency-Key.
    replay = Terminal("replay", "--from", str(out), "--url", api.url)
    assert replay.finish() == 0
    assert re.search(r"\rreplayed: 5/5 \([^)]*\) done\n", replay.output), replay.output
    summary = json.loads(replay.output.strip().splitlines()[-1])
    assert (summary["sent"], summary["accepted"], summary["failed"]) == (5, 5, 0)
