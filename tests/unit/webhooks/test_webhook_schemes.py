"""Signature schemes: each provider's documented behaviour, rejections, rotation and round trips."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import VerifiedDelivery, WebhookRejected, sign, verify

from tests.webhook_providers import GITHUB_DOC, SLACK_DOC

NOW = 1_700_000_000.0

SECRETS: dict[str, str] = {
    "github": "gh-webhook-secret-0123456789",
    "stripe": "whsec_stripeSigningSecret0123456789",
    "slack": "8f742231b10e8888abcd99yyyzzz85a5",
    "shopify": "shpss_client_secret_0123456789",
    "standard-webhooks": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "hmac-sha256": "generic-shared-secret",
}
SIGNED_SCHEMES = sorted(SECRETS)
TIMESTAMPED_SCHEMES = ["slack", "standard-webhooks", "stripe"]
#: A body every scheme can take type and delivery id from.
EVENT_BODY = json.dumps(
    {
        "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        "type": "invoice.paid",
        "event_id": "Ev0PV52K21",
        "event": {"type": "app_mention"},
        "data": {"amount": 1999},
    },
    separators=(",", ":"),
).encode()

KNOWN_REASONS = {
    "missing_signature",
    "malformed_signature",
    "invalid_signature",
    "missing_timestamp",
    "malformed_timestamp",
    "stale_timestamp",
    "future_timestamp",
    "missing_delivery_id",
    "no_secret",
    "unusable_secret",
    "malformed_payload",
    "malformed_event_type",
    "malformed_delivery_id",
}


def make_config(scheme: str, *secrets: str, **options: object) -> SourceConfig:
    data: dict[str, object] = {"scheme": scheme, **options}
    if scheme != "none":
        data["secrets"] = list(secrets) or [SECRETS[scheme]]
    if scheme == "hmac-sha256":
        data.setdefault("header", "X-Signature")
    return SourceConfig.model_validate(data)


def lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def signed(
    config: SourceConfig,
    body: bytes = EVENT_BODY,
    *,
    secret: str | None = None,
    at: float = NOW,
    delivery_id: str | None = "delivery-1",
    event_type: str | None = "push",
) -> dict[str, str]:
    key = secret if secret is not None else config.inline_secrets()[0]
    return lower(sign(config, body, key, at, delivery_id=delivery_id, event_type=event_type))


def accepted(
    config: SourceConfig,
    headers: Mapping[str, str],
    body: bytes = EVENT_BODY,
    *,
    secrets: list[str] | None = None,
    now: float = NOW,
) -> VerifiedDelivery:
    active = config.inline_secrets() if secrets is None else secrets
    return verify(config, headers, body, active, now)


def rejected(*args: Any, **options: Any) -> WebhookRejected:
    """The rejection :func:`accepted`'s call gets instead (a known reason)."""
    with pytest.raises(WebhookRejected) as info:
        accepted(*args, **options)
    assert info.value.reason in KNOWN_REASONS
    return info.value


# --------------------------------------------------------------------------------------------
# GitHub


def test_github_accepts_the_documented_example() -> None:
    config = make_config("github", GITHUB_DOC.secret)
    headers = {
        "x-hub-signature-256": GITHUB_DOC.signature,
        "x-github-event": "push",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    }
    delivery = accepted(config, headers, GITHUB_DOC.body)
    assert delivery == VerifiedDelivery("push", "72d3162e-cc78-11e3-81ab-4c9367dc0958")


def test_github_signs_the_documented_example() -> None:
    config = make_config("github", GITHUB_DOC.secret)
    headers = sign(config, GITHUB_DOC.body, GITHUB_DOC.secret, NOW, delivery_id="d", event_type="e")
    assert headers == {
        "X-Hub-Signature-256": GITHUB_DOC.signature,
        "X-GitHub-Event": "e",
        "X-GitHub-Delivery": "d",
    }


