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
import random
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from scripts import harness
from scripts.harness import INGEST, LocalHTTP, Process, QuietHandler, aws_env
from tests.support import Server, serving, start_server, stop_server, write_sources

pytestmark = pytest.mark.slow

SECRET = "forward-secret"
SOURCES = {
    "hooks": {
        "scheme": "hmac-sha256",
        "secrets": [SECRET],
        "header": "X-Signature",
        "type_header": "X-Event",
        "id_header": "X-Delivery",
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


def serve_receiver(receiver: Receiver) -> LocalHTTP:
    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = receiver.answer({k.lower(): v for k, v in self.headers.items()}, body)
            try:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()
            except OSError:
                pass

    return LocalHTTP(Handler)


def start(*args: str) -> Process:
    """An `ingest` command left running, its output in its log (unbuffered: read as it comes)."""
    return harness.start([*INGEST, *args], env=aws_env(extra={"PYTHONUNBUFFERED": "1"}))


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Server]:
    sources = write_sources(tmp_path, SOURCES)
    with serving(
        *SERVE_OPTIONS, "--sources", str(sources), env={"PYTHONUNBUFFERED": "1"}
    ) as server:
        yield server


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


def start_forwarder(stack: Server, to: str, checkpoint: Path) -> Process:
    forwarder = start(
        "forward", "--to", to, "--endpoint-url", stack.endpoint, *FORWARD_OPTIONS,
        "--checkpoint", str(checkpoint),
    )  # fmt: skip
    forwarder.wait_for("forwarding")
    return forwarder


@pytest.mark.parametrize("mode", ["stream", "listing"])
def test_forward_delivers_each_event_once_across_failures_and_a_kill(
    stack: Server, tmp_path: Path, mode: str
) -> None:
    if mode == "stream":
        stack.store().client.update_table(
            TableName="events",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    receiver = Receiver()
    with serve_receiver(receiver) as server:
        to = f"{server.url}/hook?from=ingest"
        checkpoint = tmp_path / "forward.json"
        forwarder = start_forwarder(stack, to, checkpoint)
        assert f"({mode})" in forwarder.log()
        try:
            producer: dict[str, dict[str, tuple[str, bytes]]] = {}
            sending = threading.Thread(
                target=lambda: producer.setdefault("sent", produce(stack.url))
            )
            sending.start()
            assert receiver.held.wait(DEADLINE), "the receiver never reached the kill point"
            forwarder.popen.kill()  # SIGKILL while a delivery is under way: no chance to save anything
            forwarder.popen.wait(10)
            forwarder.stop()
            receiver.release.set()
            forwarder = start_forwarder(stack, to, checkpoint)
            sending.join(DEADLINE)
            sent = producer["sent"]
            end = time.monotonic() + DEADLINE
            while len(receiver.acked) < len(sent) and time.monotonic() < end:
                time.sleep(0.1)
            time.sleep(2.5)  # anything more would be a repeat
            forwarder.popen.send_signal(signal.SIGTERM)
            assert forwarder.popen.wait(30) == 0
            forwarder.wait_for("forwarded ")
        finally:
            forwarder.stop()

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
    """`ingest serve --forward-to`: one command, the embedded emulator's stream to the receiver,
    a webhook body held in the emulator's payload bucket included."""
    received: list[tuple[dict[str, str], bytes]] = []

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(204)
            self.end_headers()

    sources = write_sources(tmp_path, SOURCES)
    with LocalHTTP(Handler) as receiver:
        server, process = start_server(
            *SERVE_OPTIONS, "--sources", str(sources), "--forward-to", receiver.url + "/",
            env={"PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        try:
            process.wait_for("forwarding")
            event = _post(f"{server.url}/events", b'{"type":"t","data":{"x":1.10}}', JSON)
            # Large enough to be held in the payload bucket: forwarded byte-exact from S3 (0034).
            raw = b"\xfe\x01 not text" + random.Random(3).randbytes(300 * 1024)
            signature = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
            hook = _post(
                f"{server.url}/webhooks/hooks",
                raw,
                {**BINARY, "x-signature": signature, "x-event": "e"},
            )
            end = time.monotonic() + 30
            while len(received) < 2 and time.monotonic() < end:
                time.sleep(0.1)
            held = [item.get("codec") for item in server.items() if item.get("kind") == "webhook"]
            assert held == ["s3"]  # the item holds a reference; the receiver got the bytes
        finally:
            stop_server(process)
        code = process.returncode
    assert code == 0
    assert [h["ingest-event-id"] for h, _ in received] == [event["event_id"], hook["event_id"]]
    assert received[0][1].endswith(b',"data":{"x":1.10}}')
    assert received[1][1] == raw
