"""Shared fixtures: a real `ingest serve` process (embedded DynamoDB emulator) and HTTP helpers."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from ingest.adapters.dynamodb import EventStore, Record

ROOT = Path(__file__).resolve().parent.parent
_logs: dict[int, Any] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    url: str
    endpoint: str
    table: str
    process: subprocess.Popen[str]

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        *,
        content_type: str | None = "application/json",
    ) -> Reply:
        data = body.encode() if isinstance(body, str) else body
        all_headers = dict(headers or {})
        if content_type is not None and data is not None:
            all_headers.setdefault("Content-Type", content_type)
        req = urllib.request.Request(self.url + path, data=data, headers=all_headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Reply(
                    resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
                )
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())

    def post_json(self, path: str, document: Any, headers: dict[str, str] | None = None) -> Reply:
        return self.request("POST", path, json.dumps(document), headers)

    def store(self) -> EventStore:
        return EventStore(
            self.table, endpoint_url=self.endpoint, region_name="us-east-1", read_timeout=30
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


def wait_healthy(url: str, process: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not become healthy")


def start_server(
    *extra: str, table: str = "events", env: dict[str, str] | None = None
) -> tuple[Server, subprocess.Popen[str]]:
    port = free_port()
    emulator = free_port()
    endpoint = f"http://127.0.0.1:{emulator}"
    args = [sys.executable, "-m", "ingest_tools.cli.main", "serve", "--port", str(port), "--quiet"]
    args += ["--table", table]
    if "--endpoint-url" in extra:
        endpoint = extra[extra.index("--endpoint-url") + 1]
    else:
        args += ["--emulator-port", str(emulator)]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full_env.update(env or {})
    # A file, not a pipe: nobody reads while tests run, and a full pipe would block the server.
    log = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
    process = subprocess.Popen(
        [*args, *extra], env=full_env, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    _logs[process.pid] = log
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, process)
    return Server(url, endpoint, table, process), process


def stop_server(process: subprocess.Popen[str]) -> str:
    """Stop with SIGTERM (as an operator would) and return everything the server printed."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log = _logs.pop(process.pid)
    log.seek(0)
    out: str = log.read()
    log.close()
    return out


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    srv, process = start_server()
    yield srv
    stop_server(process)


@pytest.fixture(autouse=True)
def _local_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
    ):
        monkeypatch.delenv(name, raising=False)
