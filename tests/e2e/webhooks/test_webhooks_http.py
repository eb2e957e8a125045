"""POST /webhooks/{source} end to end: ``ingest serve --sources FILE --emit-metrics``.

One source per scheme, signed here with ``ingest.domain.webhooks.schemes.sign`` and, where the provider
publishes one, with its reference library or documented example. Every rejection must answer
401 (404 for an unknown source), store nothing and be counted in the ``WebhookRejected`` metric
by reason; no secret, encoded secret or signature may show up in what the server prints or
answers. The last test stops the module's server and reads everything it printed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import pytest
import stripe
from ingest import ids
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import sign
from ingest.domain.webhooks.schemes.standard_webhooks import (
    decode_secret as decode_standard_webhooks_secret,
)
from ingest.limits import MAX_WEBHOOK_BYTES
from standardwebhooks import Webhook

from tests.support import Process, Reply, Server, start_server, stop_server, write_sources
from tests.webhook_providers import ACME_HMAC, GITHUB_DOC, SLACK_DOC

pytestmark = pytest.mark.slow


STRIPE_SECRET = "whsec_e2eStripeSigningSecret7c41d09be35f"
SHOPIFY_SECRET = "shpss_e2e_client_secret_0f1e2d3c4b5a6978"
# The Standard Webhooks specification's example secret: whsec_ + base64 of the HMAC key.
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ACME_SECRET = "acme-shared-secret-e2e-5d41402abc4b2a76"
ROTATION_OLD = "rotation-old-secret-e2e-9a8b7c6d5e4f"
ROTATION_NEW = "rotation-new-secret-e2e-1c2d3e4f5a6b"
WRONG_SECRET = "a-secret-nobody-configured-e2e-0000"
WRONG_SW_SECRET = "whsec_" + base64.b64encode(b"not-the-configured-key-0123456789").decode()

SOURCES: dict[str, dict[str, Any]] = {
    "github": {"scheme": "github", "secrets": [GITHUB_DOC.secret]},
    "stripe": {"scheme": "stripe", "secrets": [STRIPE_SECRET], "tolerance_seconds": 300},
    "slack": {"scheme": "slack", "secrets": [SLACK_DOC.secret]},
    "shopify": {"scheme": "shopify", "secrets": [SHOPIFY_SECRET]},
    "billing": {"scheme": "standard-webhooks", "secrets": [SW_SECRET]},
    "acme": {**ACME_HMAC, "secrets": [ACME_SECRET]},
    "sandbox": {"scheme": "none", "type_header": "X-Event-Type", "id_header": "X-Delivery-Id"},
    "rotating": {"scheme": "github", "secrets": [ROTATION_OLD, ROTATION_NEW]},
}
SIGNED = ["github", "stripe", "slack", "shopify", "billing", "acme"]
TIMESTAMPED = ["stripe", "slack", "billing"]
SIGNATURE_HEADER = {
    "github": "X-Hub-Signature-256",
    "rotating": "X-Hub-Signature-256",
    "stripe": "Stripe-Signature",
    "slack": "X-Slack-Signature",
    "shopify": "X-Shopify-Hmac-Sha256",
    "billing": "webhook-signature",
    "acme": "X-Acme-Signature",
}
SECRET_OF = {
    "github": GITHUB_DOC.secret,
    "stripe": STRIPE_SECRET,
    "slack": SLACK_DOC.secret,
    "shopify": SHOPIFY_SECRET,
    "billing": SW_SECRET,
    "acme": ACME_SECRET,
    "rotating": ROTATION_NEW,
}
TOLERANCE = 300
DIGEST = re.compile(r"[0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=")


def uid() -> str:
    return uuid.uuid4().hex


def config_of(source: str) -> SourceConfig:
    return SourceConfig.model_validate(SOURCES[source])


def signed_headers(
    source: str,
    body: bytes,
    *,
    secret: str | None = None,
    now: float | None = None,
    delivery_id: str | None = None,
    event_type: str | None = None,
) -> dict[str, str]:
    return sign(
        config_of(source),
        body,
        SECRET_OF.get(source, "") if secret is None else secret,
        time.time() if now is None else now,
        delivery_id=delivery_id,
        event_type=event_type,
    )


_signed_headers = signed_headers


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def secret_forms() -> list[str]:
    """Every configured secret, and the encodings of it a signer handles."""
    forms: list[str] = []
    for secret in [*SECRET_OF.values(), ROTATION_OLD]:
        raw = secret.encode()
        forms += [secret, raw.hex(), base64.b64encode(raw).decode()]
    key = decode_standard_webhooks_secret(SW_SECRET)
    forms += [SW_SECRET.removeprefix("whsec_"), key.hex(), base64.b64encode(key).decode()]
    return forms


# --------------------------------------------------------------------------------------------
# The module's server and what the tests sent through it


@dataclass
class Harness:
    server: Server
    process: Process
    signatures: set[str] = field(default_factory=set)
    answers: list[bytes] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    duplicates: int = 0
    output: str | None = None

    @functools.cached_property
    def client(self) -> Any:
        """One DynamoDB client for the module (making one per call costs more than the call)."""
        return self.server.store().client

    def count(self) -> int:
        """Items in the table (the emulator counts live)."""
        table = self.client.describe_table(TableName=self.server.table)["Table"]
        return int(table.get("ItemCount", 0))

    def stop(self) -> str:
        if self.output is None:
            self.output = stop_server(self.process)
        return self.output

    def post(
        self,
        source: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        *,
        content_type: str | None = "application/json",
    ) -> Reply:
        assert self.output is None, "the server has been stopped"
        for name, value in (headers or {}).items():
            if name.lower() in {h.lower() for h in SIGNATURE_HEADER.values()}:
                self.signatures.add(value)
                # and each bare digest inside it (hex or base64 of 32 bytes)
                self.signatures.update(DIGEST.findall(value))
        reply = self.server.request(
            "POST", f"/webhooks/{source}", body, headers, content_type=content_type
        )
        self.answers.append(reply.body)
        for form in secret_forms():
            assert form.encode() not in reply.body
        if reply.status == 202:
            self.accepted += 1
        elif reply.status == 200 and reply.json().get("duplicate"):
            self.duplicates += 1
        return reply

    def accept(self, source: str, body: bytes, headers: dict[str, str], **kw: Any) -> str:
        """POST, expect 202 and exactly one new item; return the event id."""
        before = self.count()
        reply = self.post(source, body, headers, **kw)
        assert reply.status == 202, reply.body
        assert reply.headers["content-type"] == "application/json"
        answer = reply.json()
        assert set(answer) == {"event_id", "received_at"}
        assert ids.is_event_id(answer["event_id"])
        assert self.count() == before + 1
        return str(answer["event_id"])

    def reject(
        self,
        source: str,
        body: bytes,
        headers: dict[str, str],
        reason: str,
        *,
        status: int = 401,
        **kw: Any,
    ) -> dict[str, Any]:
        """POST, expect the contract's error answer and an unchanged table."""
        before = self.count()
        reply = self.post(source, body, headers, **kw)
        assert reply.status == status, (reply.status, reply.body)
        assert reply.headers["content-type"] == "application/json"
        error = reply.json()["error"]
        assert set(error) == {"code", "message", "details"}
        assert isinstance(error["details"], list)
        if status == 401:
            assert error["code"] == "webhook_rejected"
            assert reason in error["message"]
        assert self.count() == before
        self.rejected[reason] += 1
        return dict(error)

    def item(self, event_id: str) -> dict[str, Any]:
        """The stored item with its DynamoDB attribute types: ``{"body": {"S": ...}, ...}``."""
        answer = self.client.get_item(
            TableName=self.server.table,
            Key={"pk": {"S": ids.key_of(event_id)}},
            ConsistentRead=True,
        )
        item: dict[str, Any] = answer["Item"]
        assert item["event_id"] == {"S": event_id}
        return item


