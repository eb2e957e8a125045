"""Stand-ins shared by the tests of scripts/ci."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scripts.harness import LocalHTTP, QuietHandler

# A least-privilege workflow of one job, `build`, up to its steps: add `      - run: ...` lines.
WORKFLOW_HEAD = """\
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    steps:
"""

FAKE_TERRAFORM = r'''#!{python}
"""Stand-in for the terraform binary: records its calls, behaves as FAKE_TF_* says."""
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_TF_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({{"cwd": os.getcwd(), "args": args,
                          "data_dir": os.environ.get("TF_DATA_DIR")}}) + "\n")
command = args[0] if args else ""
if command == "plan":
    code = int(os.environ.get("FAKE_TF_PLAN_EXIT", "2"))
    if code in (0, 2):
        out = next(a.split("=", 1)[1] for a in args if a.startswith("-out="))
        with open(out, "wb") as handle:
            handle.write(b"binary plan " + str(code).encode())
        print("Terraform will perform the following actions:")
    else:
        print("Error: Invalid provider configuration", file=sys.stderr)
    sys.exit(code)
if command == "show":
    print(os.environ.get("FAKE_TF_SHOW", "Plan: 1 to add, 0 to change, 0 to destroy."))
    sys.exit(0)
if command == "output":
    print(os.environ.get("FAKE_TF_OUTPUT", "https://abc.execute-api.eu-west-1.amazonaws.com"), end="")
    sys.exit(0)
if command == "providers":
    os.makedirs(args[-1], exist_ok=True)
sys.exit(int(os.environ.get("FAKE_TF_EXIT_" + command.upper(), "0")))
'''


class FakeTerraform:
    def __init__(self, path: Path, log: Path) -> None:
        self.path = path
        self.log = log

    def calls(self) -> list[dict[str, object]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def commands(self) -> list[list[str]]:
        return [[str(a) for a in call["args"]] for call in self.calls()]  # type: ignore[attr-defined]


class FakeGitHub(LocalHTTP):
    """In-memory issue comments behind a loopback HTTP server speaking the REST API subset."""

    def __init__(self) -> None:
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.next_id = 1000
        self.fail_with: int | None = None
        super().__init__(self._handler())

    def add(self, number: int, body: str) -> int:
        self.next_id += 1
        self.comments.setdefault(number, []).append({"id": self.next_id, "body": body})
        return self.next_id

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(QuietHandler):
            def _reply(self, status: int, payload: Any = None) -> None:
                self.send_json(status, payload)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body: Any = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append((self.command, self.path, dict(self.headers.items()), body))
                if fake.fail_with:
                    self._reply(fake.fail_with, {"message": "nope"})
                    return
                if self.headers.get("Authorization") != "Bearer test-token":
                    self._reply(401, {"message": "Bad credentials"})
                    return
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                segments = parts.path.strip("/").split("/")
                # /repos/{o}/{r}/issues/{n}/comments  or  /repos/{o}/{r}/issues/comments/{id}
                if segments[3:4] == ["issues"] and segments[-1] == "comments":
                    number = int(segments[4])
                    if self.command == "GET":
                        per_page = int(query.get("per_page", ["30"])[0])
                        page = int(query.get("page", ["1"])[0])
                        items = fake.comments.get(number, [])
                        self._reply(200, items[(page - 1) * per_page : page * per_page])
                        return
                    if self.command == "POST":
                        comment_id = fake.add(number, body["body"])
                        self._reply(201, {"id": comment_id, "body": body["body"]})
                        return
                if segments[3:5] == ["issues", "comments"]:
                    comment_id = int(segments[5])
                    for items in fake.comments.values():
                        for item in items:
                            if item["id"] == comment_id:
                                if self.command == "PATCH":
                                    item["body"] = body["body"]
                                    self._reply(200, item)
                                    return
                                if self.command == "DELETE":
                                    items.remove(item)
                                    self._reply(204)
                                    return
                self._reply(404, {"message": "Not Found"})

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

        return Handler


class StandInAPI(LocalHTTP):
    """A tiny stand-in for the ingest HTTP API (GET /health, POST /events with idempotency)."""

    def __init__(self) -> None:
        self.stored: dict[tuple[str, str], dict[str, Any]] = {}
        self.unavailable_for = 0  # answer 503 to this many requests first
        self.health_status = 200
        self.duplicate_status = 200
        self.requests: list[tuple[str, str]] = []
        super().__init__(self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(QuietHandler):
            def _reply(self, status: int, payload: Any) -> None:
                self.send_json(status, payload)

            def _error(self, status: int, code: str) -> None:
                self._reply(status, {"error": {"code": code, "message": code, "details": []}})

            def do_GET(self) -> None:
                api.requests.append(("GET", self.path))
                if api.unavailable_for > 0:
                    api.unavailable_for -= 1
                    self._error(503, "unavailable")
                elif self.path == "/health":
                    self._reply(api.health_status, {"status": "ok"})
                else:
                    self._error(404, "not_found")

            def do_POST(self) -> None:
                api.requests.append(("POST", self.path))
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if api.unavailable_for > 0:
                    api.unavailable_for -= 1
                    self._error(503, "unavailable")
                    return
                if self.path != "/events":
                    self._error(404, "not_found")
                    return
                event = json.loads(raw)
                if not isinstance(event.get("type"), str) or not event["type"]:
                    self._error(422, "invalid_event")
                    return
                key = (event.get("source", "default"), event.get("id", ""))
                if key in api.stored:
                    self._reply(api.duplicate_status, {**api.stored[key], "duplicate": True})
                    return
                record = {
                    "event_id": f"evt-{len(api.stored) + 1:04d}",
                    "received_at": "2026-01-01T00:00:00.000Z",
                }
                api.stored[key] = record
                self._reply(202, record)

        return Handler