def test_github_accepts_uppercase_hex() -> None:
    config = make_config("github", GITHUB_DOC.secret)
    headers = {"x-hub-signature-256": "sha256=" + GITHUB_DOC.signature[7:].upper()}
    assert accepted(config, headers, GITHUB_DOC.body).event_type == "webhook"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing_signature"),
        ("", "missing_signature"),
        ("sha1=7d38cdd689735b008b3c702edd92eea23791c5f6", "malformed_signature"),
        ("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "malformed_signature"),
        (
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
            "malformed_signature",
        ),
        (
            "sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "malformed_signature",
        ),
        (
            "sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
            "invalid_signature",
        ),
    ],
)
def test_github_rejects_bad_signature_headers(value: str | None, reason: str) -> None:
    config = make_config("github", GITHUB_DOC.secret)
    headers = {} if value is None else {"x-hub-signature-256": value}
    assert rejected(config, headers, GITHUB_DOC.body).reason == reason


def test_github_ignores_the_legacy_sha1_header() -> None:
    config = make_config("github", GITHUB_DOC.secret)
    headers = {"x-hub-signature": "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6"}
    assert rejected(config, headers, GITHUB_DOC.body).reason == "missing_signature"


def test_github_without_event_and_delivery_headers_defaults() -> None:
    config = make_config("github", GITHUB_DOC.secret)
    delivery = accepted(config, {"x-hub-signature-256": GITHUB_DOC.signature}, GITHUB_DOC.body)
    assert delivery == VerifiedDelivery("webhook", None)


def test_github_sign_invents_a_delivery_id_like_github() -> None:
    config = make_config("github")
    first = sign(config, b"{}", SECRETS["github"], NOW)
    second = sign(config, b"{}", SECRETS["github"], NOW)
    assert first["X-GitHub-Event"] == "webhook"
    assert uuid.UUID(first["X-GitHub-Delivery"]) != uuid.UUID(second["X-GitHub-Delivery"])


# --------------------------------------------------------------------------------------------
# Stripe


def stripe_header(body: bytes, secret: str, timestamp: int, *extra: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return ",".join([f"t={timestamp}", f"v1={digest}", *extra])


def test_stripe_takes_type_and_id_from_the_body() -> None:
    config = make_config("stripe")
    delivery = accepted(config, signed(config))
    assert delivery == VerifiedDelivery("invoice.paid", "evt_1NG8Du2eZvKYlo2CUI79vXWy")


def test_stripe_sign_ignores_type_and_id_arguments() -> None:
    config = make_config("stripe")
    headers = sign(config, EVENT_BODY, SECRETS["stripe"], NOW, delivery_id="x", event_type="y")
    assert list(headers) == ["Stripe-Signature"]
    assert headers["Stripe-Signature"] == stripe_header(EVENT_BODY, SECRETS["stripe"], int(NOW))


def test_stripe_accepts_any_of_several_v1_signatures_and_ignores_v0() -> None:
    config = make_config("stripe")
    good = stripe_header(EVENT_BODY, SECRETS["stripe"], int(NOW)).split(",")[1]
    header = f"t={int(NOW)},v1={'0' * 64},{good},v0={'1' * 64},v1=not-hex"
    assert accepted(config, {"stripe-signature": header}).event_type == "invoice.paid"


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("", "missing_signature"),
        (f"v1={'a' * 64}", "missing_timestamp"),
        (f"t=,v1={'a' * 64}", "malformed_timestamp"),
        (f"t=17e8,v1={'a' * 64}", "malformed_timestamp"),
        (f"t=-1700000000,v1={'a' * 64}", "malformed_timestamp"),
        (f"t=1700000000,t=1700000001,v1={'a' * 64}", "malformed_signature"),
        ("t=1700000000", "malformed_signature"),
        (f"t=1700000000,v0={'a' * 64}", "malformed_signature"),
        ("t=1700000000,v1=abc", "malformed_signature"),
        ("garbage", "missing_timestamp"),
        (f"t=1700000000,v1={'a' * 64}", "invalid_signature"),
    ],
)
def test_stripe_rejects_bad_signature_headers(header: str, reason: str) -> None:
    config = make_config("stripe")
    assert rejected(config, {"stripe-signature": header}).reason == reason