def serve_hooks(tmp_path_factory: pytest.TempPathFactory, table: str) -> Harness:
    sources = write_sources(tmp_path_factory.mktemp("webhooks"), SOURCES)
    server, process = start_server("--sources", str(sources), "--emit-metrics", table=table)
    return Harness(server, process)


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """The module's server. When every test that used it is done, whatever their order, what it
    printed is checked: each answer counted in its metrics, no secret or signature anywhere."""
    harness = serve_hooks(tmp_path_factory, "webhooks")
    yield harness
    assert_counted_and_nothing_leaked(harness)


def assert_stored(
    hooks: Harness,
    event_id: str,
    body: bytes,
    *,
    source: str,
    event_type: str,
    delivery_id: str | None,
) -> dict[str, Any]:
    item = hooks.item(event_id)
    try:
        assert item["body"] == {"S": body.decode("utf-8")}
    except UnicodeDecodeError:
        assert item["body"] == {"B": body}
    assert item["size"] == {"N": str(len(body))}
    assert item["source"] == {"S": source}
    assert item["type"] == {"S": event_type}
    assert item["kind"] == {"S": "webhook"}
    if delivery_id is None:
        assert "id" not in item
    else:
        assert item["id"] == {"S": delivery_id}
    return item


def assert_redelivery_is_a_duplicate(
    hooks: Harness, source: str, body: bytes, headers: dict[str, str], event_id: str
) -> None:
    before = hooks.count()
    reply = hooks.post(source, body, headers)
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert answer["duplicate"] is True
    assert answer["event_id"] == event_id
    assert answer["received_at"] == hooks.item(event_id)["received_at"]["S"]
    assert hooks.count() == before


