"""Stripe: ``Stripe-Signature: t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``.

Only ``v1`` signatures count (``v0`` and other schemes are ignored, as Stripe documents); the
type and the delivery id are the event body's ``type`` and ``id``.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "stripe-signature"
LAYOUT: Final = common.StampedHeader(separator=",", stamp="t", signature="v1", joiner=b".")


def verify(delivery: Delivery) -> VerifiedDelivery:
    common.check_timestamped_hmac(delivery, SIGNATURE, LAYOUT)
    payload = common.json_object(delivery.body)
    found_type = common.required_type(payload)
    assert payload is not None  # required_type rejected it otherwise
    return VerifiedDelivery(
        event_type=found_type, delivery_id=common.delivery_id(payload.get("id"))
    )


def sign(signing: Signing) -> dict[str, str]:
    timestamp = signing.timestamp
    digest = signing.hex_hmac(timestamp.encode("ascii") + b"." + signing.body)
    return {"Stripe-Signature": f"t={timestamp},v1={digest}"}


SCHEME: Final = Scheme("stripe", verify, sign, timestamped=True)
