"""Shared fixtures and helpers: a real `ingest serve` process (embedded DynamoDB emulator), HTTP
helpers and the `ingest` command. Ports, environments and processes come from the local harness
(scripts/harness.py), which the benchmarks and scripts use too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ingest.adapters.dynamodb import EventStore, Record

from scripts.harness import (
    INGEST,
    REGION,
    ROOT,
    IngestServe,
    Process,
    Reply,
    aws_env,
    fake_credentials,
    free_port,
    http,
    ingest_serve,
)

__all__ = [
    "ROOT",
    "Process",
    "Reply",
    "Server",
    "free_port",
    "ingest",
    "replay",
    "run",
    "start_server",
]


@dataclass
class Server(IngestServe):
    """A running `ingest serve` with helpers to call it and to read its table."""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        *,
        content_type: str | None = "application/json",
    ) -> Reply:
        all_headers = dict(headers or {})
        if content_type is not None and body is not None:
            all_headers.setdefault("Content-Type", content_type)
        return http(method, self.url + path, body, all_headers)

    def post_json(self, path: str, document: Any, headers: dict[str, str] | None = None) -> Reply:
        return self.request("POST", path, json.dumps(document), headers)

    def store(self) -> EventStore:
        return EventStore(
            self.table, endpoint_url=self.endpoint, region_name=REGION, read_timeout=30
        )

    def count(self) -> int:
        """Items in the table (the emulator counts live; cheaper than a scan)."""
        table = self.store().client.describe_table(TableName=self.table)["Table"]
        return int(table.get("ItemCount", 0))

    def items(self) -> list[Record]:
        client = self.store().client
        pages = client.get_paginator("scan").paginate(TableName=self.table, ConsistentRead=True)
        from ingest.adapters.dynamodb import _unmarshal

        return [_unmarshal(item) for page in pages for item in page.get("Items", [])]


def start_server(
    *extra: str, table: str = "events", env: dict[str, str] | None = None
) -> tuple[Server, Process]:
    """`ingest serve` on free ports, healthy, in a clean AWS environment (plus ``env``); with
    ``--endpoint-url URL`` among ``extra`` it stores there instead of its embedded emulator."""
    args = list(extra)
    endpoint = None
    if "--endpoint-url" in args:
        at = args.index("--endpoint-url")
        endpoint = args[at + 1]
        del args[at : at + 2]
    serving = ingest_serve(*args, table=table, endpoint_url=endpoint, env=aws_env(extra=env))
    server = Server(serving.url, serving.endpoint, serving.table, serving.process)
    return server, server.process


@contextmanager
def serving(
    *extra: str, table: str = "events", env: dict[str, str] | None = None
) -> Iterator[Server]:
    """:func:`start_server` for the length of a ``with`` block, stopped however it ends."""
    server, process = start_server(*extra, table=table, env=env)
    try:
        yield server
    finally:
        process.stop()


def stop_server(process: Process) -> str:
    """Stop with SIGTERM (as an operator would) and return everything the server printed."""
    return process.stop()


@dataclass(frozen=True)
class Ran:
    """How a command ended: its exit code and what it printed."""

    code: int
    out: str
    err: str


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = (),
    whole_env: bool = False,
    cwd: Path | None = None,
    input: bytes | None = None,
    timeout: float = 60,
) -> Ran:
    """Run a command to completion, its output captured; in this process's environment without
    ``unset`` and with ``env`` on top (with ``whole_env``, ``env`` is its whole environment)."""
    if whole_env:
        full_env = dict(env or {})
    else:
        full_env = {k: v for k, v in os.environ.items() if k not in set(unset)}
        full_env.update(env or {})
    done = subprocess.run(
        list(argv),
        input=input,
        env=full_env,
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    return Ran(done.returncode, done.stdout.decode(), done.stderr.decode())


def ingest(
    *args: str,
    env: Mapping[str, str] | None = None,
    unset: Iterable[str] = (),
    input: bytes | None = None,
    timeout: float = 60,
) -> Ran:
    """Run the `ingest` command (this interpreter's) to completion (see :func:`run`)."""
    return run([*INGEST, *args], env=env, unset=unset, input=input, timeout=timeout)


def replay(*args: str, env: Mapping[str, str] | None = None) -> tuple[Ran, dict[str, Any]]:
    """Run `ingest replay`; how it ended and the summary it prints last on stderr."""
    ran = ingest("replay", *args, env=env, timeout=240)
    summary = [line for line in ran.err.splitlines() if line.startswith("{")]
    assert summary, ran.err
    return ran, json.loads(summary[-1])


def fresh_python(code: str, env: Mapping[str, str] | None = None) -> str:
    """Run ``code`` in a fresh interpreter (this one's executable) and return what it printed;
    ``env``, when given, is its whole environment (as Lambda's is). Fails with its stderr."""
    done = run([sys.executable, "-c", code], env=env, whole_env=env is not None, timeout=120)
    assert done.code == 0, done.err
    return done.out


def write_sources(folder: Path, sources: Mapping[str, Any]) -> Path:
    """A sources document ``{"sources": ...}`` in ``folder``, for ``--sources``."""
    path = folder / "sources.json"
    path.write_text(json.dumps({"sources": sources}), "utf-8")
    return path


@contextmanager
def mocked_table(table: str) -> Iterator[EventStore]:
    """The handler's AWS in this process: moto's mock_aws with ``table`` created as the service
    creates it, and the runtime's cached clients and sources reset on the way in and out."""
    from ingest import runtime
    from moto import mock_aws

    with mock_aws():
        store = EventStore(table, region_name=REGION)
        store.ensure_table()
        runtime.reset()
        yield store
        runtime.reset()


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    srv, process = start_server()
    yield srv
    stop_server(process)


@pytest.fixture(autouse=True)
def _local_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region for every test; none of the caller's AWS settings."""
    clean = fake_credentials()
    for name in list(os.environ):
        if name.startswith("AWS_") and name not in clean:
            monkeypatch.delenv(name)
    for name, value in clean.items():
        monkeypatch.setenv(name, value)