# --------------------------------------------------------------------------------------------
# A correctly signed delivery per scheme: stored byte-exact, and a redelivery is a duplicate


@dataclass(frozen=True)
class Delivery:
    body: bytes
    event_type: str
    delivery_id: str | None
    headers: dict[str, str]


def accept_exactly_once(hooks: Harness, source: str, delivery: Delivery) -> dict[str, Any]:
    """The delivery is accepted and stored byte-exact with its type and id, and its redelivery
    is answered as a duplicate; the stored item."""
    event_id = hooks.accept(source, delivery.body, delivery.headers)
    item = assert_stored(
        hooks,
        event_id,
        delivery.body,
        source=source,
        event_type=delivery.event_type,
        delivery_id=delivery.delivery_id,
    )
    assert_redelivery_is_a_duplicate(hooks, source, delivery.body, delivery.headers, event_id)
    return item


def delivery_for(source: str, *, secret: str | None = None, now: float | None = None) -> Delivery:
    """A realistic delivery with a unique delivery id, signed with ``secret`` at ``now``
    (default: the source's secret, the current time)."""
    key = uid()

    def signed_headers(source: str, body: bytes, **kw: Any) -> dict[str, str]:
        return _signed_headers(source, body, secret=secret, now=now, **kw)

    if source in ("github", "rotating"):
        body = json.dumps(
            {"ref": "refs/heads/main", "after": key, "repository": {"full_name": "o/r"}}, indent=2
        ).encode()
        delivery_id = str(uuid.uuid4())
        headers = signed_headers(source, body, delivery_id=delivery_id, event_type="push")
        return Delivery(body, "push", delivery_id, headers)
    if source == "stripe":
        body = json.dumps(
            {"id": f"evt_{key}", "object": "event", "type": "invoice.paid", "data": {}}, indent=2
        ).encode()
        return Delivery(body, "invoice.paid", f"evt_{key}", signed_headers(source, body))
    if source == "slack":
        body = json.dumps(
            {
                "type": "event_callback",
                "event_id": f"Ev{key}",
                "event": {"type": "app_mention", "text": "<@U0LAN0Z89> is it everything?"},
            }
        ).encode()
        return Delivery(body, "app_mention", f"Ev{key}", signed_headers(source, body))
    if source == "shopify":
        body = json.dumps({"id": 820982911946154508, "total_price": "12.50", "note": key}).encode()
        delivery_id = str(uuid.uuid4())
        headers = signed_headers(source, body, delivery_id=delivery_id, event_type="orders/create")
        return Delivery(body, "orders/create", delivery_id, headers)
    if source == "billing":
        body = json.dumps({"type": "contact.created", "data": {"id": key}}).encode()
        delivery_id = f"msg_{key}"
        headers = signed_headers(source, body, delivery_id=delivery_id)
        return Delivery(body, "contact.created", delivery_id, headers)
    body = json.dumps({"build": key, "status": "passed", "price": 1.10}).encode()
    headers = signed_headers(source, body, delivery_id=key, event_type="build.finished")
    return Delivery(body, "build.finished", key, headers)


@pytest.mark.parametrize("source", [*SIGNED, "sandbox", "rotating"])
def test_a_signed_delivery_is_stored_exactly_and_its_redelivery_is_a_duplicate(
    hooks: Harness, source: str
) -> None:
    item = accept_exactly_once(hooks, source, delivery_for(source))
    assert item["content_type"] == {"S": "application/json"}