@pytest.mark.parametrize(
    ("age", "reason"),
    [(301, "stale_timestamp"), (-301, "future_timestamp"), (86_400, "stale_timestamp")],
)
def test_stripe_rejects_timestamps_outside_the_tolerance(age: int, reason: str) -> None:
    config = make_config("stripe")
    assert rejected(config, signed(config, at=NOW - age)).reason == reason


@pytest.mark.parametrize("age", [300, 0, -300])
def test_stripe_accepts_timestamps_at_the_tolerance_edges(age: int) -> None:
    config = make_config("stripe")
    assert accepted(config, signed(config, at=NOW - age)).event_type == "invoice.paid"


def test_stripe_honours_a_custom_tolerance() -> None:
    config = make_config("stripe", tolerance_seconds=10)
    assert accepted(config, signed(config, at=NOW - 10)).delivery_id is not None
    assert rejected(config, signed(config, at=NOW - 11)).reason == "stale_timestamp"


def test_stripe_checks_the_signature_before_the_timestamp() -> None:
    config = make_config("stripe")
    headers = signed(config, at=NOW - 10_000, secret="whsec_other")
    assert rejected(config, headers).reason == "invalid_signature"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b'{"id": "evt_1"}',
        b'{"type": 7}',
        b'{"type": ""}',
        b"[" * 50_000,
    ],
)
def test_stripe_authentic_body_without_a_type_is_a_bad_request(body: bytes) -> None:
    config = make_config("stripe")
    error = rejected(config, signed(config, body), body)
    assert (error.reason, error.status) == ("malformed_payload", 400)


def test_stripe_event_without_id_is_accepted_without_delivery_id() -> None:
    config = make_config("stripe")
    body = b'{"type": "charge.succeeded"}'
    assert accepted(config, signed(config, body), body) == VerifiedDelivery(
        "charge.succeeded", None
    )


# --------------------------------------------------------------------------------------------
# Slack

SLACK_DOC_HEADERS = {
    "x-slack-signature": SLACK_DOC.signature,
    "x-slack-request-timestamp": SLACK_DOC.timestamp,
}


def test_slack_accepts_the_documented_slash_command_example() -> None:
    config = make_config("slack", SLACK_DOC.secret)
    delivery = accepted(config, SLACK_DOC_HEADERS, SLACK_DOC.body, now=float(SLACK_DOC.timestamp))
    assert delivery == VerifiedDelivery("/webhook-collect", None)


def test_slack_signs_the_documented_example() -> None:
    config = make_config("slack", SLACK_DOC.secret)
    headers = sign(config, SLACK_DOC.body, SLACK_DOC.secret, float(SLACK_DOC.timestamp))
    assert lower(headers) == SLACK_DOC_HEADERS


@pytest.mark.parametrize(
    ("offset", "reason"), [(301, "stale_timestamp"), (-301, "future_timestamp")]
)
def test_slack_rejects_the_documented_example_outside_the_tolerance(
    offset: int, reason: str
) -> None:
    config = make_config("slack", SLACK_DOC.secret)
    now = float(SLACK_DOC.timestamp) + offset
    assert rejected(config, SLACK_DOC_HEADERS, SLACK_DOC.body, now=now).reason == reason


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"x-slack-request-timestamp": SLACK_DOC.timestamp}, "missing_signature"),
        ({"x-slack-signature": SLACK_DOC.signature}, "missing_timestamp"),
        ({**SLACK_DOC_HEADERS, "x-slack-request-timestamp": "yesterday"}, "malformed_timestamp"),
        ({**SLACK_DOC_HEADERS, "x-slack-signature": "v1=" + "a" * 64}, "malformed_signature"),
        (
            {**SLACK_DOC_HEADERS, "x-slack-signature": SLACK_DOC.signature[3:]},
            "malformed_signature",
        ),
        ({**SLACK_DOC_HEADERS, "x-slack-request-timestamp": "1531420619"}, "invalid_signature"),
    ],
)
def test_slack_rejects_bad_headers(headers: dict[str, str], reason: str) -> None:
    config = make_config("slack", SLACK_DOC.secret)
    now = float(SLACK_DOC.timestamp)
    assert rejected(config, headers, SLACK_DOC.body, now=now).reason == reason


