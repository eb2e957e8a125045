"""A local API Gateway (HTTP API, payload 2.0) in front of the real Lambda handler.

Each HTTP request becomes the event API Gateway would send; the handler's answer goes back as
the HTTP response.

One thread reads every connection (non-blocking, ``selectors``) until it holds a whole request:
the request line, the headers and the body, each bounded in size and in time. Only then does a
request reach a small pool of worker threads that run the handler, so a slow, stalled or hostile
client costs a socket and a bounded buffer, never a thread. Whatever a client sends, it gets
either the handler's answer or the contract's JSON error (400, 408, 413, 414 or 431), and the
connection is closed after any framing error. See docs/decisions/0007.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import queue
import re
import selectors
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from ingest.errors import error_body as error_document
from ingest.limits import MAX_BODY_BYTES, MAX_INVOKED_BODY_BYTES, MAX_WEBHOOK_BYTES
from ingest.routes import route_key_for

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

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


# --------------------------------------------------------------------------------------------
# Limits


@dataclass(frozen=True)
class Limits:
    """What one client may send, and for how long. Tests shorten the timeouts (``from_env``)."""

    header_timeout: float = 10.0  # from waiting for a request (connect, or the previous answer)
    body_timeout: float = 10.0  # from the end of the headers to the last byte of the body
    write_timeout: float = 10.0  # for the client to take its answer
    linger: float = 2.0  # after a refusal, reading (and dropping) what the client still sends
    linger_bytes: int = 8 * MAX_BODY_BYTES
    max_connections: int = 256  # open at once; idle and slow ones make room for new ones
    workers: int = 32  # handler threads
    max_body: int = MAX_BODY_BYTES  # the largest body of /events (and of every other route)
    # /webhooks/{source}: what can reach the function in AWS (Lambda's request less the event);
    # the handler refuses what is over its own limit, MAX_WEBHOOK_BYTES (docs/decisions/0034).
    max_webhook_body: int = MAX_INVOKED_BODY_BYTES
    max_request_line: int = 16 * 1024
    max_header_bytes: int = 64 * 1024  # the header section, after the request line
    max_headers: int = 100
    max_chunk_line: int = 4 * 1024  # a chunk-size line with its extensions
    max_chunk_overhead: int = 256 * 1024  # chunk-size lines, CRLFs and trailers of one body
    buffered_budget: int = 32 * MAX_BODY_BYTES  # request bodies held at once, all connections

    _ENV: ClassVar[dict[str, str]] = {
        "header_timeout": "INGEST_LOCAL_HEADER_TIMEOUT",
        "body_timeout": "INGEST_LOCAL_BODY_TIMEOUT",
        "write_timeout": "INGEST_LOCAL_WRITE_TIMEOUT",
        "linger": "INGEST_LOCAL_LINGER",
        "max_connections": "INGEST_LOCAL_MAX_CONNECTIONS",
        "workers": "INGEST_LOCAL_WORKERS",
        "buffered_budget": "INGEST_LOCAL_BUFFERED_BUDGET",
    }

    def body_limit(self, target: bytes) -> int:
        """The largest body the route of ``target`` accepts, as API Gateway and Lambda would."""
        return self.max_webhook_body if _is_webhook(target) else self.max_body

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """Defaults, with the few ``INGEST_LOCAL_*`` overrides the tests use."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        kinds = {f.name: f.type for f in fields(cls)}
        for name, variable in cls._ENV.items():
            raw = env.get(variable, "").strip()
            if not raw:
                continue
            try:
                value = float(raw) if kinds[name] in ("float", float) else int(raw)
            except ValueError:
                raise ValueError(f"{variable} must be a number, not {raw!r}") from None
            if value <= 0:
                raise ValueError(f"{variable} must be positive, not {raw!r}")
            values[name] = value
        return cls(**values)


# --------------------------------------------------------------------------------------------
# Parsing (all in the reading thread; every step bounded by Limits)

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TARGET = re.compile(rb"[\x21-\x7e]+")
_VERSION = re.compile(rb"HTTP/([0-9])\.([0-9])")
_BAD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_MAX_BLANK_LINES = 8  # empty lines tolerated before a request line (RFC 9112 §2.2)
_MAX_SIZE_DIGITS = 15  # more (after leading zeros) is beyond any limit here