def test_a_none_source_stores_anything_with_the_default_type(hooks: Harness) -> None:
    body = b'{"anything": true}'
    event_id = hooks.accept("sandbox", body, {})
    assert_stored(hooks, event_id, body, source="sandbox", event_type="webhook", delivery_id=None)


# --------------------------------------------------------------------------------------------
# The providers' own examples and reference implementations


def test_githubs_documented_example_is_accepted(hooks: Harness) -> None:
    delivery_id = str(uuid.uuid4())
    headers = {
        "X-Hub-Signature-256": GITHUB_DOC.signature,
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": delivery_id,
    }
    accept_exactly_once(hooks, "github", Delivery(GITHUB_DOC.body, "ping", delivery_id, headers))
    hooks.reject("github", b"Hello, World?", headers, "invalid_signature")


def test_slacks_documented_example_verifies_and_is_then_refused_as_stale(hooks: Harness) -> None:
    """The 2018 example's signature matches (the timestamp is checked only after it), so the
    answer is stale_timestamp; one changed byte makes it invalid_signature instead."""
    headers = {
        "X-Slack-Signature": SLACK_DOC.signature,
        "X-Slack-Request-Timestamp": SLACK_DOC.timestamp,
    }
    form = "application/x-www-form-urlencoded"
    hooks.reject("slack", SLACK_DOC.body, headers, "stale_timestamp", content_type=form)
    tampered = SLACK_DOC.body.replace(b"foobar", b"foobaz")
    hooks.reject("slack", tampered, headers, "invalid_signature", content_type=form)


def stripe_event(event_type: str = "payment_intent.succeeded") -> tuple[str, str]:
    event_id = f"evt_{uid()[:24]}"
    payload = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "type": event_type,
            "data": {"object": {"id": "pi_3OJbqH2eZvKYlo2C0", "amount": 2000, "currency": "eur"}},
            "livemode": False,
        },
        indent=2,
    )
    return payload, event_id


def test_stripes_library_signature_is_accepted(hooks: Harness) -> None:
    payload, event_id_sent = stripe_event()
    header = stripe.WebhookSignature.generate_signature_header(payload, STRIPE_SECRET)
    delivery = Delivery(
        payload.encode(), "payment_intent.succeeded", event_id_sent, {"Stripe-Signature": header}
    )
    accept_exactly_once(hooks, "stripe", delivery)


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(-(TOLERANCE + 60), "stale_timestamp"), (TOLERANCE + 60, "future_timestamp")],
)
def test_stripes_library_signature_outside_the_tolerance_is_refused(
    hooks: Harness, offset: int, reason: str
) -> None:
    payload, _ = stripe_event()
    header = stripe.WebhookSignature.generate_signature_header(
        payload, STRIPE_SECRET, timestamp=int(time.time()) + offset
    )
    hooks.reject("stripe", payload.encode(), {"Stripe-Signature": header}, reason)


def test_stripe_rolling_secret_header_with_two_v1_signatures_is_accepted(hooks: Harness) -> None:
    """While a Stripe endpoint secret is rolled, Stripe signs with both the old and new one."""
    payload, _ = stripe_event()
    timestamp = int(time.time())
    ours = stripe.WebhookSignature.generate_signature_header(payload, STRIPE_SECRET, timestamp)
    other = stripe.WebhookSignature.generate_signature_header(payload, WRONG_SECRET, timestamp)
    header = f"{other},v1={ours.split('v1=')[1]}"
    hooks.accept("stripe", payload.encode(), {"Stripe-Signature": header})


def standard_headers(
    msg_id: str, body: str, *, secret: str = SW_SECRET, offset: int = 0
) -> dict[str, str]:
    stamp = datetime.fromtimestamp(int(time.time()) + offset, tz=UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(stamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=msg_id, timestamp=stamp, data=body),
    }


def test_the_standard_webhooks_reference_signature_is_accepted(hooks: Harness) -> None:
    msg_id = f"msg_{uid()}"
    body = '{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z","data":{"id":"1f81eb52"}}'
    headers = standard_headers(msg_id, body)
    accept_exactly_once(
        hooks, "billing", Delivery(body.encode(), "contact.created", msg_id, headers)
    )


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(-(TOLERANCE + 60), "stale_timestamp"), (TOLERANCE + 60, "future_timestamp")],
)
def test_the_standard_webhooks_reference_signature_outside_the_tolerance_is_refused(
    hooks: Harness, offset: int, reason: str
) -> None:
    body = '{"type":"contact.created","data":{}}'
    headers = standard_headers(f"msg_{uid()}", body, offset=offset)
    hooks.reject("billing", body.encode(), headers, reason)