def test_slack_url_verification_is_answered_with_its_challenge() -> None:
    config = make_config("slack")
    body = (
        b'{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV",'
        b'"type":"url_verification"}'
    )
    delivery = accepted(config, signed(config, body), body)
    assert delivery.reply == {"challenge": "3eZbrw1aBm2rZgRNFdxV"}
    assert delivery.event_type == "url_verification"
    assert delivery.delivery_id is None


def test_slack_url_verification_is_not_answered_without_a_valid_signature() -> None:
    config = make_config("slack")
    body = b'{"challenge":"3eZbrw1aBm2rZgRNFdxV","type":"url_verification"}'
    headers = signed(config, body, secret="not-the-signing-secret")
    assert rejected(config, headers, body).reason == "invalid_signature"


def test_slack_event_callback_uses_the_inner_event_type_and_event_id() -> None:
    config = make_config("slack")
    body = json.dumps(
        {
            "type": "event_callback",
            "event_id": "Ev08MFMKH6",
            "event": {"type": "reaction_added", "user": "U123"},
        }
    ).encode()
    assert accepted(config, signed(config, body), body) == VerifiedDelivery(
        "reaction_added", "Ev08MFMKH6"
    )


def test_slack_without_inner_event_falls_back_to_the_top_level_type() -> None:
    config = make_config("slack")
    body = b'{"type":"app_rate_limited","minute_rate_limited":1518467820}'
    assert accepted(config, signed(config, body), body) == VerifiedDelivery(
        "app_rate_limited", None
    )


def test_slack_interactivity_payload_type() -> None:
    config = make_config("slack")
    body = b"payload=%7B%22type%22%3A%22block_actions%22%2C%22trigger_id%22%3A%2212%22%7D"
    assert accepted(config, signed(config, body), body) == VerifiedDelivery("block_actions", None)


def test_slack_ssl_check_is_answered_without_storing() -> None:
    config = make_config("slack")
    body = b"ssl_check=1&token=XXXXXXXXXXXXXXXXXXXXXXXX"
    assert accepted(config, signed(config, body), body).reply == {}


@pytest.mark.parametrize(
    "body", [b"", b"\xff\xfe", b"payload=%7Bnot-json", b"[1,2]", b'{"event": "x"}', b"a=b"]
)
def test_slack_odd_bodies_fall_back_to_the_default_type(body: bytes) -> None:
    config = make_config("slack")
    assert accepted(config, signed(config, body), body) == VerifiedDelivery("webhook", None)


# --------------------------------------------------------------------------------------------
# Shopify


def shopify_hmac(body: bytes, secret: str = SECRETS["shopify"]) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def test_shopify_uses_topic_and_webhook_id() -> None:
    config = make_config("shopify")
    headers = {
        "x-shopify-hmac-sha256": shopify_hmac(EVENT_BODY),
        "x-shopify-topic": "orders/create",
        "x-shopify-webhook-id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "x-shopify-event-id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
        "x-shopify-shop-domain": "example.myshopify.com",
    }
    assert accepted(config, headers) == VerifiedDelivery(
        "orders/create", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    )


def test_shopify_falls_back_to_the_event_id() -> None:
    config = make_config("shopify")
    headers = {"x-shopify-hmac-sha256": shopify_hmac(EVENT_BODY), "x-shopify-event-id": "e-1"}
    assert accepted(config, headers) == VerifiedDelivery("webhook", "e-1")


