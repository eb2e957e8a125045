"""``ingest send`` end to end: the real CLI against ``ingest serve`` (and a 503 stub for retries)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest
from ingest import ids

from scripts.harness import LocalHTTP, QuietHandler
from tests.support import (
    Server,
    free_port,
    ingest,
    serving,
    write_sources,
)
from tests.webhook_providers import ACME_HMAC

pytestmark = pytest.mark.slow

SECRETS = {
    "github": "gh-cli-secret-3f9d2c1b0a",
    "stripe": "whsec_cliStripeSecret8e7d6c5b4a",
    "slack": "slack-cli-signing-secret-1a2b3c4d",
    "shopify": "shpss_cli_client_secret_5e6f7a8b",
    "billing": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "acme": "acme-cli-shared-secret-9c8b7a6d",
}
SOURCES: dict[str, dict[str, Any]] = {
    "github": {"scheme": "github", "secrets": [SECRETS["github"]]},
    "stripe": {"scheme": "stripe", "secrets": [SECRETS["stripe"]]},
    "slack": {"scheme": "slack", "secrets": [SECRETS["slack"]]},
    "shopify": {"scheme": "shopify", "secrets": [SECRETS["shopify"]]},
    "billing": {"scheme": "standard-webhooks", "secrets": [SECRETS["billing"]]},
    "acme": {**ACME_HMAC, "secrets": [SECRETS["acme"]]},
    "sandbox": {"scheme": "none", "type_header": "X-Event-Type", "id_header": "X-Delivery-Id"},
}


def uid() -> str:
    return uuid.uuid4().hex


@dataclass
class Sent:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def status(self) -> int:
        """The HTTP status the CLI reported on stderr (``HTTP 202``)."""
        line = next(line for line in self.stderr.splitlines() if line.startswith("HTTP "))
        return int(line.split()[1])


def send(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Sent:
    done = ingest("send", *args, input=stdin, env=env, unset=("SOURCES", "INGEST_URL"))
    sent = Sent(done.code, done.out, done.err)
    for secret in SECRETS.values():
        assert secret not in sent.stdout
        assert secret not in sent.stderr
    return sent


@pytest.fixture(scope="module")
def sources_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sources(tmp_path_factory.mktemp("send"), SOURCES)


@pytest.fixture(scope="module")
def api(sources_file: Path) -> Iterator[Server]:
    with serving("--sources", str(sources_file), table="send-cli") as server:
        yield server


def stored(server: Server, event_id: str) -> dict[str, Any]:
    item = server.store().get(ids.key_of(event_id))
    assert item is not None
    return dict(item)


# --------------------------------------------------------------------------------------------
# /events


def test_a_single_event_from_flags_is_stored_with_data_exactly_as_given(api: Server) -> None:
    key = uid()
    sent = send(
        "--url",
        api.url,
        "--type",
        "order.created",
        "--id",
        key,
        "--event-source",
        "shop",
        "--data",
        '{"total": 12.50, "big": 12345678901234567890.000}',
    )
    assert (sent.code, sent.status) == (0, 202), sent
    answer = sent.json()
    assert set(answer) == {"event_id", "received_at"}
    item = stored(api, answer["event_id"])
    assert (item["type"], item["id"], item["source"]) == ("order.created", key, "shop")
    assert json.loads(item["data"], parse_float=str) == {
        "total": "12.50",
        "big": "12345678901234567890.000",
    }
    again = send("--url", api.url, "--type", "order.created", "--id", key, "--event-source", "shop")
    assert (again.code, again.status) == (0, 200), again
    assert again.json() == {**answer, "duplicate": True}


def test_a_batch_from_a_file(api: Server, tmp_path: Path) -> None:
    batch = [{"type": "item.added", "id": uid(), "data": {"n": n}} for n in range(3)]
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(batch), "utf-8")
    sent = send("--url", api.url, str(path))
    assert (sent.code, sent.status) == (0, 202), sent
    answer = sent.json()
    assert (answer["accepted"], answer["duplicates"]) == (3, 0)
    again = send("--url", api.url, str(path))
    assert (again.code, again.json()["duplicates"]) == (0, 3)


def test_an_event_from_stdin(api: Server) -> None:
    body = json.dumps({"type": "from.stdin", "id": uid(), "data": [1, 2.50]}).encode()
    sent = send("--url", api.url, "-", stdin=body)
    assert (sent.code, sent.status) == (0, 202), sent
    assert stored(api, sent.json()["event_id"])["type"] == "from.stdin"


def test_the_url_comes_from_ingest_url(api: Server) -> None:
    sent = send("--type", "env.url", env={"INGEST_URL": api.url})
    assert (sent.code, sent.status) == (0, 202), sent


def test_an_idempotency_key_makes_a_repeat_a_duplicate(api: Server) -> None:
    key = f"key-{uid()}"
    args = ("--url", api.url, "--type", "payment.made", "--idempotency-key", key)
    first = send(*args)
    assert (first.code, first.status) == (0, 202), first
    second = send(*args)
    assert (second.code, second.status) == (0, 200), second
    assert second.json()["event_id"] == first.json()["event_id"]
    assert second.json()["duplicate"] is True


def test_a_4xx_exits_1_and_prints_the_error(api: Server, tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"id": "no-type"}', "utf-8")
    sent = send("--url", api.url, str(path))
    assert sent.code == 1
    assert 400 <= sent.status < 500
    assert set(sent.json()["error"]) == {"code", "message", "details"}
    wrong_type = send("--url", api.url, "--type", "x", "--content-type", "text/plain")
    assert (wrong_type.code, wrong_type.status) == (1, 415)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "needs --type"),
        (("--type", "t", "--data", "{not json"), "--data is not JSON"),
        (("--type", "t", "--header", "no-colon"), "--header needs NAME:VALUE"),
    ],
)
def test_usage_mistakes_exit_2_with_a_message(
    api: Server, args: tuple[str, ...], message: str
) -> None:
    sent = send("--url", api.url, *args)
    assert sent.code == 2
    assert message in sent.stderr
    assert "Traceback" not in sent.stderr


def test_an_unreachable_url_exits_1_without_a_traceback() -> None:
    sent = send("--url", f"http://127.0.0.1:{free_port()}", "--type", "t")
    assert sent.code == 1
    assert "cannot reach" in sent.stderr
    assert "Traceback" not in sent.stderr


# --------------------------------------------------------------------------------------------
# --retries against a stub that is unavailable twice


class Flaky(QuietHandler):
    """503 with ``Retry-After: 0`` for the first ``failures`` requests, then 202."""

    failures: ClassVar[int] = 2
    seen: ClassVar[list[tuple[bytes, str | None]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        type(self).seen.append((body, self.headers.get("idempotency-key")))
        if len(type(self).seen) <= type(self).failures:
            status, answer = (
                503,
                b'{"error": {"code": "storage_unavailable", "message": "busy", "details": []}}',
            )
            extra = {"Retry-After": "0"}
        else:
            status, answer = 202, b'{"event_id": "e", "received_at": "t"}'
            extra = {}
        self.send_response(status)
        for name, value in {"Content-Type": "application/json", **extra}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def flaky() -> Iterator[str]:
    Flaky.seen = []
    with LocalHTTP(Flaky) as stub:
        yield stub.url


def test_retries_resend_the_same_bytes_after_503(flaky: str) -> None:
    sent = send("--url", flaky, "--retries", "2", "--type", "t", "--idempotency-key", "k-1")
    assert (sent.code, sent.status) == (0, 202), sent
    assert len(Flaky.seen) == 3
    assert len(set(Flaky.seen)) == 1
    assert Flaky.seen[0][1] == "k-1"
    # Each retry is said, with its reason, before it is made.
    assert [line for line in sent.stderr.splitlines() if "retry" in line] == [
        "ingest: HTTP 503: retry 1 of 2 in 0.2 s",
        "ingest: HTTP 503: retry 2 of 2 in 0.4 s",
    ]


def test_without_enough_retries_the_503_is_the_answer(flaky: str) -> None:
    sent = send("--url", flaky, "--retries", "1", "--type", "t")
    assert (sent.code, sent.status) == (1, 503), sent
    assert len(Flaky.seen) == 2
    Flaky.seen = []
    none = send("--url", flaky, "--type", "t")
    assert (none.code, none.status) == (1, 503)
    assert len(Flaky.seen) == 1


# --------------------------------------------------------------------------------------------
# --source: signed webhooks, one source per scheme


@dataclass(frozen=True)
class Webhook:
    source: str
    payload: bytes
    event_type: str
    flags: tuple[str, ...] = ()
    content_type: str = "application/json"


def webhook_for(source: str, key: str) -> Webhook:
    """A payload per scheme; where the provider carries type and id in headers, the flags."""
    header_ids = ("--type", "build.finished", "--id", key)
    if source == "github":
        return Webhook(
            source,
            b'{"zen": "Keep it logically awesome."}',
            "push",
            ("--type", "push", "--id", key),
        )
    if source == "stripe":
        payload = json.dumps({"id": f"evt_{key}", "object": "event", "type": "invoice.paid"})
        return Webhook(source, payload.encode(), "invoice.paid")
    if source == "slack":
        payload = json.dumps(
            {"type": "event_callback", "event_id": f"Ev{key}", "event": {"type": "app_mention"}}
        )
        return Webhook(source, payload.encode(), "app_mention")
    if source == "shopify":
        return Webhook(
            source, b'{"id": 450789469}', "orders/create", ("--type", "orders/create", "--id", key)
        )
    if source == "billing":
        payload = json.dumps({"type": "contact.created", "data": {"id": key}})
        return Webhook(source, payload.encode(), "contact.created", ("--id", f"msg_{key}"))
    return Webhook(
        source, f"plain text {key}\n".encode(), "build.finished", header_ids, "text/plain"
    )


def expected_id(hook: Webhook, key: str) -> str:
    return {"stripe": f"evt_{key}", "slack": f"Ev{key}", "billing": f"msg_{key}"}.get(
        hook.source, key
    )


@pytest.mark.parametrize("source", list(SOURCES))
def test_a_signed_webhook_is_accepted_and_the_same_id_again_is_a_duplicate(
    api: Server, sources_file: Path, tmp_path: Path, source: str
) -> None:
    key = uid()
    hook = webhook_for(source, key)
    payload = tmp_path / "payload"
    payload.write_bytes(hook.payload)
    args = (
        "--source",
        source,
        "--sources",
        str(sources_file),
        "--url",
        api.url,
        "--content-type",
        hook.content_type,
        *hook.flags,
        str(payload),
    )
    first = send(*args)
    assert (first.code, first.status) == (0, 202), first
    item = stored(api, first.json()["event_id"])
    body = item["body"]
    assert (body.encode() if isinstance(body, str) else bytes(body)) == hook.payload
    assert (item["source"], item["type"], item["id"]) == (
        source,
        hook.event_type,
        expected_id(hook, key),
    )
    assert item["content_type"] == hook.content_type
    second = send(*args)
    assert (second.code, second.status) == (0, 200), second
    assert second.json() == {**first.json(), "duplicate": True}


def test_a_webhook_from_stdin_with_the_sources_document_from_the_environment(api: Server) -> None:
    key = uid()
    sent = send(
        "--source",
        "github",
        "--url",
        api.url,
        "--type",
        "issues",
        "--id",
        key,
        "-",
        stdin=b'{"action": "opened"}',
        env={"SOURCES": json.dumps({"sources": SOURCES})},
    )
    assert (sent.code, sent.status) == (0, 202), sent
    assert stored(api, sent.json()["event_id"])["type"] == "issues"


def test_a_slack_slash_command_form(api: Server, sources_file: Path, tmp_path: Path) -> None:
    payload = tmp_path / "slash-command.txt"
    payload.write_bytes(b"command=%2Fdeploy&text=prod&user_id=U2147483697&team_id=T0001")
    sent = send(
        "--source",
        "slack",
        "--sources",
        str(sources_file),
        "--url",
        api.url,
        "--content-type",
        "application/x-www-form-urlencoded",
        str(payload),
    )
    assert (sent.code, sent.status) == (0, 202), sent
    assert stored(api, sent.json()["event_id"])["type"] == "/deploy"


def test_a_binary_webhook_payload(api: Server, sources_file: Path, tmp_path: Path) -> None:
    payload = tmp_path / "blob.bin"
    payload.write_bytes(bytes(range(256)) + uid().encode())
    sent = send(
        "--source",
        "acme",
        "--sources",
        str(sources_file),
        "--url",
        api.url,
        "--content-type",
        "application/octet-stream",
        "--id",
        uid(),
        str(payload),
    )
    assert (sent.code, sent.status) == (0, 202), sent
    assert bytes(stored(api, sent.json()["event_id"])["body"]) == payload.read_bytes()


def test_a_webhook_signed_with_the_wrong_secret_exits_1(
    api: Server, sources_file: Path, tmp_path: Path
) -> None:
    """The CLI signs with the document it is given; the server verifies with its own."""
    wrong = tmp_path / "wrong.json"
    wrong.write_text(
        json.dumps({"sources": {"github": {"scheme": "github", "secrets": ["not-the-secret"]}}}),
        "utf-8",
    )
    payload = tmp_path / "p.json"
    payload.write_bytes(b"{}")
    sent = send("--source", "github", "--sources", str(wrong), "--url", api.url, str(payload))
    assert (sent.code, sent.status) == (1, 401), sent
    assert sent.json()["error"]["code"] == "webhook_rejected"
    assert "not-the-secret" not in sent.stdout + sent.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--webhook", "nope"), "source 'nope' is not in"),
        (("--webhook", "github"), "needs a payload FILE"),
    ],
)
def test_webhook_usage_mistakes_exit_2_with_a_message(
    api: Server, sources_file: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    payload = tmp_path / "p.json"
    payload.write_bytes(b"{}")
    files = (str(payload),) if args[1] == "nope" else ()
    sent = send(*args, "--sources", str(sources_file), "--url", api.url, *files)
    assert sent.code == 2
    assert message in sent.stderr
    assert "Traceback" not in sent.stderr


def test_an_invalid_sources_document_exits_2_without_echoing_secrets(
    api: Server, tmp_path: Path
) -> None:
    document = tmp_path / "bad.json"
    secret = "leaky-secret-value-0123456789"
    document.write_text(
        json.dumps({"sources": {"x": {"scheme": "github", "secrets": [secret], "typo": 1}}}),
        "utf-8",
    )
    payload = tmp_path / "p.json"
    payload.write_bytes(b"{}")
    sent = send("--webhook", "x", "--sources", str(document), "--url", api.url, str(payload))
    assert sent.code == 2
    assert "cannot read the sources document" in sent.stderr
    assert secret not in sent.stderr
    assert "Traceback" not in sent.stderr
