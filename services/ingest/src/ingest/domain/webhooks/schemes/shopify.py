"""Shopify: ``X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>``.

The type is ``X-Shopify-Topic``; the delivery id ``X-Shopify-Webhook-Id`` (else
``X-Shopify-Event-Id``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

HMAC: Final = "x-shopify-hmac-sha256"
TOPIC: Final = "x-shopify-topic"
WEBHOOK_ID: Final = "x-shopify-webhook-id"
EVENT_ID: Final = "x-shopify-event-id"


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    signature = common.decode_base64(delivery.signature(HMAC))
    common.check_hmac(keys, delivery.body, [common.require(signature, "malformed_signature")])
    return common.header_delivery(delivery.headers, TOPIC, WEBHOOK_ID, EVENT_ID)


def sign(signing: Signing) -> dict[str, str]:
    digest = signing.base64_hmac(signing.body)
    triggered_at = datetime.fromtimestamp(int(signing.now), tz=UTC).isoformat()
    return {
        "X-Shopify-Topic": signing.event_type or common.DEFAULT_EVENT_TYPE,
        "X-Shopify-Webhook-Id": signing.delivery_id or common.new_delivery_id(),
        "X-Shopify-Triggered-At": triggered_at.replace("+00:00", "Z"),
        "X-Shopify-Hmac-Sha256": digest,
    }


SCHEME: Final = Scheme("shopify", verify, sign, id_header=WEBHOOK_ID)
