"""Shopify: ``X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>``.

The type is ``X-Shopify-Topic``; the delivery id ``X-Shopify-Webhook-Id`` (else
``X-Shopify-Event-Id``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from ingest.domain.webhooks.schemes.common import (
    DEFAULT_EVENT_TYPE,
    Delivery,
    Scheme,
    Signing,
    VerifiedDelivery,
    check_hmac,
    decode_base64,
    delivery_id,
    event_type,
    new_delivery_id,
    require,
    utf8_keys,
)

HMAC: Final = "x-shopify-hmac-sha256"
TOPIC: Final = "x-shopify-topic"
WEBHOOK_ID: Final = "x-shopify-webhook-id"
EVENT_ID: Final = "x-shopify-event-id"


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = utf8_keys(delivery.secrets)
    signature = decode_base64(delivery.signature(HMAC))
    check_hmac(keys, delivery.body, [require(signature, "malformed_signature")])
    headers = delivery.headers
    return VerifiedDelivery(
        event_type=event_type(headers.get(TOPIC)),
        delivery_id=delivery_id(headers.get(WEBHOOK_ID)) or delivery_id(headers.get(EVENT_ID)),
    )


def sign(signing: Signing) -> dict[str, str]:
    digest = signing.base64_hmac(signing.body)
    triggered_at = datetime.fromtimestamp(int(signing.now), tz=UTC).isoformat()
    return {
        "X-Shopify-Topic": signing.event_type or DEFAULT_EVENT_TYPE,
        "X-Shopify-Webhook-Id": signing.delivery_id or new_delivery_id(),
        "X-Shopify-Triggered-At": triggered_at.replace("+00:00", "Z"),
        "X-Shopify-Hmac-Sha256": digest,
    }


SCHEME: Final = Scheme("shopify", verify, sign, id_header=WEBHOOK_ID)
