"""Hostile and broken HTTP framing against `ingest serve`, over raw sockets on 127.0.0.1.

Whatever a client sends, the local gateway answers with the contract's JSON error (400 malformed,
408 too slow, 413 over the body limit, 414/431 over the head limits) and closes the connection,
or it answers the request. It never hangs, never answers 5xx, never prints a traceback, and
neither memory nor threads grow with what clients send or how many stall.

The server under test has one-second read deadlines (``INGEST_LOCAL_*``) so timeouts are quick.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ingest.limits import MAX_BODY_BYTES, MAX_INVOKED_BODY_BYTES, MAX_WEBHOOK_BYTES

from tests.support import Server, start_server, stop_server

pytestmark = pytest.mark.slow

TIMEOUT = 1.0  # the server's header and body deadlines in this module
SLACK = 2.0  # scheduling slack on a busy two-core machine
MIB = 1024 * 1024
BUDGET = 8 * MIB  # request bodies the server may hold at once, all connections together
EVENT = b'{"type":"hardening.ok"}'


@pytest.fixture(scope="module")
def gateway() -> Iterator[Server]:
    srv, process = start_server(
        table="hardening",
        env={
            "INGEST_LOCAL_HEADER_TIMEOUT": str(TIMEOUT),
            "INGEST_LOCAL_BODY_TIMEOUT": str(TIMEOUT),
            "INGEST_LOCAL_LINGER": "0.5",
            "INGEST_LOCAL_BUFFERED_BUDGET": str(BUDGET),
        },
    )
    yield srv
    log = stop_server(process)
    assert "Traceback" not in log, log[-3000:]


# --------------------------------------------------------------------------------------------
# A raw HTTP client


@dataclass
class Answer:
    status: int | None  # None: the server closed without answering
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    interim: list[int] = field(default_factory=list)  # 1xx answers before the final one
    closed: bool = False  # the server closed the connection after answering
    seconds: float = 0.0
    rest: bytes = b""  # what came after the first final answer

    def error(self) -> dict[str, object]:
        assert self.headers.get("content-type") == "application/json", self
        document = json.loads(self.body)
        assert set(document) == {"error"}, document
        error: dict[str, object] = document["error"]
        assert set(error) == {"code", "message", "details"}, error
        assert error["details"] == []
        assert isinstance(error["message"], str)
        assert error["message"]
        return error


def port_of(server: Server) -> int:
    port = urlsplit(server.url).port
    assert port is not None
    return port


def connect(server: Server, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port_of(server)), timeout=timeout)


def parse(raw: bytes, closed: bool, seconds: float) -> Answer:
    interim: list[int] = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in lines[1:])
        }
        if 100 <= status < 200:
            interim.append(status)
            raw = rest
            continue
        length = int(headers.get("content-length", "0"))
        return Answer(status, headers, rest[:length], interim, closed, seconds, rest[length:])
    return Answer(None, interim=interim, closed=closed, seconds=seconds, rest=raw)


def read_all(sock: socket.socket, wait: float) -> tuple[bytes, bool]:
    """Everything the server sends until it closes (True) or ``wait`` seconds pass (False)."""
    sock.settimeout(wait)
    deadline = time.monotonic() + wait
    received = b""
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except TimeoutError:
            return received, False
        except ConnectionResetError:
            return received, True
        if not data:
            return received, True
        received += data
    return received, False


def exchange(server: Server, data: bytes, *, half_close: bool = False, wait: float = 8.0) -> Answer:
    started = time.monotonic()
    with connect(server) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may refuse before reading everything; its answer is what counts
        raw, closed = read_all(sock, wait)
    return parse(raw, closed, time.monotonic() - started)


def assert_refused(answer: Answer, status: int, code: str | None = None) -> None:
    assert answer.status == status, answer
    error = answer.error()
    if code is not None:
        assert error["code"] == code, error
    assert answer.closed, "the connection must be closed after a refusal"


def post(path: str, headers: str, body: bytes = b"") -> bytes:
    return f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode() + body


def chunked(body: bytes, path: str = "/events") -> bytes:
    return post(path, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", body)


def proc_status(server: Server, key: str) -> int:
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {key} for the server process")


def threads(server: Server) -> int:
    return proc_status(server, "Threads")


def peak_kib(server: Server) -> int:
    return proc_status(server, "VmHWM")


def open_files(server: Server) -> int:
    return len(list(Path(f"/proc/{server.process.pid}/fd").iterdir()))


def accepted(server: Server) -> Answer:
    body = EVENT
    request = post(
        "/events",
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n",
        body,
    )
    return exchange(server, request)


# --------------------------------------------------------------------------------------------
# Chunked framing


CHUNKED_ERRORS = [
    ("negative size", b"-1\r\n", 400),
    ("negative size after a chunk", b"2\r\n{}\r\n-100\r\n", 400),
    ("signed size", b"+2\r\n{}\r\n0\r\n\r\n", 400),
    ("0x prefix", b"0x2\r\n{}\r\n0\r\n\r\n", 400),
    ("non-hex size", b"zz\r\n", 400),
    ("underscore in size", b"1_0\r\n", 400),
    ("empty size line", b"\r\n{}\r\n0\r\n\r\n", 400),
    ("space inside the size", b"1 0\r\n", 400),
    ("size line without CR", b"2\n{}\r\n0\r\n\r\n", 400),
    ("data without CRLF", b"2\r\n{}XX0\r\n\r\n", 400),
    ("data ends with LF only", b"2\r\n{}\n0\r\n\r\n", 400),
    ("data longer than its size", b"1\r\n{}\r\n0\r\n\r\n", 400),
    ("extension with a control character", b"2;a=\x00\r\n{}\r\n0\r\n\r\n", 400),
    ("endless extension", b"2;" + b"x" * 20_000, 400),
    ("malformed trailer", b"0\r\nnot a trailer\r\n\r\n", 400),
    ("overflowing size", b"f" * 40 + b"\r\n", 413),
    ("one chunk over the cap", f"{MAX_BODY_BYTES + 1:x}\r\n".encode(), 413),
    (
        "chunks adding up over the cap",
        (f"{MIB // 2:x}\r\n".encode() + b"x" * (MIB // 2) + b"\r\n") * 3,
        413,
    ),
    ("too many chunk extensions", (b"1;" + b"e" * 4000 + b"\r\nx\r\n") * 100, 413),
    ("trailers that never end", b"0\r\n" + b"X-Trailer: y\r\n" * 5000, 431),
]


@pytest.mark.parametrize(
    ("body", "status"),
    [case[1:] for case in CHUNKED_ERRORS],
    ids=[case[0] for case in CHUNKED_ERRORS],
)
def test_chunked_framing_errors_are_refused_and_close(
    gateway: Server, body: bytes, status: int
) -> None:
    answer = exchange(gateway, chunked(body))
    assert_refused(answer, status)
    assert answer.seconds < TIMEOUT, "refused at once, not after a timeout"


def test_over_the_cap_names_the_route_limit(gateway: Server) -> None:
    events = exchange(gateway, chunked(f"{MAX_BODY_BYTES + 1:x}\r\n".encode()))
    assert_refused(events, 413, "payload_too_large")
    assert str(MAX_BODY_BYTES) in str(events.error()["message"])
    # Webhooks: what can reach the function in AWS (docs/decisions/0034), far above /events'.
    over = MAX_INVOKED_BODY_BYTES + 1
    hooks = exchange(gateway, chunked(f"{over:x}\r\n".encode(), "/webhooks/x"))
    assert_refused(hooks, 413, "payload_too_large")
    assert str(MAX_WEBHOOK_BYTES) in str(hooks.error()["message"])  # the handler's own words
    length = f"Content-Length: {over}\r\n"
    declared = exchange(gateway, f"POST /webhooks/x HTTP/1.1\r\nHost: t\r\n{length}\r\n".encode())
    assert_refused(declared, 413, "payload_too_large")


def test_well_formed_chunked_bodies_still_work(gateway: Server) -> None:
    pieces = [EVENT[:2], EVENT[2:6], EVENT[6:]]
    body = b"".join(
        f"{len(piece):x}{';ext=1' if n == 1 else ''}\r\n".encode() + piece + b"\r\n"
        for n, piece in enumerate(pieces)
    )
    request = chunked(body + b"0\r\nX-Checksum: none\r\n\r\n")
    answer = exchange(gateway, request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
    assert answer.status == 202, answer


@pytest.mark.parametrize(
    "framing",
    ["negative chunk size", "chunks over the cap", "Content-Length over the cap"],
)
def test_streaming_200_mib_keeps_memory_bounded(gateway: Server, framing: str) -> None:
    """The review's case: 200 MiB after a negative chunk size raised memory by 260 MiB."""
    block = f"{MIB:x}\r\n".encode() + b"x" * MIB + b"\r\n"
    heads = {
        "negative chunk size": chunked(b"-1\r\n"),
        "chunks over the cap": chunked(b""),
        "Content-Length over the cap": post("/events", f"Content-Length: {200 * MIB}\r\n"),
    }
    before = peak_kib(gateway)
    answer: list[bytes] = []
    with connect(gateway, timeout=10) as sock:
        sock.sendall(heads[framing])
        if framing == "negative chunk size":  # refused from the head alone
            answer.append(read_all(sock, 5)[0])
        sent = 0
        try:
            while sent < 200 * MIB:
                sock.sendall(block)
                sent += len(block)
        except OSError:
            pass  # the server stopped reading: what it had to say is already on the way
        if not answer:
            answer.append(read_all(sock, 5)[0])
    grown_mib = (peak_kib(gateway) - before) / 1024
    assert grown_mib < 32, f"{grown_mib:.0f} MiB more at the peak after {sent >> 20} MiB sent"
    assert sent < 200 * MIB, "the server must stop reading a refused body"
    status = parse(answer[0], True, 0).status
    assert status in (400, 413, None), answer[0][:200]  # None: reset before the answer was read
    assert accepted(gateway).status == 202