def test_shopifys_reference_computation_is_accepted(hooks: Harness) -> None:
    """Shopify's documented check: base64 of the HMAC-SHA256 of the raw body, keyed with the
    client secret, computed here independently of the service's signer. Without a webhook id
    the event id header is the delivery id."""
    body = json.dumps({"id": 450789469, "email": "bob.norman@mail.example.com"}).encode()
    digest = base64.b64encode(hmac_sha256(SHOPIFY_SECRET.encode(), body)).decode()
    event_header = str(uuid.uuid4())
    headers = {
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Event-Id": event_header,
        "X-Shopify-Shop-Domain": "example.myshopify.com",
        "X-Shopify-API-Version": "2024-07",
    }
    accept_exactly_once(hooks, "shopify", Delivery(body, "orders/create", event_header, headers))


def test_a_generic_hmac_signature_computed_independently_is_accepted(hooks: Harness) -> None:
    body = b"build 42 finished: passed"
    digest = base64.b64encode(hmac_sha256(ACME_SECRET.encode(), body)).decode()
    headers = {"X-Acme-Signature": f"sha256={digest}", "X-Acme-Event": "build.finished"}
    event_id = hooks.accept("acme", body, headers, content_type="text/plain")
    item = assert_stored(
        hooks, event_id, body, source="acme", event_type="build.finished", delivery_id=None
    )
    assert item["content_type"] == {"S": "text/plain"}


# --------------------------------------------------------------------------------------------
# Rejections: 401, nothing stored, counted by reason


def without(headers: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() != name.lower()}


def replaced(headers: dict[str, str], name: str, value: str) -> dict[str, str]:
    return {**without(headers, name), name: value}


Case = Callable[[], tuple[bytes, dict[str, str]]]


def signed(
    source: str, *, secret: str | None = None, now: float | None = None
) -> tuple[bytes, dict[str, str]]:
    delivery = delivery_for(source, secret=secret, now=now)
    return delivery.body, delivery.headers


def tampered(source: str) -> tuple[bytes, dict[str, str]]:
    body, headers = signed(source)
    return body.replace(b"{", b"{ ", 1), headers


def wrong_secret(source: str) -> tuple[bytes, dict[str, str]]:
    return signed(source, secret=WRONG_SW_SECRET if source == "billing" else WRONG_SECRET)


def missing_header(source: str) -> tuple[bytes, dict[str, str]]:
    body, headers = signed(source)
    return body, without(headers, SIGNATURE_HEADER[source])


def header_replaced(source: str, name: str, value: Callable[[str], str]) -> Case:
    def case() -> tuple[bytes, dict[str, str]]:
        body, headers = signed(source)
        current = next(v for k, v in headers.items() if k.lower() == name.lower())
        return body, replaced(headers, name, value(current))

    return case


def header_dropped(source: str, name: str) -> Case:
    def case() -> tuple[bytes, dict[str, str]]:
        body, headers = signed(source)
        return body, without(headers, name)

    return case


def body_resigned(source: str, body: bytes, **kw: Any) -> Case:
    def case() -> tuple[bytes, dict[str, str]]:
        key = str(uuid.uuid4())
        ids_kw = {"delivery_id": key} if source in ("github", "shopify", "billing") else {}
        return body, signed_headers(source, body, **{**ids_kw, **kw})

    return case


