"""`ingest forward --to`: `ingest serve` and a forwarder feeding a local receiver that fails 30 % of
deliveries. 200 events (singles, batches, signed webhooks with binary bodies) reach it exactly once
each, in time order per source, webhook bodies and signatures byte-exact, events as CloudEvents;
the forwarder is SIGKILLed while a delivery is under way and restarted from its checkpoint, and
nothing acknowledged is sent again and nothing is missed. Both ways of following the table: its
stream, and the listing index when the table has no stream."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ingest_tools.local.emulator import free_port

pytestmark = pytest.mark.slow

INGEST = [sys.executable, "-m", "ingest_tools.cli.main"]
SECRET = "forward-secret"
SOURCES = {
    "sources": {
        "hooks": {
            "scheme": "hmac-sha256",
            "secrets": [SECRET],
            "header": "X-Signature",
            "type_header": "X-Event",
            "id_header": "X-Delivery",
        }
    }
}
SERVE_OPTIONS = ("--quiet",)
JSON = {"content-type": "application/json"}
BINARY = {"content-type": "application/octet-stream"}
#: Short pauses, so that a 30 % failure rate costs seconds, not minutes.
FORWARD_OPTIONS = (
    *("--table", "events", "--retry-base", "0.02", "--retry-max", "0.2", "--quiet"),
    *("--settle", "1", "--poll", "0.2"),
)
HOLD_AT = 80  # the receiver holds this delivery while the forwarder is killed
DEADLINE = 150.0


@dataclass
class Receiver:
    """Answers 503 or 429 to 30 % of deliveries (seeded); keeps what it acknowledged with 2xx."""

    rng: random.Random = field(default_factory=lambda: random.Random(7))
    acked: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def answer(self, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            hold = len(self.acked) == HOLD_AT and not self.held.is_set()
            if hold:
                self.held.set()
            elif self.rng.random() < 0.3:
                self.refused += 1
                return self.rng.choice((503, 429, 500))
            else:
                self.acked.append((headers, body))
                return 200
        self.release.wait(60)  # the forwarder is killed meanwhile: this answer reaches no one
        return 503


def serve_receiver(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = receiver.answer({k.lower(): v for k, v in self.headers.items()}, body)
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Lines:
    """A process's stderr, read as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        stream = process.stderr
        assert stream is not None

        def read() -> None:
            for line in stream:
                self.lines.append(line)

        threading.Thread(target=read, daemon=True).start()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(text in line for line in self.lines):
                return
            time.sleep(0.05)
        raise AssertionError(f"no {text!r} in {''.join(self.lines)}")


def _env() -> dict[str, str]:
    return {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONUNBUFFERED": "1",
    }


