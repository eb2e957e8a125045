"""Stripe: ``Stripe-Signature: t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``.

Only ``v1`` signatures count (``v0`` and other schemes are ignored, as Stripe documents); the
type and the delivery id are the event body's ``type`` and ``id``.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "stripe-signature"


def _parts(value: str) -> tuple[list[str], list[bytes]]:
    """The ``t=`` timestamps and the decodable ``v1=`` signatures of the header."""
    timestamps: list[str] = []
    signatures: list[bytes] = []
    for item in value.split(","):
        key, separator, item_value = item.strip().partition("=")
        if not separator:
            continue
        if key == "t":
            timestamps.append(item_value.strip())
        elif key == "v1":
            decoded = common.decode_hex(item_value.strip().lower())
            if decoded is not None:
                signatures.append(decoded)
    return timestamps, signatures


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    timestamps, signatures = _parts(delivery.signature(SIGNATURE))
    if not timestamps:
        raise common.WebhookRejected("missing_timestamp")
    if len(timestamps) > 1:
        raise common.WebhookRejected("malformed_signature")
    timestamp = common.parse_timestamp(timestamps[0])
    if not signatures:
        raise common.WebhookRejected("malformed_signature")
    common.check_hmac(keys, timestamps[0].encode("ascii") + b"." + delivery.body, signatures)
    delivery.check_timestamp(timestamp)
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