HEX = "ab" * 32
REJECTIONS: list[tuple[str, str, Case, str]] = [
    *[(f"{s}-tampered", s, lambda s=s: tampered(s), "invalid_signature") for s in SIGNED],
    *[(f"{s}-wrong-secret", s, lambda s=s: wrong_secret(s), "invalid_signature") for s in SIGNED],
    *[(f"{s}-missing", s, lambda s=s: missing_header(s), "missing_signature") for s in SIGNED],
    (
        "github-sha1",
        "github",
        header_replaced("github", "X-Hub-Signature-256", lambda v: "sha1=" + "ab" * 20),
        "malformed_signature",
    ),
    (
        "github-not-hex",
        "github",
        header_replaced("github", "X-Hub-Signature-256", lambda v: "sha256=" + "zz" * 32),
        "malformed_signature",
    ),
    (
        "stripe-no-v1",
        "stripe",
        header_replaced("stripe", "Stripe-Signature", lambda v: v.split(",")[0] + ",v0=" + HEX),
        "malformed_signature",
    ),
    (
        "slack-v1",
        "slack",
        header_replaced("slack", "X-Slack-Signature", lambda v: "v1=" + HEX),
        "malformed_signature",
    ),
    (
        "shopify-not-base64",
        "shopify",
        header_replaced("shopify", "X-Shopify-Hmac-Sha256", lambda v: "not base64!"),
        "malformed_signature",
    ),
    (
        "billing-v1a-only",
        "billing",
        header_replaced("billing", "webhook-signature", lambda v: v.replace("v1,", "v1a,")),
        "malformed_signature",
    ),
    (
        "acme-no-prefix",
        "acme",
        header_replaced("acme", "X-Acme-Signature", lambda v: v.removeprefix("sha256=")),
        "malformed_signature",
    ),
    (
        "acme-hex-not-base64",
        "acme",
        header_replaced("acme", "X-Acme-Signature", lambda v: "sha256=" + HEX),
        "malformed_signature",
    ),
    *[
        (
            f"{s}-stale",
            s,
            lambda s=s: signed(s, now=time.time() - TOLERANCE - 60),
            "stale_timestamp",
        )
        for s in TIMESTAMPED
    ],
    *[
        (
            f"{s}-future",
            s,
            lambda s=s: signed(s, now=time.time() + TOLERANCE + 60),
            "future_timestamp",
        )
        for s in TIMESTAMPED
    ],
    (
        "stripe-no-t",
        "stripe",
        header_replaced("stripe", "Stripe-Signature", lambda v: v.split(",", 1)[1]),
        "missing_timestamp",
    ),
    (
        "slack-no-timestamp",
        "slack",
        header_dropped("slack", "X-Slack-Request-Timestamp"),
        "missing_timestamp",
    ),
    (
        "billing-no-timestamp",
        "billing",
        header_dropped("billing", "webhook-timestamp"),
        "missing_timestamp",
    ),
    (
        "stripe-t-not-a-number",
        "stripe",
        header_replaced("stripe", "Stripe-Signature", lambda v: "t=soon," + v.split(",", 1)[1]),
        "malformed_timestamp",
    ),
    (
        "slack-fractional-timestamp",
        "slack",
        header_replaced("slack", "X-Slack-Request-Timestamp", lambda v: v + ".5"),
        "malformed_timestamp",
    ),
    ("billing-no-id", "billing", header_dropped("billing", "webhook-id"), "missing_delivery_id"),
    (
        "stripe-without-type",
        "stripe",
        body_resigned("stripe", b'{"id": "evt_no_type", "object": "event"}'),
        "malformed_payload",
    ),
    ("billing-not-json", "billing", body_resigned("billing", b"<xml/>"), "malformed_payload"),
    (
        "github-long-type",
        "github",
        body_resigned("github", b"{}", event_type="t" * 300),
        "malformed_event_type",
    ),
    (
        "shopify-long-id",
        "shopify",
        body_resigned("shopify", b"{}", delivery_id="i" * 300),
        "malformed_delivery_id",
    ),
]


@pytest.mark.parametrize(
    ("source", "case", "reason"),
    [pytest.param(source, case, reason, id=name) for name, source, case, reason in REJECTIONS],
)
def test_a_rejected_delivery_is_401_and_stores_nothing(
    hooks: Harness, source: str, case: Case, reason: str
) -> None:
    body, headers = case()
    error = hooks.reject(source, body, headers, reason)
    assert error["details"] == []


def test_an_unknown_source_is_404_and_stores_nothing(hooks: Harness) -> None:
    delivery = delivery_for("github")
    error = hooks.reject(
        "no-such-source", delivery.body, delivery.headers, "unknown_source", status=404
    )
    assert error["code"] == "not_found"


def test_a_body_over_the_webhook_limit_is_413_and_stores_nothing(hooks: Harness) -> None:
    body = b'{"pad": "' + b"x" * MAX_WEBHOOK_BYTES + b'"}'
    error = hooks.reject("sandbox", body, {}, "too_large", status=413)
    assert error["code"] == "payload_too_large"
    headers = signed_headers("github", body, delivery_id=uid(), event_type="push")
    hooks.reject("github", body, headers, "too_large", status=413)


