"""PagerDuty (v3 webhooks): ``X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]``, each the HMAC-SHA256
of the body under one of the subscription's secrets (several while a secret is rotated).

The type and delivery id are the body's ``event.event_type`` (e.g. ``incident.triggered``,
``pagey.ping``) and ``event.id``.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "x-pagerduty-signature"


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    signatures = []
    for item in delivery.signature(SIGNATURE).split(","):
        version, _, hex_digest = item.strip().partition("=")
        decoded = common.decode_hex(hex_digest.strip().lower()) if version == "v1" else None
        if decoded is not None:
            signatures.append(decoded)
    if not signatures:
        raise common.WebhookRejected("malformed_signature")
    common.check_hmac(keys, delivery.body, signatures)
    payload = common.json_object(delivery.body)
    return common.body_delivery(payload, ["event", "event_type"], ["event", "id"])


def sign(signing: Signing) -> dict[str, str]:
    return {"X-PagerDuty-Signature": "v1=" + signing.hex_hmac(signing.body)}


SCHEME: Final = Scheme("pagerduty", verify, sign)
