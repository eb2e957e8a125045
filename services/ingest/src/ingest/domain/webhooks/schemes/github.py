"""GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``.

The type is ``X-GitHub-Event``, the delivery id ``X-GitHub-Delivery``.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "x-hub-signature-256"
EVENT: Final = "x-github-event"
DELIVERY: Final = "x-github-delivery"


def verify(delivery: Delivery) -> VerifiedDelivery:
    return common.verify_sha256_header(delivery, SIGNATURE, EVENT, DELIVERY)


def sign(signing: Signing) -> dict[str, str]:
    return {
        "X-GitHub-Event": signing.event_type or common.DEFAULT_EVENT_TYPE,
        "X-GitHub-Delivery": signing.delivery_id or common.new_delivery_id(),
        "X-Hub-Signature-256": "sha256=" + signing.hex_hmac(signing.body),
    }


SCHEME: Final = Scheme(
    "github",
    verify,
    sign,
    id_header=DELIVERY,
    superseded_headers=frozenset({"x-hub-signature"}),  # the legacy SHA-1 signature
)
