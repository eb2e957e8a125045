"""Paddle (Billing): ``Paddle-Signature: ts=<timestamp>;h1=<hex>[;h1=<hex>...]``, each ``h1`` the
HMAC-SHA256 of ``<ts>:<body>`` under the notification destination's secret key (several while
the secret is rotated).

The timestamp is checked against ``tolerance_seconds``, by default Paddle's own 5 seconds. The type
and delivery id are the body's ``event_type`` (e.g. ``transaction.completed``) and ``event_id``.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "paddle-signature"
#: Paddle's SDKs allow 5 seconds between signing and verifying.
TOLERANCE_SECONDS: Final = 5


def verify(delivery: Delivery) -> VerifiedDelivery:
    common.check_timestamped_hmac(
        delivery,
        delivery.signature(SIGNATURE),
        separator=";",
        stamp_key="ts",
        signature_key="h1",
        joiner=b":",
    )
    payload = common.json_object(delivery.body)
    return VerifiedDelivery(
        event_type=common.event_type(common.body_field(payload, "event_type")),
        delivery_id=common.delivery_id(common.body_field(payload, "event_id")),
    )


def sign(signing: Signing) -> dict[str, str]:
    timestamp = signing.timestamp
    digest = signing.hex_hmac(timestamp.encode("ascii") + b":" + signing.body)
    return {"Paddle-Signature": f"ts={timestamp};h1={digest}"}


SCHEME: Final = Scheme(
    "paddle", verify, sign, timestamped=True, default_tolerance=TOLERANCE_SECONDS
)