def test_shopify_sign_sends_the_provider_headers() -> None:
    config = make_config("shopify")
    headers = sign(config, EVENT_BODY, SECRETS["shopify"], NOW, event_type="orders/paid")
    assert headers["X-Shopify-Hmac-Sha256"] == shopify_hmac(EVENT_BODY)
    assert headers["X-Shopify-Topic"] == "orders/paid"
    assert headers["X-Shopify-Triggered-At"] == "2023-11-14T22:13:20Z"
    uuid.UUID(headers["X-Shopify-Webhook-Id"])


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing_signature"),
        ("not base64!", "malformed_signature"),
        (base64.b64encode(b"short").decode(), "malformed_signature"),
        (hashlib.sha256(b"x").hexdigest(), "malformed_signature"),
        (shopify_hmac(b"another body"), "invalid_signature"),
    ],
)
def test_shopify_rejects_bad_signature_headers(value: str | None, reason: str) -> None:
    config = make_config("shopify")
    headers = {} if value is None else {"x-shopify-hmac-sha256": value}
    assert rejected(config, headers).reason == reason


# --------------------------------------------------------------------------------------------
# Standard Webhooks

# The signing test vector of the Standard Webhooks reference libraries.
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TIMESTAMP = 1614265330
SW_BODY = b'{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SW_HEADERS = {
    "webhook-id": SW_ID,
    "webhook-timestamp": str(SW_TIMESTAMP),
    "webhook-signature": SW_SIGNATURE,
}


def test_standard_webhooks_signs_the_published_test_vector() -> None:
    config = make_config("standard-webhooks", SW_SECRET)
    headers = sign(config, SW_BODY, SW_SECRET, float(SW_TIMESTAMP), delivery_id=SW_ID)
    assert headers == SW_HEADERS


def test_standard_webhooks_verifies_the_published_test_vector() -> None:
    config = make_config("standard-webhooks", SW_SECRET)
    # The vector's body has no `type`: the signature is valid, the payload lacks what we need.
    error = rejected(config, SW_HEADERS, SW_BODY, now=float(SW_TIMESTAMP))
    assert (error.reason, error.status) == ("malformed_payload", 400)
    tampered = {**SW_HEADERS, "webhook-signature": SW_SIGNATURE[:-2] + "A="}
    assert rejected(config, tampered, SW_BODY, now=float(SW_TIMESTAMP)).reason == (
        "invalid_signature"
    )


def test_standard_webhooks_uses_body_type_and_webhook_id() -> None:
    config = make_config("standard-webhooks")
    headers = signed(config, delivery_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
    assert accepted(config, headers) == VerifiedDelivery(
        "invoice.paid", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    )


def test_standard_webhooks_secret_without_prefix_is_the_same_key() -> None:
    config = make_config("standard-webhooks", SW_SECRET.removeprefix("whsec_"))
    headers = signed(config, secret=SW_SECRET)
    assert accepted(config, headers).event_type == "invoice.paid"


def test_standard_webhooks_accepts_one_valid_among_several_signatures() -> None:
    config = make_config("standard-webhooks")
    valid = signed(config)["webhook-signature"]
    others = [
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        "v2,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM"
        "+m7TBAg==",
        "v1,not-base64",
    ]
    headers = {**signed(config), "webhook-signature": " ".join([*others, valid])}
    assert accepted(config, headers).event_type == "invoice.paid"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"webhook-signature": None}, "missing_signature"),
        ({"webhook-id": None}, "missing_delivery_id"),
        ({"webhook-timestamp": None}, "missing_timestamp"),
        ({"webhook-timestamp": "hello"}, "malformed_timestamp"),
        ({"webhook-timestamp": "1700000000.5"}, "malformed_timestamp"),
        ({"webhook-signature": "v1a,abcd v2,abcd"}, "malformed_signature"),
        (
            {"webhook-signature": "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="},
            "malformed_signature",
        ),
        ({"webhook-id": "msg_other"}, "invalid_signature"),
        ({"webhook-timestamp": str(int(NOW) + 1)}, "invalid_signature"),
    ],
)
def test_standard_webhooks_rejects_bad_headers(change: dict[str, str | None], reason: str) -> None:
    config = make_config("standard-webhooks")
    headers = signed(config)
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    assert rejected(config, headers).reason == reason