def test_a_body_of_exactly_the_webhook_limit_is_stored(hooks: Harness) -> None:
    body = b'{"pad": "' + b"x" * (MAX_WEBHOOK_BYTES - 11) + b'"}'
    assert len(body) == MAX_WEBHOOK_BYTES
    headers = signed_headers("shopify", body, delivery_id=uid(), event_type="orders/create")
    event_id = hooks.accept("shopify", body, headers)
    assert hooks.item(event_id)["size"] == {"N": str(MAX_WEBHOOK_BYTES)}


def test_an_unsigned_slack_handshake_is_refused(hooks: Harness) -> None:
    body = b'{"type": "url_verification", "challenge": "unsigned-challenge"}'
    hooks.reject("slack", body, {}, "missing_signature")


# --------------------------------------------------------------------------------------------
# Non-JSON and binary bodies, handshakes, rotation


FORM = "application/x-www-form-urlencoded"


def test_a_slack_slash_command_form_is_stored_byte_exact_and_not_deduplicated(
    hooks: Harness,
) -> None:
    body = (
        "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&team_domain=example&channel_id=C2147483705"
        "&user_id=U2147483697&command=%2Fdeploy&text=prod+%E2%9C%93&response_url="
        f"https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1234%2F5678&trigger_id={uid()}"
    ).encode()
    headers = signed_headers("slack", body)
    first = hooks.accept("slack", body, headers, content_type=FORM)
    item = assert_stored(hooks, first, body, source="slack", event_type="/deploy", delivery_id=None)
    assert item["content_type"] == {"S": FORM}
    second = hooks.accept("slack", body, headers, content_type=FORM)
    assert second != first


def test_a_slack_interaction_is_stored_with_its_payload_type(hooks: Harness) -> None:
    payload = json.dumps({"type": "block_actions", "trigger_id": uid(), "actions": []})
    body = urlencode({"payload": payload}).encode()
    event_id = hooks.accept("slack", body, signed_headers("slack", body), content_type=FORM)
    assert_stored(
        hooks, event_id, body, source="slack", event_type="block_actions", delivery_id=None
    )


def test_a_binary_body_is_stored_as_bytes(hooks: Harness) -> None:
    """application/octet-stream reaches the handler base64-encoded (isBase64Encoded)."""
    body = bytes(range(256)) + b"\x00\xff\xfe" + uid().encode()
    delivery_id = uid()
    headers = signed_headers("acme", body, delivery_id=delivery_id, event_type="blob.uploaded")
    event_id = hooks.accept("acme", body, headers, content_type="application/octet-stream")
    assert_stored(
        hooks, event_id, body, source="acme", event_type="blob.uploaded", delivery_id=delivery_id
    )
    assert_redelivery_is_a_duplicate(hooks, "acme", body, headers, event_id)


def test_a_text_body_that_is_not_utf8_is_stored_as_bytes(hooks: Harness) -> None:
    body = "caf\u00e9 cr\u00e8me ".encode("latin-1") + uid().encode()
    headers = signed_headers("github", body, delivery_id=uid(), event_type="push")
    event_id = hooks.accept("github", body, headers, content_type="text/plain; charset=latin-1")
    assert hooks.item(event_id)["body"] == {"B": body}


def test_a_plain_text_body_is_stored_as_text(hooks: Harness) -> None:
    body = f"line one\r\n  line two \u2713\n{uid()}\n".encode()
    delivery_id = uid()
    headers = signed_headers("acme", body, delivery_id=delivery_id, event_type="note")
    event_id = hooks.accept("acme", body, headers, content_type="text/plain")
    assert_stored(hooks, event_id, body, source="acme", event_type="note", delivery_id=delivery_id)


def test_slack_url_verification_answers_the_challenge_and_stores_nothing(hooks: Harness) -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json.dumps(
        {"token": "Jhj5dZrVaK7ZwHHjRyZWjbDl", "challenge": challenge, "type": "url_verification"}
    ).encode()
    before = hooks.count()
    reply = hooks.post("slack", body, signed_headers("slack", body))
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/json"
    assert reply.json() == {"challenge": challenge}
    assert hooks.count() == before


def test_slack_ssl_check_is_answered_and_stores_nothing(hooks: Harness) -> None:
    body = b"ssl_check=1&token=Jhj5dZrVaK7ZwHHjRyZWjbDl"
    before = hooks.count()
    reply = hooks.post("slack", body, signed_headers("slack", body), content_type=FORM)
    assert reply.status == 200, reply.body
    assert reply.json() == {}
    assert hooks.count() == before


