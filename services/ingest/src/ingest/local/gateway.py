"""A local API Gateway (HTTP API, payload 2.0) in front of the real Lambda handler.

Each HTTP request becomes the event API Gateway would send; the handler's answer goes back as
the HTTP response. Requests run concurrently on a thread each.
"""

from __future__ import annotations

import base64
import itertools
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ingest.routes import route_key_for

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# API Gateway's own payload limit; the handler enforces the product's smaller limits.
MAX_PAYLOAD_BYTES = 10 * 1024 * 1024
_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded", "+json", "xml")
_counter = itertools.count()


class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name = "ingest-local"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:ingest-local"
    memory_limit_in_mb = 512

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def _is_text(content_type: str, body: bytes) -> bool:
    lowered = content_type.lower()
    if not any(marker in lowered for marker in _TEXT_TYPES):
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def to_event(
    method: str, target: str, headers: dict[str, str], body: bytes, client_ip: str
) -> dict[str, Any]:
    parts = urlsplit(target)
    now = datetime.now(tz=UTC)
    request_id = f"local-{uuid.uuid4().hex[:16]}-{next(_counter)}"
    # As API Gateway does with the project's explicit routes (unknown paths: ``$default``,
    # which the handler answers 404 as API Gateway itself would).
    route_key = route_key_for(parts.path)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": client_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if parts.query:
        event["queryStringParameters"] = dict(parse_qsl(parts.query, keep_blank_values=True))
    if body:
        if _is_text(headers.get("content-type", "application/json"), body):
            event["body"] = body.decode("utf-8")
        else:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def make_request_handler(handler: Handler, quiet: bool) -> type[BaseHTTPRequestHandler]:
    class Gateway(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # one small answer per request: never wait for delayed ACKs
        server_version = "ingest-local"
        sys_version = ""

        def log_message(self, format: str, *args: Any) -> None:
            if not quiet:
                super().log_message(format, *args)

        def _read_body(self) -> bytes | None:
            if self.headers.get("transfer-encoding", "").lower() == "chunked":
                chunks: list[bytes] = []
                total = 0
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return b"".join(chunks)
                    total += size
                    if total > MAX_PAYLOAD_BYTES:
                        return None
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_PAYLOAD_BYTES:
                return None
            return self.rfile.read(length) if length > 0 else b""

        def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _dispatch(self) -> None:
            try:
                body = self._read_body()
            except ValueError:
                self.close_connection = True
                self._answer(
                    400, {"Content-Type": "application/json"}, b'{"message":"Bad Request"}'
                )
                return
            if body is None:
                self.close_connection = True
                self._answer(
                    413,
                    {"Content-Type": "application/json"},
                    b'{"message":"Request Entity Too Large"}',
                )
                return
            headers: dict[str, str] = {}
            for name, value in self.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            event = to_event(self.command, self.path, headers, body, self.client_address[0])
            started = time.perf_counter()
            result = handler(event, LambdaContext(event["requestContext"]["requestId"]))
            out_headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
            out_headers.setdefault("apigw-requestid", event["requestContext"]["requestId"])
            out_headers.setdefault("x-handler-ms", f"{(time.perf_counter() - started) * 1000:.2f}")
            raw = result.get("body") or ""
            payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
            self._answer(int(result.get("statusCode", 200)), out_headers, payload)

        def __getattr__(self, name: str) -> Any:
            # Every method reaches the handler (as with API Gateway), which answers 404/405 itself.
            if name.startswith("do_"):
                return self._dispatch
            raise AttributeError(name)

    return Gateway


class LocalGateway(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, handler: Handler, *, quiet: bool = False) -> None:
        super().__init__((host, port), make_request_handler(handler, quiet))

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"
