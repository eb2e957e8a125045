"""A fault-injecting HTTP proxy for DynamoDB: throttles, 500s, and writes whose answer is lost."""

from __future__ import annotations

import http.client
import random
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

from scripts.harness import QuietHandler
from tests.support import Server, free_port, start_server, stop_server

WRITES = ("PutItem", "BatchWriteItem")
THROTTLE = b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"injected throttle"}'
SERVER_ERROR = b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected failure"}'


class FaultProxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, upstream: str, *, throttle: float, error: float, lost: float, seed: int
    ) -> None:
        host, _, port = upstream.removeprefix("http://").partition(":")
        self.upstream = (host, int(port))
        self.rates = {"throttle": throttle, "error": error, "lost": lost}
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.enabled = True
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def decide(self, target: str) -> str:
        if not self.enabled or not target.endswith(WRITES):
            return "pass"
        with self.lock:
            roll = self.random.random()
            for fault, rate in self.rates.items():
                if roll < rate:
                    self.injected[fault] += 1
                    return fault
                roll -= rate
        return "pass"


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"
    server: FaultProxy

    def _reply(self, status: int, body: bytes) -> None:
        self.send_body(status, body, "application/x-amz-json-1.0")

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        fault = self.server.decide(self.headers.get("x-amz-target", ""))
        if fault == "throttle":
            self._reply(400, THROTTLE)
            return
        if fault == "error":
            self._reply(500, SERVER_ERROR)
            return
        conn = http.client.HTTPConnection(*self.server.upstream, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request("POST", self.path, body, headers)
        answer = conn.getresponse()
        payload = answer.read()
        conn.close()
        if fault == "lost":  # the write happened; its answer never arrives
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in (
                "content-length",
                "connection",
                "transfer-encoding",
                "server",
                "date",
            ):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@dataclass(frozen=True)
class FaultyBackend:
    server: Server
    proxy: FaultProxy
    emulator_url: str  # moto itself, for reading around the faults


@contextmanager
def serve_behind_faults(
    table: str, *, throttle: float, error: float, lost: float, seed: int
) -> Iterator[FaultyBackend]:
    """`ingest serve` whose DynamoDB is moto behind a :class:`FaultProxy` (faults off while the
    table is created)."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    proxy = FaultProxy(
        f"http://127.0.0.1:{port}", throttle=throttle, error=error, lost=lost, seed=seed
    )
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    proxy.enabled = False
    try:
        server, process = start_server("--endpoint-url", proxy.url, table=table)
        try:
            proxy.enabled = True
            yield FaultyBackend(server, proxy, f"http://127.0.0.1:{port}")
        finally:
            proxy.enabled = False
            stop_server(process)
    finally:
        proxy.shutdown()
        moto.stop()