# --------------------------------------------------------------------------------------------
# Content-Length and Transfer-Encoding


FRAMING_ERRORS = [
    ("negative Content-Length", "Content-Length: -1\r\n", 400),
    ("non-numeric Content-Length", "Content-Length: abc\r\n", 400),
    ("empty Content-Length", "Content-Length:\r\n", 400),
    ("signed Content-Length", "Content-Length: +23\r\n", 400),
    ("hex Content-Length", "Content-Length: 0x17\r\n", 400),
    ("underscore Content-Length", "Content-Length: 2_3\r\n", 400),
    ("fractional Content-Length", "Content-Length: 23.0\r\n", 400),
    ("two different Content-Lengths", "Content-Length: 23\r\nContent-Length: 24\r\n", 400),
    ("a list of different Content-Lengths", "Content-Length: 23, 24\r\n", 400),
    (
        "Content-Length and Transfer-Encoding",
        "Content-Length: 23\r\nTransfer-Encoding: chunked\r\n",
        400,
    ),
    (
        "Transfer-Encoding and Content-Length",
        "Transfer-Encoding: chunked\r\nContent-Length: 23\r\n",
        400,
    ),
    ("gzip Transfer-Encoding", "Transfer-Encoding: gzip\r\n", 400),
    ("chunked then gzip", "Transfer-Encoding: chunked, gzip\r\n", 400),
    ("gzip then chunked", "Transfer-Encoding: gzip, chunked\r\n", 400),
    ("chunked twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400),
    ("identity Transfer-Encoding", "Transfer-Encoding: identity\r\n", 400),
    ("unknown Transfer-Encoding", "Transfer-Encoding: xchunked\r\n", 400),
    ("space before the colon", "Transfer-Encoding : chunked\r\n", 400),
    ("Content-Length over the cap", f"Content-Length: {MAX_BODY_BYTES + 1}\r\n", 413),
    ("Content-Length of 30 digits", "Content-Length: " + "9" * 30 + "\r\n", 413),
    ("Content-Length of 5000 digits", "Content-Length: " + "9" * 5000 + "\r\n", 413),
]


@pytest.mark.parametrize(
    ("headers", "status"),
    [case[1:] for case in FRAMING_ERRORS],
    ids=[case[0] for case in FRAMING_ERRORS],
)
def test_invalid_or_conflicting_framing_is_refused_and_closes(
    gateway: Server, headers: str, status: int
) -> None:
    answer = exchange(
        gateway, post("/events", "Content-Type: application/json\r\n" + headers, EVENT)
    )
    assert_refused(answer, status)
    assert answer.seconds < TIMEOUT


def test_chunked_needs_http_1_1(gateway: Server) -> None:
    request = b"POST /events HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    assert_refused(exchange(gateway, request), 400)


def test_repeated_equal_content_lengths_are_one_length(gateway: Server) -> None:
    headers = f"Content-Type: application/json\r\nContent-Length: {len(EVENT)}, {len(EVENT)}\r\n"
    answer = exchange(gateway, post("/events", headers + "Connection: close\r\n", EVENT))
    assert answer.status == 202, answer


def test_expect_continue_over_the_cap_is_refused_before_the_body(gateway: Server) -> None:
    headers = f"Content-Length: {MAX_BODY_BYTES + 1}\r\nExpect: 100-continue\r\n"
    answer = exchange(gateway, post("/events", headers))
    assert_refused(answer, 413)
    assert answer.interim == [], "no go-ahead for a body that will be refused"


# --------------------------------------------------------------------------------------------
# The request head


HEAD_ERRORS = [
    ("request line over the limit", b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
    ("request line that never ends", b"GET /" + b"a" * 200_000, 414),
    (
        "headers over the limit",
        b"GET /health HTTP/1.1\r\nX-Big: " + b"b" * 70_000 + b"\r\n\r\n",
        431,
    ),
    (
        "many headers over the limit",
        b"GET /health HTTP/1.1\r\n"
        + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 1000) for i in range(99))
        + b"\r\n",
        431,
    ),
    ("too many headers", b"GET /health HTTP/1.1\r\n" + b"X-A: b\r\n" * 150 + b"\r\n", 431),
    ("headers that never end", b"GET /health HTTP/1.1\r\n" + b"X-A: b\r\n" * 20_000, 431),
    ("no version", b"GET /health\r\n\r\n", 400),
    ("HTTP/2 request line", b"GET /health HTTP/2.0\r\n\r\n", 400),
    ("HTTP/2 preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400),
    ("bad version", b"GET /health HTTP/1\r\n\r\n", 400),
    ("two spaces", b"GET  /health HTTP/1.1\r\n\r\n", 400),
    ("control character in the target", b"GET /hea\x01lth HTTP/1.1\r\n\r\n", 400),
    ("non-ASCII target", b"GET /h\xc3\xa9alth HTTP/1.1\r\n\r\n", 400),
    ("method with a slash", b"GE/T /health HTTP/1.1\r\n\r\n", 400),
    (
        "TLS handshake",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64 + b"\r\n\r\n",
        400,
    ),
    ("folded header", b"GET /health HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n", 400),
    ("header without a colon", b"GET /health HTTP/1.1\r\nX-A b\r\n\r\n", 400),
    ("empty header name", b"GET /health HTTP/1.1\r\n: b\r\n\r\n", 400),
    ("NUL in a header", b"GET /health HTTP/1.1\r\nX-A: b\x00c\r\n\r\n", 400),
    ("bare CR in a header", b"GET /health HTTP/1.1\r\nX-A: b\rc\r\n\r\n", 400),
    ("endless empty lines", b"\r\n" * 100 + b"GET /health HTTP/1.1\r\n\r\n", 400),
]


@pytest.mark.parametrize(
    ("data", "status"),
    [case[1:] for case in HEAD_ERRORS],
    ids=[case[0] for case in HEAD_ERRORS],
)
def test_malformed_or_oversized_heads_are_refused_and_close(
    gateway: Server, data: bytes, status: int
) -> None:
    answer = exchange(gateway, data)
    assert_refused(answer, status)
    assert answer.seconds < TIMEOUT


def test_a_network_path_is_not_a_route(gateway: Server) -> None:
    request = post("/" + "/evil.example/events", f"Content-Length: {len(EVENT)}\r\n", EVENT)
    answer = exchange(gateway, request.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1))
    assert answer.status == 404, answer


