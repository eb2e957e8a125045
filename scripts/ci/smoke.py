"""Smoke test of a deployed (or local) ingest API: usable against any endpoint.

Checks, in order:

1. ``GET /health`` answers 200 ``{"status": "ok"}`` (retried while a fresh deployment settles);
2. ``POST /events`` with a unique ``id`` answers 202 with ``event_id`` and ``received_at``;
3. posting the same event again answers 200 with ``"duplicate": true`` and the same ``event_id``
   (the idempotency promise of the contract);
4. an event without ``type`` answers 422 with the documented error shape.

Every request is retried, with a doubling delay (``--delay``, at most ``--max-delay``), on
connection errors, 5xx and 404, for at most ``--attempts`` tries and ``--max-wait`` seconds:
a freshly deployed API Gateway stage answers 404 (and 5xx while the function's new version
warms up) for a while before its routes are live. Retrying a POST is safe because the event
carries an ``id``, so a retry never stores a second record.

Usage::

    python -m scripts.ci.smoke --url https://abc.execute-api.eu-west-1.amazonaws.com
    python -m scripts.ci.smoke --url http://127.0.0.1:3000 --via-cli   # send with `ingest send`

Exit status 0 when every check passes, 1 otherwise. A Markdown report goes to
$GITHUB_STEP_SUMMARY when that is set.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.harness import http

SMOKE_SOURCE = "ci-smoke"
SMOKE_TYPE = "ingest.smoke_test"


class SmokeError(AssertionError):
    """A check failed."""


@dataclass
class Response:
    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)


def _endpoint(base_url: str, path: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SmokeError(f"not an http(s) URL: {base_url!r}")
    return base_url.rstrip("/") + path


def http_request(method: str, url: str, body: Any = None, *, timeout: float = 10.0) -> Response:
    """One HTTP exchange; any status is returned, transport errors raise OSError."""
    data = json.dumps(body) if body is not None else None
    headers = {"Accept": "application/json", "User-Agent": "ingest-smoke-test"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    reply = http(method, url, data, headers, timeout=timeout)
    try:
        parsed: Any = json.loads(reply.body) if reply.body else None
    except ValueError:
        parsed = reply.body.decode(errors="replace")
    return Response(status=reply.status, body=parsed, headers=reply.headers)


Sender = Callable[[str, Mapping[str, Any]], Response]


def http_sender(base_url: str, timeout: float) -> Sender:
    def send(path: str, event: Mapping[str, Any]) -> Response:
        return http_request("POST", _endpoint(base_url, path), dict(event), timeout=timeout)

    return send


def cli_sender(base_url: str, ingest: str, timeout: float) -> Sender:
    """Send with `ingest send --url URL FILE`, the way a producer would from a shell."""

    def send(path: str, event: Mapping[str, Any]) -> Response:
        if path != "/events":
            raise SmokeError(f"the CLI sender only posts to /events, not {path}")
        with tempfile.TemporaryDirectory() as tmp:
            event_file = Path(tmp) / "event.json"
            event_file.write_text(json.dumps(event), encoding="utf-8")
            try:
                result = subprocess.run(
                    [ingest, "send", "--url", base_url, str(event_file)],
                    capture_output=True,
                    text=True,
                    timeout=timeout * 3,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise TimeoutError(f"ingest send timed out after {exc.timeout}s") from exc
        try:
            body: Any = json.loads(result.stdout)
        except ValueError:
            body = result.stdout + result.stderr
        # The CLI prints the JSON answer on stdout and "HTTP <status>" on stderr; it exits
        # non-zero on a non-2xx answer.
        reported = re.search(r"^HTTP (\d{3})\b", result.stderr, re.MULTILINE)
        if reported:
            status = int(reported.group(1))
        elif result.returncode != 0:
            status = 599
        else:
            status = 200 if isinstance(body, dict) and body.get("duplicate") is True else 202
        return Response(status=status, body=body)

    return send


@dataclass
class SmokeTest:
    base_url: str
    sender: Sender
    attempts: int = 10
    delay: float = 3.0
    timeout: float = 10.0
    max_delay: float = 20.0
    max_wait: float = 180.0
    log: list[str] = field(default_factory=list)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def _note(self, line: str) -> None:
        self.log.append(line)
        print(line, flush=True)

    def _retrying(self, what: str, call: Callable[[], Response]) -> Response:
        """``call()`` until it answers neither 404 nor 5xx, within the attempts and max_wait."""
        last = "no attempt made"
        deadline = self.clock() + self.max_wait
        delay = self.delay
        attempt = 0
        while True:
            attempt += 1
            try:
                response = call()
            except OSError as exc:  # connection refused, DNS not yet propagated, timeouts
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status < 500 and response.status != 404:
                    return response
                last = f"HTTP {response.status}: {response.body!r}"
            wait = min(delay, self.max_delay)
            if attempt >= self.attempts or self.clock() + wait > deadline:
                raise SmokeError(f"{what}: gave up after {attempt} attempts ({last})")
            self._note(f"  {what}: attempt {attempt} failed ({last}); retrying in {wait:g}s")
            self.sleep(wait)
            delay *= 2

    def check_health(self) -> None:
        url = _endpoint(self.base_url, "/health")
        response = self._retrying(
            "GET /health", lambda: http_request("GET", url, timeout=self.timeout)
        )
        if response.status != 200 or response.body != {"status": "ok"}:
            raise SmokeError(f"GET /health: expected 200 {{'status': 'ok'}}, got {response}")
        self._note("ok   GET /health -> 200 {'status': 'ok'}")

    def check_event_roundtrip(self) -> str:
        event = {
            "id": f"smoke-{uuid.uuid4()}",
            "source": SMOKE_SOURCE,
            "type": SMOKE_TYPE,
            "data": {"run": os.environ.get("GITHUB_RUN_ID", "local"), "amount": 12.50},
        }
        first = self._retrying("POST /events", lambda: self.sender("/events", event))
        body = first.body
        if first.status != 202 or not isinstance(body, dict):
            raise SmokeError(f"POST /events: expected 202 with a JSON object, got {first}")
        event_id, received_at = body.get("event_id"), body.get("received_at")
        if not isinstance(event_id, str) or not event_id or not isinstance(received_at, str):
            raise SmokeError(f"POST /events: missing event_id/received_at in {body!r}")
        self._note(f"ok   POST /events -> 202 event_id={event_id}")

        again = self._retrying("POST /events (repeat)", lambda: self.sender("/events", event))
        repeat = again.body
        if (
            again.status != 200
            or not isinstance(repeat, dict)
            or repeat.get("duplicate") is not True
            or repeat.get("event_id") != event_id
        ):
            raise SmokeError(
                f"POST /events (repeat): expected 200 duplicate of {event_id}, got {again}"
            )
        self._note("ok   POST /events again -> 200 duplicate, same event_id")
        return event_id

    def check_validation(self) -> None:
        url = _endpoint(self.base_url, "/events")
        bad = {"source": SMOKE_SOURCE, "data": {}}
        response = self._retrying(
            "POST /events (invalid)",
            lambda: http_request("POST", url, bad, timeout=self.timeout),
        )
        body = response.body
        if (
            response.status != 422
            or not isinstance(body, dict)
            or not isinstance(body.get("error"), dict)
        ):
            raise SmokeError(f"POST /events without type: expected 422 error, got {response}")
        self._note("ok   POST /events without type -> 422 error")

    def run(self) -> bool:
        self._note(f"smoke test of {self.base_url}")
        try:
            self.check_health()
            self.check_event_roundtrip()
            self.check_validation()
        except SmokeError as exc:
            self._note(f"FAIL {exc}")
            return False
        self._note("smoke test passed")
        return True


def _summary(test: SmokeTest, passed: bool, label: str | None) -> str:
    title = "passed" if passed else "FAILED"
    icon = "✅" if passed else "❌"
    name = f" `{label}`" if label else ""
    lines = "\n".join(test.log)
    return f"### {icon} Smoke test{name} {title}\n\n{test.base_url}\n\n```\n{lines}\n```\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smoke", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="base URL of the API (the api_endpoint)")
    parser.add_argument("--environment", help="label for the report")
    parser.add_argument("--attempts", type=int, default=10, help="tries per request")
    parser.add_argument(
        "--delay", type=float, default=3.0, help="seconds before the first retry (then doubling)"
    )
    parser.add_argument("--max-delay", type=float, default=20.0, help="longest wait between tries")
    parser.add_argument(
        "--max-wait", type=float, default=180.0, help="seconds to keep retrying one request"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("--via-cli", action="store_true", help="send events with `ingest send`")
    parser.add_argument("--ingest", help="path of the ingest CLI (default: on PATH or .venv)")
    args = parser.parse_args(argv)

    try:
        _endpoint(args.url, "/")
    except SmokeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sender: Sender
    if args.via_cli:
        ingest = args.ingest or shutil.which("ingest") or ".venv/bin/ingest"
        if not Path(ingest).exists() and not shutil.which(ingest):
            print(f"error: ingest CLI not found ({ingest})", file=sys.stderr)
            return 1
        sender = cli_sender(args.url, ingest, args.timeout)
    else:
        sender = http_sender(args.url, args.timeout)
    test = SmokeTest(
        base_url=args.url,
        sender=sender,
        attempts=max(1, args.attempts),
        delay=args.delay,
        timeout=args.timeout,
        max_delay=args.max_delay,
        max_wait=args.max_wait,
    )
    passed = test.run()
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(_summary(test, passed, args.environment))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
