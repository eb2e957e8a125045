"""Cross-checks with the providers' own libraries, both ways.

Stripe's library (``stripe``) and the Standard Webhooks reference library (``standardwebhooks``)
sign and verify against the real clock, so these tests use ``time.time()`` as ``now``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import stripe
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import VerifiedDelivery, WebhookRejected, sign, verify
from standardwebhooks import Webhook, WebhookVerificationError

STRIPE_SECRET = "whsec_test_5f4dcc3b5aa765d61d8327deb882cf99"
STRIPE_EVENT = json.dumps(
    {
        "id": "evt_3OJbqH2eZvKYlo2C0tA8wXyZ",
        "object": "event",
        "api_version": "2023-10-16",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": "pi_3OJbqH2eZvKYlo2C0", "amount": 2000, "currency": "eur"}},
        "livemode": False,
    },
    indent=2,
)

SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_EVENT = (
    '{"type":"contact.created","timestamp":"2022-11-03T20:26:10.344522Z",'
    '"data":{"id":"1f81eb52-5198-4599-803e-771906343485"}}'
)


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


# --------------------------------------------------------------------------------------------
# Stripe


def stripe_config(*secrets: str) -> SourceConfig:
    return SourceConfig.model_validate(
        {"scheme": "stripe", "secrets": list(secrets or [STRIPE_SECRET])}
    )


def test_stripe_library_header_verifies_here() -> None:
    header = stripe.WebhookSignature.generate_signature_header(STRIPE_EVENT, STRIPE_SECRET)
    delivery = verify(
        stripe_config(),
        {"stripe-signature": header},
        STRIPE_EVENT.encode(),
        [STRIPE_SECRET],
        time.time(),
    )
    event = stripe.Webhook.construct_event(STRIPE_EVENT, header, STRIPE_SECRET)
    assert delivery == VerifiedDelivery(event.type, event.id)


def test_our_header_verifies_with_the_stripe_library() -> None:
    headers = sign(stripe_config(), STRIPE_EVENT.encode(), STRIPE_SECRET, time.time())
    header = headers["Stripe-Signature"]
    assert stripe.WebhookSignature.verify_header(STRIPE_EVENT, header, STRIPE_SECRET, 300)
    event = stripe.Webhook.construct_event(STRIPE_EVENT, header, STRIPE_SECRET)
    assert event.type == "payment_intent.succeeded"


def test_stripe_library_and_this_module_agree_on_tampering_and_wrong_secrets() -> None:
    now = time.time()
    header = sign(stripe_config(), STRIPE_EVENT.encode(), STRIPE_SECRET, now)["Stripe-Signature"]
    tampered = STRIPE_EVENT.replace("2000", "2001")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(tampered, header, STRIPE_SECRET, 300)
    with pytest.raises(WebhookRejected, match="invalid_signature"):
        verify(
            stripe_config(), {"stripe-signature": header}, tampered.encode(), [STRIPE_SECRET], now
        )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(STRIPE_EVENT, header, "whsec_other", 300)
    with pytest.raises(WebhookRejected, match="invalid_signature"):
        verify(stripe_config(), {"stripe-signature": header}, STRIPE_EVENT.encode(), ["x"], now)


def test_stripe_library_and_this_module_agree_on_stale_timestamps() -> None:
    old = int(time.time()) - 301
    header = stripe.WebhookSignature.generate_signature_header(
        STRIPE_EVENT, STRIPE_SECRET, timestamp=old
    )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(STRIPE_EVENT, header, STRIPE_SECRET, 300)
    with pytest.raises(WebhookRejected, match="stale_timestamp"):
        verify(
            stripe_config(),
            {"stripe-signature": header},
            STRIPE_EVENT.encode(),
            [STRIPE_SECRET],
            time.time(),
        )


def test_stripe_library_header_verifies_during_rotation() -> None:
    header = stripe.WebhookSignature.generate_signature_header(STRIPE_EVENT, "whsec_new")
    delivery = verify(
        stripe_config("whsec_old", "whsec_new"),
        {"stripe-signature": header},
        STRIPE_EVENT.encode(),
        ["whsec_old", "whsec_new"],
        time.time(),
    )
    assert delivery.delivery_id == "evt_3OJbqH2eZvKYlo2C0tA8wXyZ"


# --------------------------------------------------------------------------------------------
# Standard Webhooks


def sw_config(*secrets: str) -> SourceConfig:
    return SourceConfig.model_validate(
        {"scheme": "standard-webhooks", "secrets": list(secrets or [SW_SECRET])}
    )


def test_reference_library_signature_verifies_here() -> None:
    now = time.time()
    msg_id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    signature = Webhook(SW_SECRET).sign(
        msg_id=msg_id, timestamp=datetime.fromtimestamp(int(now), tz=UTC), data=SW_EVENT
    )
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now)),
        "webhook-signature": signature,
    }
    delivery = verify(sw_config(), headers, SW_EVENT.encode(), [SW_SECRET], now)
    assert delivery == VerifiedDelivery("contact.created", msg_id)


def test_our_headers_verify_with_the_reference_library() -> None:
    headers = sign(sw_config(), SW_EVENT.encode(), SW_SECRET, time.time(), delivery_id="msg_1")
    payload = Webhook(SW_SECRET).verify(SW_EVENT.encode(), headers)
    assert payload["type"] == "contact.created"


def test_reference_library_and_this_module_agree_on_tampering() -> None:
    now = time.time()
    headers = sign(sw_config(), SW_EVENT.encode(), SW_SECRET, now, delivery_id="msg_1")
    tampered = SW_EVENT.replace("contact", "kontakt").encode()
    with pytest.raises(WebhookVerificationError):
        Webhook(SW_SECRET).verify(tampered, headers)
    with pytest.raises(WebhookRejected, match="invalid_signature"):
        verify(sw_config(), lower(headers), tampered, [SW_SECRET], now)


@pytest.mark.parametrize(
    ("offset", "reason"), [(-301, "stale_timestamp"), (301, "future_timestamp")]
)
def test_reference_library_and_this_module_agree_on_the_tolerance(offset: int, reason: str) -> None:
    now = time.time()
    headers = sign(sw_config(), SW_EVENT.encode(), SW_SECRET, now + offset, delivery_id="msg_1")
    with pytest.raises(WebhookVerificationError):
        Webhook(SW_SECRET).verify(SW_EVENT.encode(), headers)
    with pytest.raises(WebhookRejected, match=reason):
        verify(sw_config(), lower(headers), SW_EVENT.encode(), [SW_SECRET], now)


def test_reference_library_multi_signature_header_verifies_here() -> None:
    """A sender rotating keys signs with both; either receiver key then matches."""
    now = time.time()
    old_secret = "whsec_" + "b2xkLXNlY3JldC1vZi10d2VudHktZm91ci1ieXRlcw=="
    stamp = datetime.fromtimestamp(int(now), tz=UTC)
    signatures = " ".join(
        Webhook(secret).sign(msg_id="msg_2", timestamp=stamp, data=SW_EVENT)
        for secret in (old_secret, SW_SECRET)
    )
    headers = {
        "webhook-id": "msg_2",
        "webhook-timestamp": str(int(now)),
        "webhook-signature": signatures,
    }
    for receiver_secret in (old_secret, SW_SECRET):
        delivery = verify(
            sw_config(receiver_secret), headers, SW_EVENT.encode(), [receiver_secret], now
        )
        assert delivery.delivery_id == "msg_2"