class Refusal(Exception):
    """A request the gateway answers itself with the contract's error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _bad(message: str) -> Refusal:
    return Refusal(400, "bad_request", message)


def _is_webhook(target: bytes) -> bool:
    return urlsplit(target.decode("ascii", "replace")).path.startswith("/webhooks/")


def _too_large(target: bytes, limits: Limits) -> Refusal:
    # The handler's own wording for the route, so a client sees one answer whoever refused.
    if _is_webhook(target):
        message = f"a webhook body may be at most {MAX_WEBHOOK_BYTES} bytes"
    else:
        message = f"the request body may be at most {limits.max_body} bytes"
    return Refusal(413, "payload_too_large", message)


@dataclass
class Head:
    method: str
    target: str
    raw_target: bytes
    version: tuple[int, int]
    headers: list[tuple[str, str]]  # lower-cased names, in order

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name]

    def tokens(self, name: str) -> list[str]:
        return [part.strip().lower() for value in self.values(name) for part in value.split(",")]

    @property
    def request_line(self) -> str:
        return f"{self.method} {self.target} HTTP/{self.version[0]}.{self.version[1]}"


def parse_head(raw: bytes, limits: Limits) -> Head:
    """The request line and header fields of ``raw`` (without the blank line that ends it)."""
    lines = [line.removesuffix(b"\r") for line in raw.split(b"\n")]
    if any(b"\r" in line for line in lines):
        raise _bad("a bare CR in the request head")
    method, target, minor = _request_line(lines[0], limits)
    return Head(
        method=method.decode("ascii"),
        target=target.decode("ascii"),
        raw_target=target,
        version=(1, minor),
        headers=_header_fields(lines[1:], limits),
    )


def _request_line(line: bytes, limits: Limits) -> tuple[bytes, bytes, int]:
    if len(line) > limits.max_request_line:
        raise Refusal(
            414, "uri_too_long", f"the request line may be at most {limits.max_request_line} bytes"
        )
    parts = line.split(b" ")
    if len(parts) != 3:
        raise _bad("the request line must be: METHOD SP target SP HTTP-version")
    method, target, version = parts
    if not _TOKEN.fullmatch(method):
        raise _bad("the method is not a token")
    if not _TARGET.fullmatch(target):
        raise _bad("the request target must be printable ASCII without spaces")
    matched = _VERSION.fullmatch(version)
    if matched is None:
        raise _bad("the HTTP version is malformed")
    if matched.group(1) != b"1":
        raise _bad(f"{version.decode('ascii')} is not supported here; use HTTP/1.1")
    if target.startswith(b"//"):
        # A path, never a network location: "//host/events" is not "/events" (as http.server).
        target = b"/" + target.lstrip(b"/")
    return method, target, int(matched.group(2))


def _header_fields(lines: list[bytes], limits: Limits) -> list[tuple[str, str]]:
    if len(lines) > limits.max_headers:
        raise Refusal(
            431, "headers_too_large", f"a request may have at most {limits.max_headers} headers"
        )
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (b" ", b"\t"):
            raise _bad("folded header lines (obs-fold) are not accepted")
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise _bad("a header line is not NAME: value")
        value = value.strip(b" \t")
        if _BAD_VALUE.search(value):
            raise _bad("a header value holds a control character")
        headers.append((name.decode("ascii").lower(), value.decode("latin-1")))
    return headers


class ContentLengthBody:
    def __init__(self, length: int) -> None:
        self.remaining = length

    def feed(self, buffer: bytearray, body: bytearray) -> bool:
        taken = min(self.remaining, len(buffer))
        if taken:
            body += buffer[:taken]
            del buffer[:taken]
            self.remaining -= taken
        return self.remaining == 0


class ChunkedBody:
    """``Transfer-Encoding: chunked`` (RFC 9112 §7.1), strict: CRLFs, hex sizes, bounded."""

    _SIZE, _DATA, _DATA_END, _TRAILER = range(4)

    def __init__(self, limits: Limits, target: bytes) -> None:
        self.limits = limits
        self.target = target
        self.state = self._SIZE
        self.remaining = 0
        self.total = 0
        self.overhead = 0
        self.trailers = 0

    def _line(self, buffer: bytearray, limit: int) -> bytes | None:
        end = buffer.find(b"\n", 0, limit + 1)
        if end < 0:
            if len(buffer) > limit:
                raise _bad(f"a chunk-size or trailer line over {limit} bytes")
            return None
        if end == 0 or buffer[end - 1] != 0x0D:
            raise _bad("chunk-size and trailer lines must end with CRLF")
        line = bytes(buffer[: end - 1])
        del buffer[: end + 1]
        self.overhead += end + 1
        if self.overhead > self.limits.max_chunk_overhead:
            raise Refusal(
                413,
                "payload_too_large",
                f"chunk framing may take at most {self.limits.max_chunk_overhead} bytes",
            )
        if b"\r" in line:
            raise _bad("a bare CR in the chunked framing")
        return line

    def feed(self, buffer: bytearray, body: bytearray) -> bool:  # noqa: PLR0912
        while True:
            if self.state == self._SIZE:
                line = self._line(buffer, self.limits.max_chunk_line)
                if line is None:
                    return False
                size_text, _, extensions = line.partition(b";")
                size_text = size_text.rstrip(b" \t")
                if not _HEX.fullmatch(size_text):
                    raise _bad("a chunk size must be hexadecimal digits")
                if _BAD_VALUE.search(extensions):
                    raise _bad("a chunk extension holds a control character")
                if len(size_text.lstrip(b"0")) > _MAX_SIZE_DIGITS:
                    raise _too_large(self.target, self.limits)
                size = int(size_text, 16)
                if self.total + size > self.limits.body_limit(self.target):
                    raise _too_large(self.target, self.limits)
                self.total += size
                if size == 0:
                    self.state = self._TRAILER
                else:
                    self.remaining = size
                    self.state = self._DATA
            elif self.state == self._DATA:
                taken = min(self.remaining, len(buffer))
                if not taken:
                    return False
                body += buffer[:taken]
                del buffer[:taken]
                self.remaining -= taken
                if self.remaining == 0:
                    self.state = self._DATA_END
            elif self.state == self._DATA_END:
                if len(buffer) < 2:
                    if buffer and buffer[0] != 0x0D:
                        raise _bad("chunk data must end with CRLF")
                    return False
                if not buffer.startswith(b"\r\n"):
                    raise _bad("chunk data must end with CRLF (is the chunk size right?)")
                del buffer[:2]
                self.overhead += 2
                self.state = self._SIZE
            else:
                line = self._line(buffer, self.limits.max_chunk_line)
                if line is None:
                    return False
                if not line:
                    return True
                self.trailers += 1
                if self.trailers > self.limits.max_headers:
                    raise Refusal(
                        431,
                        "headers_too_large",
                        f"a request may have at most {self.limits.max_headers} trailer fields",
                    )
                name, colon, _ = line.partition(b":")
                if not colon or not _TOKEN.fullmatch(name):
                    raise _bad("a trailer line is not NAME: value")


def body_reader(head: Head, limits: Limits) -> ContentLengthBody | ChunkedBody:
    """How the body is framed (RFC 9112 §6.3), refusing anything ambiguous."""
    transfer = head.values("transfer-encoding")
    lengths = head.values("content-length")
    if transfer:
        if lengths:
            raise _bad("a request may not have both Content-Length and Transfer-Encoding")
        if head.version < (1, 1):
            raise _bad("Transfer-Encoding needs HTTP/1.1")
        codings = [token for token in head.tokens("transfer-encoding") if token]
        if codings != ["chunked"]:
            raise _bad("the only Transfer-Encoding accepted is chunked")
        return ChunkedBody(limits, head.raw_target)
    if not lengths:
        return ContentLengthBody(0)
    values = set(head.tokens("content-length"))
    if not all(value.isascii() and value.isdigit() for value in values):
        raise _bad("Content-Length must be a decimal number of bytes")
    numbers = {value.lstrip("0") or "0" for value in values}
    if len(numbers) > 1:
        raise _bad("conflicting Content-Length values")
    (number,) = numbers
    if len(number) > _MAX_SIZE_DIGITS or int(number) > limits.body_limit(head.raw_target):
        raise _too_large(head.raw_target, limits)
    return ContentLengthBody(int(number))


def _skip_blank_lines(connection: _Connection) -> bool:
    """Drop the empty lines a client may send before a request line; False: wait for more."""
    buffer = connection.buffer
    while buffer and buffer[0] in b"\r\n":
        if buffer.startswith(b"\r\n"):
            del buffer[:2]
        elif buffer.startswith(b"\n"):
            del buffer[:1]
        elif len(buffer) < 2:
            return False
        else:
            raise _bad("a bare CR before the request line")
        connection.blank_lines += 1
        if connection.blank_lines > _MAX_BLANK_LINES:
            raise _bad("too many empty lines before the request line")
    return True


def _check_head_size(buffer: bytearray, head_end: int, limits: Limits) -> None:
    """Refuse a request line or header section over its limit, complete or not."""
    line_end = buffer.find(b"\n", 0, head_end)
    if (line_end < 0 and head_end > limits.max_request_line) or (
        line_end > limits.max_request_line
    ):
        raise Refusal(
            414, "uri_too_long", f"the request line may be at most {limits.max_request_line} bytes"
        )
    if line_end >= 0 and head_end - line_end > limits.max_header_bytes:
        raise Refusal(
            431,
            "headers_too_large",
            f"the headers may take at most {limits.max_header_bytes} bytes",
        )


def _expects_continue(head: Head) -> bool:
    return head.version >= (1, 1) and "100-continue" in head.tokens("expect")


# --------------------------------------------------------------------------------------------
# Answers


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _clean(text: str) -> str | None:
    return None if any(ch in text for ch in "\r\n\0") else text


def render(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    head_only: bool,
    close: bool,
    keep_alive: bool = False,
) -> bytes:
    lines = [
        f"HTTP/1.1 {status} {_reason(status)}",
        "Server: ingest-local",
        f"Date: {formatdate(usegmt=True)}",
    ]
    for name, value in headers.items():
        if name.lower() in ("content-length", "connection", "transfer-encoding"):
            continue
        clean_name, clean_value = _clean(name), _clean(value)
        if clean_value is None or not clean_name:
            continue  # never let a value split the answer
        if _TOKEN.fullmatch(clean_name.encode("latin-1", "replace")):
            lines.append(f"{clean_name}: {clean_value}")
    lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    elif keep_alive:
        lines.append("Connection: keep-alive")  # HTTP/1.0 clients close unless told otherwise
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
    return head if head_only else head + body


def error_body(code: str, message: str) -> bytes:
    """The contract's error body, as the handler writes it."""
    return json.dumps(error_document(code, message), separators=(",", ":")).encode()


