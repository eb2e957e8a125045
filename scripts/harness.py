"""The local harness: how the tests, the benchmarks and the scripts run things on this machine.

One definition of each of the steps they all take:

- ``free_port()``: a free TCP port on 127.0.0.1;
- ``aws_env()``: the environment with none of the caller's AWS settings (no profile, no endpoint,
  no real credentials), fake credentials and a region instead;
- ``http()``: one HTTP exchange, whatever the status;
- ``start()``: a subprocess with its output in a log file, waited for until an HTTP GET answers
  200 (or failed with the log's tail); ``Process.stop()``: SIGTERM, SIGKILL after a grace period,
  and the log;
- ``ingest_serve()`` and ``moto_server()``: the two servers they start;
- ``LocalHTTP`` and ``QuietHandler``: stand-in HTTP servers in this process, served from a thread.

Standard library only, and no pytest: ``scripts/ci/smoke.py`` runs under the system python3 in
the workflows, and ``bench/``, ``scripts/tf/rehearse.py`` and ``scripts/artifact/verify.py`` are
not tests.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any, Self

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = "127.0.0.1"
REGION = "us-east-1"
FAKE_CREDENTIAL = "testing"
# `ingest` as this interpreter runs it (no console script needed).
INGEST = (sys.executable, "-m", "ingest_tools.cli.main")
LOG_TAIL = 5000  # characters of a process's log quoted in a failure


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def fake_credentials(
    region: str = REGION, credential: str = FAKE_CREDENTIAL, *, session_token: bool = False
) -> dict[str, str]:
    """Fixed, fake AWS credentials and a region: what emulators and stand-ins are called with."""
    env = {
        "AWS_ACCESS_KEY_ID": credential,
        "AWS_SECRET_ACCESS_KEY": credential,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if session_token:
        env["AWS_SESSION_TOKEN"] = credential
    return env


def aws_env(
    region: str = REGION,
    credential: str = FAKE_CREDENTIAL,
    *,
    session_token: bool = False,
    drop: Iterable[str] = (),
    base: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``base`` (default: ``os.environ``) without any ``AWS_*`` variable or any of the ``drop``
    prefixes, with :func:`fake_credentials` and ``extra`` on top."""
    prefixes = ("AWS_", *drop)
    source = os.environ if base is None else base
    env = {name: value for name, value in source.items() if not name.startswith(prefixes)}
    env.update(fake_credentials(region, credential, session_token=session_token))
    env.update(extra or {})
    return env


# --- HTTP ----------------------------------------------------------------------------------------


@dataclass
class Reply:
    """An HTTP answer: status, headers (lower-cased names) and the body's bytes."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    timeout: float = 30.0,
    context: ssl.SSLContext | None = None,
) -> Reply:
    """One exchange; every status is a :class:`Reply`, transport errors raise ``OSError``."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}), method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as response:
            status, answer, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, answer, raw = exc.code, exc.headers, exc.read()
    return Reply(status, {k.lower(): v for k, v in answer.items()}, raw)


def tls_context(cafile: Path | None) -> ssl.SSLContext | None:
    """A client context trusting ``cafile`` only (None: the default for http:// URLs)."""
    return None if cafile is None else ssl.create_default_context(cafile=str(cafile))


# --- processes -----------------------------------------------------------------------------------