@pytest.mark.parametrize(("age", "reason"), [(301, "stale_timestamp"), (-301, "future_timestamp")])
def test_standard_webhooks_rejects_timestamps_outside_the_tolerance(age: int, reason: str) -> None:
    config = make_config("standard-webhooks")
    assert rejected(config, signed(config, at=NOW - age)).reason == reason


def test_standard_webhooks_secret_fetched_at_runtime_can_be_unusable() -> None:
    config = make_config("standard-webhooks")
    error = rejected(config, signed(config), secrets=["whsec_***not base64***"])
    assert error.reason == "unusable_secret"


def test_standard_webhooks_skips_an_unusable_secret_among_usable_ones() -> None:
    config = make_config("standard-webhooks")
    headers = signed(config)
    secrets = ["whsec_!!!", SECRETS["standard-webhooks"]]
    assert accepted(config, headers, secrets=secrets).event_type == "invoice.paid"


def test_standard_webhooks_sign_invents_a_message_id() -> None:
    config = make_config("standard-webhooks")
    headers = sign(config, EVENT_BODY, SECRETS["standard-webhooks"], NOW)
    assert headers["webhook-id"].startswith("msg_")


def test_standard_webhooks_sign_rejects_an_unusable_secret() -> None:
    config = make_config("standard-webhooks")
    with pytest.raises(ValueError, match="base64"):
        sign(config, EVENT_BODY, "whsec_***", NOW)


# --------------------------------------------------------------------------------------------
# Generic HMAC-SHA256 and none


def test_hmac_sha256_hex_with_prefix_and_mapped_headers() -> None:
    config = make_config(
        "hmac-sha256",
        header="X-Acme-Signature",
        prefix="sha256=",
        type_header="X-Acme-Event",
        id_header="X-Acme-Delivery",
    )
    headers = sign(config, b"payload", SECRETS["hmac-sha256"], NOW, event_type="a", delivery_id="1")
    digest = hmac.new(SECRETS["hmac-sha256"].encode(), b"payload", hashlib.sha256).hexdigest()
    assert headers == {
        "x-acme-signature": f"sha256={digest}",
        "x-acme-event": "a",
        "x-acme-delivery": "1",
    }
    assert accepted(config, headers, b"payload") == VerifiedDelivery("a", "1")


def test_hmac_sha256_base64_without_prefix() -> None:
    config = make_config("hmac-sha256", header="X-Sig", encoding="base64")
    digest = hmac.new(SECRETS["hmac-sha256"].encode(), b"payload", hashlib.sha256).digest()
    headers = {"x-sig": base64.b64encode(digest).decode()}
    assert accepted(config, headers, b"payload") == VerifiedDelivery("webhook", None)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing_signature"),
        ("a" * 64, "malformed_signature"),  # the configured prefix is missing
        ("sha256=" + "a" * 63, "malformed_signature"),
        ("sha256=" + "a" * 64, "invalid_signature"),
    ],
)
def test_hmac_sha256_rejects_bad_signature_headers(value: str | None, reason: str) -> None:
    config = make_config("hmac-sha256", header="X-Sig", prefix="sha256=")
    headers = {} if value is None else {"x-sig": value}
    assert rejected(config, headers, b"payload").reason == reason


def test_hmac_sha256_without_type_header_value_defaults() -> None:
    config = make_config("hmac-sha256", type_header="X-Type", id_header="X-Id")
    headers = sign(config, b"x", SECRETS["hmac-sha256"], NOW)
    assert set(headers) == {"x-signature"}
    assert accepted(config, headers, b"x") == VerifiedDelivery("webhook", None)