def test_rotation_accepts_both_configured_secrets_and_nothing_else(hooks: Harness) -> None:
    body = delivery_for("rotating").body
    delivery_id = str(uuid.uuid4())
    old = signed_headers("rotating", body, secret=ROTATION_OLD, delivery_id=delivery_id)
    event_id = hooks.accept("rotating", body, old)
    # the provider switched to the new secret and redelivers: same delivery, a duplicate
    new = signed_headers("rotating", body, secret=ROTATION_NEW, delivery_id=delivery_id)
    assert_redelivery_is_a_duplicate(hooks, "rotating", body, new, event_id)
    fresh = signed_headers("rotating", body, secret=ROTATION_NEW, delivery_id=uid())
    hooks.accept("rotating", body, fresh)
    # the other source's secret, or a retired one, does not verify here
    for secret in (GITHUB_DOC.secret, WRONG_SECRET):
        headers = signed_headers("rotating", body, secret=secret, delivery_id=uid())
        hooks.reject("rotating", body, headers, "invalid_signature")


# --------------------------------------------------------------------------------------------
# What the server printed: metrics by reason, and never a secret.


def emf_records(output: str) -> list[dict[str, Any]]:
    records = []
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" in document:
            records.append(document)
    return records


def metric_total(records: list[dict[str, Any]], name: str, **dimensions: str) -> float:
    """The sum of metric ``name`` over the records with exactly these dimensions (and service)."""
    total = 0.0
    for record in records:
        if name not in record:
            continue
        (declared,) = record["_aws"]["CloudWatchMetrics"]
        if declared["Dimensions"] != [["service", *dimensions]]:
            continue
        if any(record.get(key) != value for key, value in dimensions.items()):
            continue
        value = record[name]
        total += sum(value) if isinstance(value, list) else value
    return total


def assert_counted_and_nothing_leaked(hooks: Harness) -> str:
    """Stop the server: every rejection it answered is counted by reason in its metrics and
    logged, every acceptance and duplicate counted, and no secret or signature was printed or
    answered. Returns what it printed."""
    output = hooks.stop()
    records = emf_records(output)
    assert records or not hooks.answers, output[-2000:]
    for reason, count in hooks.rejected.items():
        assert metric_total(records, "WebhookRejected", reason=reason) == count, reason
    assert metric_total(records, "WebhookRejected") == sum(hooks.rejected.values())
    assert metric_total(records, "EventsAccepted") == hooks.accepted
    assert metric_total(records, "EventsDuplicate") == hooks.duplicates
    # a 401 is a webhook rejection, not also an /events rejection
    assert metric_total(records, "EventsRejected", reason="webhook_rejected") == 0

    logged = [json.loads(line) for line in output.splitlines() if '"webhook rejected"' in line]
    assert {entry["reason"] for entry in logged} == set(hooks.rejected)

    leaks = [*secret_forms(), *sorted(hooks.signatures)]
    for text in [output, *(body.decode("utf-8", "replace") for body in hooks.answers)]:
        for leak in leaks:
            assert leak not in text, f"a secret or signature was printed: {leak[:4]}..."
    return output


def test_every_rejection_is_counted_by_reason_and_no_secret_is_printed(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """One of each rejection, an acceptance and a duplicate, on a server of its own (the module's
    server is checked the same way once its tests are done)."""
    hooks = serve_hooks(tmp_path_factory, "webhooks-counted")
    try:
        for _, source, case, reason in REJECTIONS:
            body, headers = case()
            hooks.reject(source, body, headers, reason)
        hooks.reject("unknown", b"{}", {}, "unknown_source", status=404)
        hooks.reject("sandbox", b"x" * (MAX_WEBHOOK_BYTES + 1), {}, "too_large", status=413)
        hooks.accept("sandbox", b"{}", {"X-Delivery-Id": "last"})
        hooks.post("sandbox", b"{}", {"X-Delivery-Id": "last"})
    finally:
        hooks.stop()

    exercised = {reason for _, _, _, reason in REJECTIONS} | {"unknown_source", "too_large"}
    assert set(hooks.rejected) == exercised
    assert hooks.duplicates == 1
    assert len(hooks.signatures) > 20
    assert_counted_and_nothing_leaked(hooks)