# --------------------------------------------------------------------------------------------
# Slow and stalled clients


STALLS = [
    ("Content-Length larger than the body", post("/events", "Content-Length: 100\r\n", b"{}")),
    ("headers that stop", b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-"),
    ("a request line that stops", b"POST /eve"),
    ("a chunk that stops", chunked(b"10\r\nabc")),
    ("a chunk-size line that stops", chunked(b"2\r\n{}\r\n1")),
    ("trailers that stop", chunked(b"0\r\nX-Trailer: y\r\n")),
    ("empty lines only", b"\r\n"),
]


@pytest.mark.parametrize("data", [case[1] for case in STALLS], ids=[case[0] for case in STALLS])
def test_a_stalled_request_gets_408_and_is_closed(gateway: Server, data: bytes) -> None:
    answer = exchange(gateway, data, wait=TIMEOUT + SLACK + 3)
    assert_refused(answer, 408, "request_timeout")
    assert TIMEOUT * 0.8 <= answer.seconds < TIMEOUT + SLACK


def test_a_body_cut_short_is_400(gateway: Server) -> None:
    answer = exchange(gateway, post("/events", "Content-Length: 100\r\n", b"{}"), half_close=True)
    assert_refused(answer, 400)
    assert answer.seconds < TIMEOUT


def test_an_idle_connection_is_closed_without_an_answer(gateway: Server) -> None:
    answer = exchange(gateway, b"", wait=TIMEOUT + SLACK + 3)
    assert answer.status is None
    assert answer.rest == b""
    assert answer.closed
    assert answer.seconds < TIMEOUT + SLACK


def test_trickling_headers_do_not_extend_the_deadline(gateway: Server) -> None:
    """Slowloris: a byte now and then must not keep the connection open past the deadline."""
    started = time.monotonic()
    with connect(gateway) as sock:
        sock.sendall(b"POST /events HTTP/1.1\r\n")
        received, closed = b"", False
        while time.monotonic() - started < TIMEOUT + SLACK + 3 and not closed:
            try:
                sock.sendall(b"X: y\r\n")
            except OSError:
                received, closed = read_all(sock, 1)
                closed = True
                break
            more, closed = read_all(sock, 0.2)
            received += more
        took = time.monotonic() - started
    assert closed, "the trickle kept the connection open"
    assert took < TIMEOUT + SLACK
    if received:  # the 408 may be lost to a reset when the client keeps sending
        assert parse(received, True, took).status == 408


# --------------------------------------------------------------------------------------------
# Many hostile connections at once


def _stalled(gateway: Server, count: int) -> list[socket.socket]:
    kinds = [
        b"",  # connects and sends nothing
        b"POST /events HTTP/1.1\r\nHost: 127.0.0.1\r\n",  # headers never finish
        post("/events", "Content-Length: 1000\r\n", b"{"),  # body never finishes
        chunked(b"100\r\n{"),  # a chunk never finishes
    ]
    sockets = []
    for number in range(count):
        sock = connect(gateway)
        data = kinds[number % len(kinds)]
        if data:
            sock.sendall(data)
        sockets.append(sock)
    return sockets


def _all_closed(sockets: list[socket.socket], wait: float) -> int:
    """How many of ``sockets`` the server has not closed within ``wait`` seconds."""
    deadline = time.monotonic() + wait
    open_ones = 0
    for sock in sockets:
        _, closed = read_all(sock, max(0.05, deadline - time.monotonic()))
        open_ones += not closed
        sock.close()
    return open_ones


@pytest.mark.parametrize("count", [50, 300])
def test_stalled_connections_hold_no_threads_and_block_nobody(gateway: Server, count: int) -> None:
    assert accepted(gateway).status == 202  # warm: the worker threads exist
    baseline, files = threads(gateway), open_files(gateway)
    sockets = _stalled(gateway, count)
    try:
        time.sleep(0.3)
        during = threads(gateway)
        # At most 256 connections at once (ADR 0007); the rest wait in the listen backlog.
        assert open_files(gateway) <= files + 256 + 4
        started = time.monotonic()
        answer = accepted(gateway)
        took = time.monotonic() - started
        assert answer.status == 202, answer
        assert took < 1.5, f"a normal request took {took:.1f}s behind {count} stalled ones"
        assert during <= baseline + 4, f"{during - baseline} more threads for {count} stalled"
        left = _all_closed(sockets, TIMEOUT + SLACK + 1)
    finally:
        for sock in sockets:
            sock.close()
    assert left == 0, f"{left} of {count} stalled connections still open after the timeout"
    assert threads(gateway) <= baseline + 4
    assert accepted(gateway).status == 202


def test_many_bodies_in_flight_stay_within_the_memory_budget(gateway: Server) -> None:
    """60 clients each send almost 1 MiB and stall: the server holds a bounded share of it."""
    before = peak_kib(gateway)
    head = post("/events", f"Content-Length: {MAX_BODY_BYTES}\r\n")
    payload = b"x" * (MAX_BODY_BYTES - 1)
    sockets: list[socket.socket] = []

    def send(sock: socket.socket) -> None:
        sock.settimeout(TIMEOUT + SLACK)
        with contextlib.suppress(OSError):  # paused, then refused: fine
            sock.sendall(head + payload)

    try:
        senders = []
        for _ in range(60):
            sock = connect(gateway)
            sockets.append(sock)
            sender = threading.Thread(target=send, args=(sock,))
            sender.start()
            senders.append(sender)
        for sender in senders:
            sender.join(TIMEOUT + SLACK + 1)
        grown_mib = (peak_kib(gateway) - before) / 1024
        started = time.monotonic()
        assert accepted(gateway).status == 202
        assert time.monotonic() - started < TIMEOUT + SLACK
        left = _all_closed(sockets, TIMEOUT + SLACK)
    finally:
        for sock in sockets:
            sock.close()
    assert grown_mib < 3 * BUDGET / MIB, f"{grown_mib:.0f} MiB more for 60 MiB of stalled bodies"
    assert left == 0


# --------------------------------------------------------------------------------------------
# What must keep working


def test_pipelined_requests_are_answered_in_order(gateway: Server) -> None:
    first = post(
        "/events", f"Content-Type: application/json\r\nContent-Length: {len(EVENT)}\r\n", EVENT
    )
    second = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    answer = exchange(gateway, first + second)
    assert answer.status == 202, answer
    follow = parse(answer.rest, True, 0)
    assert follow.status == 200, answer.rest
    assert answer.closed


def test_keep_alive_serves_several_requests_on_one_connection(gateway: Server) -> None:
    with connect(gateway) as sock:
        for _ in range(3):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            raw = b""
            while b"\r\n\r\n" not in raw or not raw.endswith(b"}"):
                raw += sock.recv(65536)
            assert parse(raw, False, 0).status == 200
    http10 = b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
    with connect(gateway) as sock:
        sock.sendall(http10)
        raw, closed = read_all(sock, 0.5)
        assert not closed, "HTTP/1.0 keep-alive was honoured"
        assert parse(raw, closed, 0).headers.get("connection") == "keep-alive"


def test_expect_continue_gets_its_go_ahead(gateway: Server) -> None:
    head = post(
        "/events",
        f"Content-Type: application/json\r\nContent-Length: {len(EVENT)}\r\n"
        "Expect: 100-continue\r\nConnection: close\r\n",
    )
    with connect(gateway) as sock:
        sock.sendall(head)
        assert sock.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(EVENT)
        raw, closed = read_all(sock, 5)
    assert parse(raw, closed, 0).status == 202
