"""Linear: ``Linear-Signature: <hex HMAC-SHA256 of the body>``, keyed with the webhook's signing
secret; the signed body carries ``webhookTimestamp`` (Unix milliseconds), checked against
``tolerance_seconds`` (by default Linear's one minute).

The type is the body's ``type`` and ``action`` (e.g. ``Issue.create``; the ``Linear-Event`` header
gives the type when the body lacks it); the delivery id ``Linear-Delivery``.
"""

from __future__ import annotations

import json
from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "linear-signature"
EVENT: Final = "linear-event"
DELIVERY: Final = "linear-delivery"
#: Linear asks receivers to refuse deliveries signed more than a minute ago.
TOLERANCE_SECONDS: Final = 60


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    signature = common.decode_hex(delivery.signature(SIGNATURE).lower())
    common.check_hmac(keys, delivery.body, [common.require(signature, "malformed_signature")])
    payload = common.json_object(delivery.body)
    delivery.check_timestamp(common.parse_millis(common.body_field(payload, "webhookTimestamp")))
    kind = common.body_field(payload, "type")
    if not isinstance(kind, str) or not kind.strip():
        kind = delivery.headers.get(EVENT)
    action = common.body_field(payload, "action")
    if isinstance(kind, str) and isinstance(action, str) and action.strip():
        kind = f"{kind.strip()}.{action.strip()}"
    return VerifiedDelivery(
        event_type=common.event_type(kind),
        delivery_id=common.delivery_id(delivery.headers.get(DELIVERY)),
    )


def sign(signing: Signing) -> dict[str, str]:
    payload = common.json_object(signing.body)
    kind = common.body_field(payload, "type")
    return {
        "Linear-Signature": signing.hex_hmac(signing.body),
        "Linear-Event": kind if isinstance(kind, str) else (signing.event_type or "Issue"),
        "Linear-Delivery": signing.delivery_id or common.new_delivery_id(),
    }


def signed_body(signing: Signing) -> bytes:
    """The body (a JSON object) with ``webhookTimestamp`` set to ``now``, as Linear sends it."""
    payload = common.json_object(signing.body)
    if payload is None:
        return signing.body
    payload["webhookTimestamp"] = int(signing.now * 1000)
    return json.dumps(payload, separators=(",", ":")).encode()


SCHEME: Final = Scheme(
    "linear",
    verify,
    sign,
    timestamped=True,
    default_tolerance=TOLERANCE_SECONDS,
    id_header=DELIVERY,
    signed_body=signed_body,
)