# --------------------------------------------------------------------------------------------
# Connections


class _State:
    HEAD = "head"  # waiting for (the rest of) a request line and headers
    BODY = "body"
    HANDLING = "handling"  # a worker runs the handler; nothing is read meanwhile
    WRITING = "writing"
    LINGER = "linger"  # refused: the answer is sent, what still arrives is dropped
    PAUSED = "paused"  # reading a body, held back while others' bodies fill the budget


class _Connection:
    def __init__(self, sock: socket.socket, address: str, now: float, deadline: float) -> None:
        self.sock = sock
        self.address = address
        self.buffer = bytearray()
        self.events = 0
        self.lingered = 0
        self.closed = False
        self.out = memoryview(b"")
        self.close_after = False
        self.linger_after = False
        self.next_request(now, deadline)

    def next_request(self, now: float, deadline: float) -> None:
        """Wait for a request (the first, or the next on a keep-alive connection)."""
        self.state = _State.HEAD
        self.deadline = deadline
        self.waiting_since = now
        self.started = False
        self.scanned = 0
        self.blank_lines = 0
        self.head: Head | None = None
        self.reader: ContentLengthBody | ChunkedBody | None = None
        self.body = bytearray()
        self.held = 0  # bytes of this request counted against the buffered budget


@dataclass
class _Done:
    connection: _Connection
    answer: bytes
    close: bool
    status: int