def test_none_accepts_anything_and_maps_headers() -> None:
    config = make_config("none", type_header="X-Event-Type", id_header="X-Request-Id")
    assert accepted(config, {}, b"\x00\xff") == VerifiedDelivery("webhook", None)
    headers = {"x-event-type": "build.finished", "x-request-id": "r-1"}
    assert accepted(config, headers, b"") == VerifiedDelivery("build.finished", "r-1")
    assert sign(config, b"", "", NOW, event_type="t", delivery_id="i") == {
        "x-event-type": "t",
        "x-request-id": "i",
    }


# --------------------------------------------------------------------------------------------
# Every scheme


@pytest.mark.parametrize("scheme", [*SIGNED_SCHEMES, "none"])
def test_round_trip(scheme: str) -> None:
    config = (
        make_config(scheme, type_header="X-Type", id_header="X-Id")
        if scheme
        in {
            "hmac-sha256",
            "none",
        }
        else make_config(scheme)
    )
    secret = SECRETS.get(scheme, "")
    headers = lower(sign(config, EVENT_BODY, secret, NOW, delivery_id="d-1", event_type="push"))
    delivery = verify(config, headers, EVENT_BODY, [secret] if secret else [], NOW)
    expected = {
        "github": VerifiedDelivery("push", "d-1"),
        "stripe": VerifiedDelivery("invoice.paid", "evt_1NG8Du2eZvKYlo2CUI79vXWy"),
        "slack": VerifiedDelivery("app_mention", "Ev0PV52K21"),
        "shopify": VerifiedDelivery("push", "d-1"),
        "standard-webhooks": VerifiedDelivery("invoice.paid", "d-1"),
        "hmac-sha256": VerifiedDelivery("push", "d-1"),
        "none": VerifiedDelivery("push", "d-1"),
    }
    assert delivery == expected[scheme]


@pytest.mark.parametrize("scheme", SIGNED_SCHEMES)
def test_tampered_body_is_rejected(scheme: str) -> None:
    config = make_config(scheme)
    headers = signed(config)
    tampered = EVENT_BODY.replace(b"1999", b"9999")
    assert rejected(config, headers, tampered).reason == "invalid_signature"


@pytest.mark.parametrize("scheme", SIGNED_SCHEMES)
def test_wrong_secret_is_rejected(scheme: str) -> None:
    config = make_config(scheme)
    other = "whsec_" + base64.b64encode(b"another secret of 24 bytes!").decode()
    assert rejected(config, signed(config, secret=other)).reason == "invalid_signature"


@pytest.mark.parametrize("scheme", SIGNED_SCHEMES)
def test_missing_signature_is_rejected(scheme: str) -> None:
    config = make_config(scheme)
    assert rejected(config, {}).reason in {"missing_signature"}


@pytest.mark.parametrize("scheme", SIGNED_SCHEMES)
def test_no_active_secret_is_rejected(scheme: str) -> None:
    config = make_config(scheme)
    headers = signed(config)
    assert rejected(config, headers, secrets=[]).reason == "no_secret"
    assert rejected(config, headers, secrets=[""]).reason == "no_secret"


def rotation_secret(scheme: str) -> str:
    if scheme == "standard-webhooks":
        return "whsec_" + base64.b64encode(b"the next secret, rotated in").decode()
    return SECRETS[scheme] + "-next"


@pytest.mark.parametrize("scheme", SIGNED_SCHEMES)
def test_rotation_any_active_secret_matches(scheme: str) -> None:
    current, nxt = SECRETS[scheme], rotation_secret(scheme)
    config = make_config(scheme, current, nxt)
    assert accepted(config, signed(config, secret=nxt)).event_type
    assert accepted(config, signed(config, secret=current)).event_type
    retired = make_config(scheme, nxt)
    assert rejected(retired, signed(config, secret=current)).reason == "invalid_signature"


@pytest.mark.parametrize("scheme", TIMESTAMPED_SCHEMES)
@pytest.mark.parametrize(("age", "reason"), [(301, "stale_timestamp"), (-301, "future_timestamp")])
def test_timestamped_schemes_enforce_the_tolerance(scheme: str, age: int, reason: str) -> None:
    config = make_config(scheme)
    error = rejected(config, signed(config, at=NOW - age))
    assert (error.reason, error.status) == (reason, 401)


