"""GitHub: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``.

The type is ``X-GitHub-Event``, the delivery id ``X-GitHub-Delivery``.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Scheme, Signing

HEADERS: Final = common.HubSignature(
    signature="x-hub-signature-256", event="x-github-event", delivery="x-github-delivery"
)


def sign(signing: Signing) -> dict[str, str]:
    return {
        "X-GitHub-Event": signing.event_type or common.DEFAULT_EVENT_TYPE,
        "X-GitHub-Delivery": signing.delivery_id or common.new_delivery_id(),
        "X-Hub-Signature-256": HEADERS.value(signing),
    }


SCHEME: Final = Scheme(
    "github",
    HEADERS.verify,
    sign,
    id_header=HEADERS.delivery,
    superseded_headers=frozenset({"x-hub-signature"}),  # the legacy SHA-1 signature
)