@dataclass
class Stack:
    url: str
    endpoint: str
    process: subprocess.Popen[str]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    port, emulator = free_port(), free_port()
    sources = tmp_path / "sources.json"
    sources.write_text(json.dumps(SOURCES))
    process = subprocess.Popen(
        [
            *INGEST,
            "serve",
            *("--port", str(port), "--emulator-port", str(emulator)),
            *SERVE_OPTIONS,
            "--sources",
            str(sources),
        ],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        assert process.poll() is None, "ingest serve stopped"
        assert time.monotonic() < end, "ingest serve did not start"
        time.sleep(0.2)
    try:
        yield Stack(url, f"http://127.0.0.1:{emulator}", process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def _post(url: str, body: bytes, headers: dict[str, str]) -> Any:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status in (200, 202)
        return json.loads(answer.read())


def produce(url: str) -> dict[str, tuple[str, bytes]]:
    """200 events: 60 singles, 10 batches of 10, 40 webhooks; event_id -> (source, what was sent)."""
    sent: dict[str, tuple[str, bytes]] = {}
    for n in range(60):
        data = f'{{"n":{n},"total":12.50,"tiny":1E-9}}'
        body = f'{{"type":"order.created","source":"app","id":"o-{n}","data":{data}}}'.encode()
        answer = _post(f"{url}/events", body, {"content-type": "application/json"})
        sent[answer["event_id"]] = ("app", data.encode())
        if n % 6 == 0:
            batch = [
                {"type": "item.added", "source": "shop", "data": {"n": n, "i": i}}
                for i in range(10)
            ]
            answer = _post(
                f"{url}/events", json.dumps(batch).encode(), {"content-type": "application/json"}
            )
            for i, event in enumerate(answer["events"]):
                sent[event["event_id"]] = ("shop", json.dumps({"n": n, "i": i}).encode())
        if n % 3 == 0:
            for k in range(2):
                raw = bytes([0xFF, 0x00, n, k]) + f'{{"hook":{n},"k":{k},"v":1.10}}'.encode()
                signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
                headers = {
                    "content-type": "application/octet-stream",
                    "x-signature": signature,
                    "x-event": "hook.fired",
                    "x-delivery": f"d-{n}-{k}",
                }
                answer = _post(f"{url}/webhooks/hooks", raw, headers)
                sent[answer["event_id"]] = ("hooks", raw)
    assert len(sent) == 200
    return sent


def start_forwarder(stack: Stack, to: str, checkpoint: Path) -> tuple[subprocess.Popen[str], Lines]:
    process = subprocess.Popen(
        [
            *INGEST,
            "forward",
            "--to",
            to,
            "--endpoint-url",
            stack.endpoint,
            *FORWARD_OPTIONS,
            "--checkpoint",
            str(checkpoint),
        ],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = Lines(process)
    lines.wait_for("forwarding")
    return process, lines


@pytest.mark.parametrize("mode", ["stream", "listing"])
def test_forward_delivers_each_event_once_across_failures_and_a_kill(
    stack: Stack, tmp_path: Path, mode: str
) -> None:
    if mode == "stream":
        from ingest.adapters.dynamodb import EventStore

        os.environ.update({k: v for k, v in _env().items() if k.startswith("AWS_")})
        EventStore(
            "events", endpoint_url=stack.endpoint, region_name="us-east-1"
        ).client.update_table(
            TableName="events",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    receiver = Receiver()
    server = serve_receiver(receiver)
    to = f"http://127.0.0.1:{server.server_address[1]}/hook?from=ingest"
    checkpoint = tmp_path / "forward.json"
    forwarder, lines = start_forwarder(stack, to, checkpoint)
    assert f"({mode})" in "".join(lines.lines)
    try:
        producer: dict[str, dict[str, tuple[str, bytes]]] = {}
        sending = threading.Thread(target=lambda: producer.setdefault("sent", produce(stack.url)))
        sending.start()
        assert receiver.held.wait(DEADLINE), "the receiver never reached the kill point"
        forwarder.kill()  # SIGKILL while a delivery is under way: no chance to save anything
        forwarder.wait(10)
        receiver.release.set()
        forwarder, lines = start_forwarder(stack, to, checkpoint)
        sending.join(DEADLINE)
        sent = producer["sent"]
        end = time.monotonic() + DEADLINE
        while len(receiver.acked) < len(sent) and time.monotonic() < end:
            time.sleep(0.1)
        time.sleep(2.5)  # anything more would be a repeat
        forwarder.send_signal(signal.SIGTERM)
        assert forwarder.wait(30) == 0
        lines.wait_for("forwarded ")
    finally:
        if forwarder.poll() is None:
            forwarder.kill()
        server.shutdown()

    received = [headers["ingest-event-id"] for headers, _ in receiver.acked]
    assert len(received) == len(set(received)), "an acknowledged event was delivered again"
    assert set(received) == set(sent), "an event was missed"
    assert receiver.refused > 30  # the receiver did fail about 30 % of deliveries
    for source in ("app", "shop", "hooks"):
        # the event id's first 48 bits are its millisecond: order within one is not defined
        order = [e[:13] for e in received if sent[e][0] == source]
        assert order == sorted(order), f"{source} out of time order"
    for headers, body in receiver.acked:
        source, payload = sent[headers["ingest-event-id"]]
        assert headers["ingest-source"] == source
        if source == "hooks":
            assert body == payload  # byte-exact, not UTF-8
            assert headers["x-signature"] == hmac.new(SECRET.encode(), body, "sha256").hexdigest()
            assert headers["content-type"] == "application/octet-stream"
        else:
            assert headers["content-type"].startswith("application/cloudevents+json")
            event = json.loads(body)
            assert event["specversion"] == "1.0"
            assert event["eventid"] == headers["ingest-event-id"]
            assert event["source"] == source
            assert event["receivedat"]
            if source == "app":
                assert body.endswith(b',"data":' + payload + b"}")  # data exactly as sent
            else:
                assert event["data"] == json.loads(payload)
    saved = json.loads(checkpoint.read_text())
    assert saved["mode"] == mode
    assert saved["shards"] if mode == "stream" else saved["sources"]


def test_serve_forward_to_forwards_from_the_embedded_emulator(tmp_path: Path) -> None:
    """`ingest serve --forward-to`: one command, the embedded emulator's stream to the receiver."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = free_port()
    sources = tmp_path / "sources.json"
    sources.write_text(json.dumps(SOURCES))
    to = f"http://127.0.0.1:{receiver.server_address[1]}/"
    process = subprocess.Popen(
        [
            *INGEST,
            "serve",
            *("--port", str(port), "--emulator-port", "0"),
            *SERVE_OPTIONS,
            "--sources",
            str(sources),
            "--forward-to",
            to,
        ],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = Lines(process)
    try:
        lines.wait_for("forwarding")
        url = f"http://127.0.0.1:{port}"
        event = _post(f"{url}/events", b'{"type":"t","data":{"x":1.10}}', JSON)
        raw = b"\xfe\x01 not text"
        signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
        hook = _post(
            f"{url}/webhooks/hooks", raw, {**BINARY, "x-signature": signature, "x-event": "e"}
        )
        end = time.monotonic() + 30
        while len(received) < 2 and time.monotonic() < end:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
        receiver.shutdown()
    assert code == 0
    assert [h["ingest-event-id"] for h, _ in received] == [event["event_id"], hook["event_id"]]
    assert received[0][1].endswith(b',"data":{"x":1.10}}')
    assert received[1][1] == raw