class LocalGateway:
    """The server: ``serve_forever``/``shutdown``/``server_close`` as with ``socketserver``."""

    def __init__(
        self,
        host: str,
        port: int,
        handler: Handler,
        *,
        quiet: bool = False,
        limits: Limits | None = None,
    ) -> None:
        self.limits = limits or Limits.from_env()
        self._handler = handler
        self._quiet = quiet
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.socket = socket.create_server((host, port), family=family, backlog=128)
        self.socket.setblocking(False)
        self.server_address: tuple[Any, ...] = self.socket.getsockname()
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._done: queue.SimpleQueue[_Done] = queue.SimpleQueue()
        self._pool = ThreadPoolExecutor(self.limits.workers, thread_name_prefix="gateway")
        self._connections: set[_Connection] = set()
        self._paused: list[_Connection] = []
        self._buffered = 0
        self._listening = False
        self._resume_at = float("inf")
        self._stop = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._listen(True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- lifecycle ---------------------------------------------------------------------------

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self._stopped.clear()
        next_sweep = 0.0
        try:
            while not self._stop.is_set():
                for key, mask in self._selector.select(min(poll_interval, 0.25)):
                    if key.fileobj is self.socket:
                        self._accept()
                    elif key.data is None:
                        self._drain_wakeups()
                    else:
                        self._event(key.data, mask)
                self._finish_done()
                now = time.monotonic()
                if now >= next_sweep:
                    self._sweep(now)
                    next_sweep = now + 0.1
        finally:
            self._stopped.set()

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (from another thread) and wait until it has returned."""
        self._stop.set()
        self._wake()
        self._stopped.wait()

    def server_close(self) -> None:
        self._listen(False)
        self.socket.close()
        for connection in list(self._connections):
            self._close(connection)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._selector.close()
        self._wake_read.close()
        self._wake_write.close()

    # -- the reading thread ------------------------------------------------------------------

    def _listen(self, on: bool) -> None:
        if on and not self._listening and self.socket.fileno() >= 0:
            self._selector.register(self.socket, selectors.EVENT_READ, None)
            self._listening = True
        elif not on and self._listening:
            self._selector.unregister(self.socket)
            self._listening = False

    def _accept(self) -> None:
        for attempt in range(64):
            # The listener is readable, so the first attempt has a client waiting: make room
            # for it. Later attempts may find none, so they never close anyone to make room.
            if len(self._connections) >= self.limits.max_connections and (
                attempt > 0 or not self._evict()
            ):
                # The backlog waits until a connection ends, or one becomes evictable.
                self._listen(False)
                self._resume_at = time.monotonic() + 0.1
                return
            try:
                sock, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:  # e.g. out of file descriptors: pause, and try again shortly
                self._listen(False)
                self._resume_at = time.monotonic() + 0.5
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            now = time.monotonic()
            connection = _Connection(sock, str(address[0]), now, now + self.limits.header_timeout)
            self._connections.add(connection)
            self._want(connection, selectors.EVENT_READ)

    def _evict(self) -> bool:
        """Make room: close the longest-idle connection, else the slowest unfinished head."""
        now = time.monotonic()
        heads = [c for c in self._connections if c.state == _State.HEAD]
        idle = [c for c in heads if not c.started]
        slow = [
            c
            for c in heads
            if c.started and now - c.waiting_since > min(1.0, self.limits.header_timeout / 2)
        ]
        for candidates in (idle, slow):
            if candidates:
                victim = min(candidates, key=lambda c: c.waiting_since)
                if victim.started:
                    self._best_effort(victim, 408, "request_timeout", "the headers came too slowly")
                self._close(victim)
                return True
        return False

    def _want(self, connection: _Connection, events: int) -> None:
        if connection.closed or connection.events == events:
            return
        if connection.events and events:
            self._selector.modify(connection.sock, events, connection)
        elif events:
            self._selector.register(connection.sock, events, connection)
        else:
            self._selector.unregister(connection.sock)
        connection.events = events

    def _event(self, connection: _Connection, mask: int) -> None:
        if connection.closed:
            return
        try:
            if mask & selectors.EVENT_WRITE:
                self._write(connection)
            elif mask & selectors.EVENT_READ:
                self._read(connection)
        except Exception:  # a bug here must cost one connection, never the server
            self._log_error(connection)
            self._close(connection)

    def _read(self, connection: _Connection) -> None:
        if connection.state == _State.BODY and self._buffered >= self.limits.buffered_budget:
            connection.state = _State.PAUSED
            self._want(connection, 0)
            self._paused.append(connection)
            return
        try:
            data = connection.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close(connection)
            return
        if connection.state == _State.LINGER:
            connection.lingered += len(data)
            if not data or connection.lingered > self.limits.linger_bytes:
                self._close(connection)
            return
        if not data:
            if connection.state == _State.HEAD and not connection.started:
                self._close(connection)  # the client is done with this connection
            else:
                where = "headers" if connection.state == _State.HEAD else "body"
                self._refuse(connection, _bad(f"the connection ended before the {where} did"))
            return
        connection.started = True
        connection.buffer += data
        self._advance(connection)

    def _advance(self, connection: _Connection) -> None:
        """Parse what the connection has buffered; dispatch a whole request."""
        try:
            if connection.state == _State.HEAD and not self._read_head(connection):
                return
            if connection.state == _State.BODY:
                reader = connection.reader
                assert reader is not None
                before = len(connection.body)
                complete = reader.feed(connection.buffer, connection.body)
                grown = len(connection.body) - before
                connection.held += grown
                self._buffered += grown
                if complete:
                    self._dispatch(connection)
        except Refusal as refusal:
            self._refuse(connection, refusal)

    def _read_head(self, connection: _Connection) -> bool:
        buffer, limits = connection.buffer, self.limits
        if not _skip_blank_lines(connection):
            return False
        start = max(0, connection.scanned - 2)
        ends = [(i, i + len(m)) for m in (b"\n\r\n", b"\n\n") if (i := buffer.find(m, start)) >= 0]
        if not ends:
            connection.scanned = len(buffer)
            _check_head_size(buffer, len(buffer), limits)
            return False
        head_end, body_start = min(ends)
        _check_head_size(buffer, head_end, limits)
        raw = bytes(buffer[:head_end])
        del buffer[:body_start]
        head = parse_head(raw, limits)
        connection.head = head
        reader = body_reader(head, limits)
        connection.reader = reader
        connection.state = _State.BODY
        connection.deadline = time.monotonic() + limits.body_timeout
        waiting = isinstance(reader, ChunkedBody) or reader.remaining > 0
        if waiting and not buffer and _expects_continue(head):
            # The client waits for this go-ahead before it sends the body.
            self._send_now(connection, b"HTTP/1.1 100 Continue\r\n\r\n")
        return True

    @staticmethod
    def _send_now(connection: _Connection, data: bytes) -> None:
        with contextlib.suppress(OSError):  # the deadline or the next read will notice
            connection.sock.send(data)

    def _dispatch(self, connection: _Connection) -> None:
        head = connection.head
        assert head is not None
        connection.state = _State.HANDLING
        connection.deadline = float("inf")
        self._want(connection, 0)
        connection.close_after = self._closes(head)
        body = bytes(connection.body)
        connection.body = bytearray()
        self._pool.submit(self._work, connection, head, body)

    @staticmethod
    def _closes(head: Head) -> bool:
        tokens = head.tokens("connection")
        if head.version < (1, 1):
            return "keep-alive" not in tokens
        return "close" in tokens

    def _refuse(self, connection: _Connection, refusal: Refusal) -> None:
        """Answer with the contract's error and close, reading what still comes in meanwhile."""
        self._release(connection)
        head = connection.head
        answer = render(
            refusal.status,
            {"Content-Type": "application/json"},
            error_body(refusal.code, refusal.message),
            head_only=head is not None and head.method == "HEAD",
            close=True,
        )
        self._log(connection, refusal.status, len(answer))
        self._start_write(connection, answer, close=True, linger=refusal.status != 408)

    def _best_effort(self, connection: _Connection, status: int, code: str, message: str) -> None:
        answer = render(
            status,
            {"Content-Type": "application/json"},
            error_body(code, message),
            head_only=False,
            close=True,
        )
        self._log(connection, status, len(answer))
        self._send_now(connection, answer)

    def _start_write(
        self, connection: _Connection, answer: bytes, *, close: bool, linger: bool
    ) -> None:
        connection.state = _State.WRITING
        connection.out = memoryview(answer)
        connection.close_after = close
        connection.linger_after = linger
        connection.deadline = time.monotonic() + self.limits.write_timeout
        self._write(connection)

    def _write(self, connection: _Connection) -> None:
        if connection.state != _State.WRITING:
            return
        try:
            sent = connection.sock.send(connection.out)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            self._close(connection)
            return
        connection.out = connection.out[sent:]
        if connection.out:
            self._want(connection, selectors.EVENT_WRITE)
            return
        now = time.monotonic()
        if connection.close_after:
            if connection.linger_after:
                self._linger(connection, now)
            else:
                self._close(connection)
            return
        connection.next_request(now, now + self.limits.header_timeout)
        self._want(connection, selectors.EVENT_READ)
        if connection.buffer:  # a pipelined request is already here
            connection.started = True
            self._advance(connection)

    def _linger(self, connection: _Connection, now: float) -> None:
        try:
            connection.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._close(connection)
            return
        connection.state = _State.LINGER
        connection.buffer = bytearray()
        connection.deadline = now + self.limits.linger
        self._want(connection, selectors.EVENT_READ)

    def _release(self, connection: _Connection) -> None:
        self._buffered -= connection.held
        connection.held = 0
        connection.body = bytearray()
        if self._paused and self._buffered < self.limits.buffered_budget:
            paused, self._paused = self._paused, []
            for other in paused:
                if not other.closed and other.state == _State.PAUSED:
                    other.state = _State.BODY
                    self._want(other, selectors.EVENT_READ)

    def _close(self, connection: _Connection) -> None:
        if connection.closed:
            return
        self._release(connection)
        self._want(connection, 0)
        connection.closed = True
        self._connections.discard(connection)
        with contextlib.suppress(OSError):
            connection.sock.close()
        if not self._stop.is_set():
            self._listen(True)

    def _sweep(self, now: float) -> None:
        if not self._listening and now >= self._resume_at:
            self._resume_at = float("inf")
            self._listen(True)
        for connection in list(self._connections):
            if now < connection.deadline or connection.closed:
                continue
            state = connection.state
            if state == _State.HEAD and not connection.started:
                self._close(connection)  # an idle connection: nothing to answer
            elif state in (_State.HEAD, _State.BODY, _State.PAUSED):
                where = "headers" if state == _State.HEAD else "body"
                self._refuse(
                    connection,
                    Refusal(408, "request_timeout", f"the request {where} did not arrive in time"),
                )
            else:
                self._close(connection)  # a client that does not read its answer, or lingering

    # -- workers -----------------------------------------------------------------------------

    def _work(self, connection: _Connection, head: Head, body: bytes) -> None:
        status, close = 500, connection.close_after
        try:
            headers: dict[str, str] = {}
            for key, value in head.headers:
                headers[key] = f"{headers[key]},{value}" if key in headers else value
            event = to_event(head.method, head.target, headers, body, connection.address)
            del body
            started = time.perf_counter()
            result = self._handler(event, LambdaContext(event["requestContext"]["requestId"]))
            out_headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
            out_headers.setdefault("apigw-requestid", event["requestContext"]["requestId"])
            out_headers.setdefault("x-handler-ms", f"{(time.perf_counter() - started) * 1000:.2f}")
            raw = result.get("body") or ""
            payload = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
            status = int(result.get("statusCode", 200))
            if not 200 <= status <= 599:
                raise ValueError(f"the handler answered status {status}")
            answer = render(
                status,
                out_headers,
                payload,
                head_only=head.method == "HEAD",
                close=close,
                keep_alive=head.version < (1, 1),
            )
        except Exception:
            traceback.print_exc(file=sys.stderr)
            status = 500
            answer = render(
                500,
                {"Content-Type": "application/json"},
                error_body("internal_error", "the handler failed; see the server's log"),
                head_only=head.method == "HEAD",
                close=close,
            )
        self._done.put(_Done(connection, answer, close, status))
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # already woken (buffer full), or closing
            self._wake_write.send(b"\0")

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_read.recv(4096):
                pass
        except OSError:
            pass

    def _finish_done(self) -> None:
        while True:
            try:
                done = self._done.get_nowait()
            except queue.Empty:
                return
            connection = done.connection
            if connection.closed:
                continue
            self._release(connection)
            self._log(connection, done.status, len(done.answer))
            self._start_write(connection, done.answer, close=done.close, linger=False)

    # -- logging -----------------------------------------------------------------------------

    def _log(self, connection: _Connection, status: int, size: int) -> None:
        if self._quiet:
            return
        line = connection.head.request_line if connection.head is not None else "-"
        stamp = time.strftime("%d/%b/%Y %H:%M:%S")
        sys.stderr.write(f'{connection.address} - - [{stamp}] "{line}" {status} {size}\n')

    def _log_error(self, connection: _Connection) -> None:
        sys.stderr.write(f"error serving {connection.address}:\n")
        traceback.print_exc(file=sys.stderr)