@pytest.mark.parametrize("scheme", ["github", "shopify", "hmac-sha256"])
def test_schemes_without_timestamp_accept_old_deliveries(scheme: str) -> None:
    config = make_config(scheme)
    assert accepted(config, signed(config, at=0), now=NOW).event_type


@pytest.mark.parametrize("scheme", ["github", "shopify", "hmac-sha256", "none"])
@pytest.mark.parametrize(
    ("event_type", "delivery_id", "reason"),
    [
        ("x" * 257, "d", "malformed_event_type"),
        ("bad\ntype", "d", "malformed_event_type"),
        ("push", "d" * 257, "malformed_delivery_id"),
        ("push", "tab\tid", "malformed_delivery_id"),
    ],
)
def test_unreasonable_type_or_id_is_a_bad_request(
    scheme: str, event_type: str, delivery_id: str, reason: str
) -> None:
    options: dict[str, object] = (
        {"type_header": "X-Type", "id_header": "X-Id"} if scheme in {"hmac-sha256", "none"} else {}
    )
    config = make_config(scheme, **options)
    secret = SECRETS.get(scheme, "")
    headers = lower(
        sign(config, b"{}", secret, NOW, event_type=event_type, delivery_id=delivery_id)
    )
    error = rejected(config, headers, b"{}", secrets=[secret] if secret else [])
    assert (error.reason, error.status) == (reason, 400)


@pytest.mark.parametrize("scheme", ["github", "shopify", "hmac-sha256", "none"])
def test_longest_reasonable_type_and_id_are_kept(scheme: str) -> None:
    options: dict[str, object] = (
        {"type_header": "X-Type", "id_header": "X-Id"} if scheme in {"hmac-sha256", "none"} else {}
    )
    config = make_config(scheme, **options)
    secret = SECRETS.get(scheme, "")
    headers = lower(sign(config, b"{}", secret, NOW, event_type="t" * 256, delivery_id="i" * 256))
    delivery = verify(config, headers, b"{}", [secret] if secret else [], NOW)
    assert delivery == VerifiedDelivery("t" * 256, "i" * 256)


@pytest.mark.parametrize("scheme", SIGNED_SCHEMES)
def test_sign_refuses_an_empty_secret(scheme: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        sign(make_config(scheme), EVENT_BODY, "", NOW)


# --------------------------------------------------------------------------------------------
# Rejections never reveal secrets or signatures


def _rejections(scheme: str) -> list[tuple[WebhookRejected, list[str]]]:
    config = make_config(scheme)
    secret = SECRETS[scheme]
    good = signed(config)
    sensitive = [secret, secret.removeprefix("whsec_"), *good.values()]
    cases: list[Mapping[str, str]] = [
        {},
        {name: value + "x" for name, value in good.items()},
        {name: value[:-3] for name, value in good.items()},
        signed(config, at=NOW - 10_000),
        signed(config, at=NOW + 10_000),
        signed(config, secret=rotation_secret(scheme)),
    ]
    found = []
    for headers in cases:
        with pytest.raises(WebhookRejected) as info:
            verify(config, headers, EVENT_BODY + b" ", [secret], NOW)
        found.append((info.value, sensitive))
    with pytest.raises(WebhookRejected) as info:
        verify(config, good, b"not json", [secret], NOW)
    found.append((info.value, sensitive))
    return found


@pytest.mark.parametrize("scheme", SIGNED_SCHEMES)
def test_rejections_never_contain_secrets_or_signatures(scheme: str) -> None:
    for error, sensitive in _rejections(scheme):
        rendered = [str(error), repr(error), error.reason, error.message, *map(str, error.args)]
        for text in rendered:
            for value in sensitive:
                if len(value) >= 8:  # short header values (timestamps) are not secret
                    assert value not in text
        assert error.reason in KNOWN_REASONS
        assert error.reason.replace("_", "").isalpha()
