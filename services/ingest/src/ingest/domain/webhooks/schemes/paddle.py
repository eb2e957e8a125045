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
LAYOUT: Final = common.StampedHeader(separator=";", stamp="ts", signature="h1", joiner=b":")
#: Paddle's SDKs allow 5 seconds between signing and verifying.
TOLERANCE_SECONDS: Final = 5


def verify(delivery: Delivery) -> VerifiedDelivery:
    common.check_timestamped_hmac(delivery, SIGNATURE, LAYOUT)
    return common.body_delivery(common.json_object(delivery.body), ["event_type"], ["event_id"])


def sign(signing: Signing) -> dict[str, str]:
    timestamp = signing.timestamp
    digest = signing.hex_hmac(timestamp.encode("ascii") + b":" + signing.body)
    return {"Paddle-Signature": f"ts={timestamp};h1={digest}"}


SCHEME: Final = Scheme(
    "paddle", verify, sign, timestamped=True, default_tolerance=TOLERANCE_SECONDS
)
