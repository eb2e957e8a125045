"""Intercom: ``X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body>``, keyed with the app's client
secret.

The type and delivery id are the notification's ``topic`` (e.g. ``conversation.user.created``,
``ping``) and ``id`` (``notif_...``).
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "x-hub-signature"
_SHA1_BYTES: Final = 20


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    algorithm, _, hex_digest = delivery.signature(SIGNATURE).partition("=")
    signature = (
        common.decode_hex(hex_digest.lower(), _SHA1_BYTES) if algorithm.lower() == "sha1" else None
    )
    expected = [common.hmac_sha1(key, delivery.body) for key in keys]
    common.check_digests(expected, [common.require(signature, "malformed_signature")])
    payload = common.json_object(delivery.body)
    return common.body_delivery(payload, ["topic"], ["id"])


def sign(signing: Signing) -> dict[str, str]:
    return {"X-Hub-Signature": "sha1=" + common.hmac_sha1(signing.key, signing.body).hex()}


SCHEME: Final = Scheme("intercom", verify, sign)