class Process:
    """A subprocess whose output (stdout and stderr) goes to a log file.

    A file, not a pipe: nobody reads while the process runs, and a full pipe would block it.
    Without ``log`` the file is anonymous and goes away with :meth:`stop`.
    """

    def __init__(
        self,
        command: Sequence[str | Path],
        *,
        env: Mapping[str, str] | None = None,
        log: Path | None = None,
        cwd: Path | None = None,
        url: str = "",
    ) -> None:
        self.command = [str(part) for part in command]
        self.url = url
        self._log: IO[bytes] = log.open("w+b") if log else tempfile.TemporaryFile()  # noqa: SIM115
        self.popen = subprocess.Popen(
            self.command,
            env=dict(os.environ if env is None else env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def name(self) -> str:
        return Path(self.command[0]).name

    @property
    def pid(self) -> int:
        return self.popen.pid

    def poll(self) -> int | None:
        return self.popen.poll()

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

    def log(self) -> str:
        """Everything the process has printed so far."""
        if self._log.closed:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", errors="replace")

    def log_tail(self, chars: int = LOG_TAIL) -> str:
        return self.log()[-chars:]

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        """Until ``text`` appears in the log; a RuntimeError with the log's tail otherwise."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline or self.poll() is not None:
                raise RuntimeError(f"{self.name}: no {text!r} in its log:\n{self.log_tail()}")
            time.sleep(0.05)

    def wait_healthy(
        self, url: str, timeout: float = 60.0, *, context: ssl.SSLContext | None = None
    ) -> None:
        """GET ``url`` until it answers 200; a RuntimeError with the log's tail when the process
        exits first or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        last: object = None
        while time.monotonic() < deadline:
            if self.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.popen.returncode} before {url} answered:\n"
                    f"{self.log_tail()}"
                )
            try:
                last = http("GET", url, timeout=2, context=context).status
                if last == 200:
                    return
            except OSError as exc:
                last = exc
            time.sleep(0.1)
        raise RuntimeError(
            f"{self.name}: {url} did not answer 200 within {timeout:.0f} s (last: {last}):\n"
            f"{self.log_tail()}"
        )

    def stop(self, grace: float = 20.0) -> str:
        """SIGTERM (as an operator would), SIGKILL after ``grace`` seconds; the whole log."""
        terminate(self.popen, grace)
        out = self.log()
        self._log.close()
        return out

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def terminate(process: subprocess.Popen[Any], grace: float = 20.0) -> None:
    """Stop ``process``: SIGTERM, then SIGKILL when it is still running after ``grace`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start(
    command: Sequence[str | Path],
    *,
    health: str | None = None,
    timeout: float = 60.0,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    cwd: Path | None = None,
    url: str = "",
    context: ssl.SSLContext | None = None,
) -> Process:
    """Start ``command``; with ``health``, wait until a GET of that URL answers 200 (the process
    is stopped and a RuntimeError raised otherwise)."""
    process = Process(command, env=env, log=log, cwd=cwd, url=url)
    if health is not None:
        try:
            process.wait_healthy(health, timeout, context=context)
        except BaseException:
            process.stop(grace=5)
            raise
    return process


# --- the servers ---------------------------------------------------------------------------------


@dataclass
class IngestServe:
    """A running ``ingest serve``: its URL, the DynamoDB endpoint and table it stores in."""

    url: str
    endpoint: str
    table: str
    process: Process

    def stop(self) -> str:
        return self.process.stop()


def ingest_serve(
    *extra: str,
    table: str = "events",
    endpoint_url: str | None = None,
    env: Mapping[str, str] | None = None,
    command: Sequence[str | Path] = INGEST,
    quiet: bool = True,
    log: Path | None = None,
    timeout: float = 90.0,
) -> IngestServe:
    """``ingest serve`` on a free loopback port, healthy: with its embedded DynamoDB emulator on
    another free port, or storing in ``endpoint_url``. ``env`` (default: :func:`aws_env`) is its
    whole environment; ``extra`` are more arguments (``--sources FILE``, ...)."""
    port = free_port()
    url = f"http://{LOOPBACK}:{port}"
    args = [*command, "serve", "--host", LOOPBACK, "--port", str(port), "--table", table]
    if endpoint_url is None:
        emulator = free_port()
        endpoint_url = f"http://{LOOPBACK}:{emulator}"
        args += ["--emulator-port", str(emulator)]
    else:
        args += ["--endpoint-url", endpoint_url]
    if quiet:
        args.append("--quiet")
    if "--data-dir" not in extra:
        args.append("--ephemeral")  # nothing kept in the working directory, no shared lock
    process = start(
        [*args, *extra],
        health=f"{url}/health",
        timeout=timeout,
        env=aws_env() if env is None else env,
        log=log,
        url=url,
    )
    return IngestServe(url, endpoint_url, table, process)


def moto_server(
    *,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    tls: tuple[Path, Path] | None = None,
    binary: Path | None = None,
    timeout: float = 60.0,
) -> Process:
    """moto's server on a free loopback port, answering; ``Process.url`` is its endpoint.

    ``tls`` is (certificate, key): it then speaks HTTPS, trusted through that certificate.
    ``binary`` defaults to the ``moto_server`` next to this interpreter (the project's .venv).
    """
    port = free_port()
    scheme = "https" if tls else "http"
    endpoint = f"{scheme}://{LOOPBACK}:{port}"
    command: list[str | Path] = [
        binary or Path(sys.executable).with_name("moto_server"),
        "-H", LOOPBACK, "-p", str(port),
    ]  # fmt: skip
    if tls:
        command += ["--ssl-cert", tls[0], "--ssl-key", tls[1]]
    return start(
        command,
        health=f"{endpoint}/moto-api/",
        timeout=timeout,
        env=aws_env() if env is None else env,
        log=log,
        url=endpoint,
        context=tls_context(tls[0] if tls else None),
    )


# --- stand-ins in this process -------------------------------------------------------------------


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers in one call."""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def send_body(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: Any = None) -> None:
        """``payload`` as JSON (None: an empty body)."""
        self.send_body(status, b"" if payload is None else json.dumps(payload).encode())


class LocalHTTP:
    """An HTTP server on a free loopback port, served from a daemon thread inside ``with``."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.server = ThreadingHTTPServer((LOOPBACK, 0), handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
