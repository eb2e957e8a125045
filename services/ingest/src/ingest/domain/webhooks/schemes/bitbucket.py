"""Bitbucket Cloud: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>``.

The type is ``X-Event-Key`` (e.g. ``repo:push``); the delivery id ``X-Request-UUID``.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Scheme, Signing

HEADERS: Final = common.HubSignature(
    signature="x-hub-signature", event="x-event-key", delivery="x-request-uuid"
)


def sign(signing: Signing) -> dict[str, str]:
    return {
        "X-Event-Key": signing.event_type or "repo:push",
        "X-Request-UUID": signing.delivery_id or common.new_delivery_id(),
        "X-Hook-UUID": common.new_delivery_id(),
        "X-Attempt-Number": "1",
        "X-Hub-Signature": HEADERS.value(signing),
    }


SCHEME: Final = Scheme("bitbucket", HEADERS.verify, sign, id_header=HEADERS.delivery)
