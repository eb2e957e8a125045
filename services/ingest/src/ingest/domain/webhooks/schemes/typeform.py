"""Typeform: ``Typeform-Signature: sha256=<base64 HMAC-SHA256 of the body>``.

The type and delivery id are the body's ``event_type`` (``form_response``) and ``event_id``.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "typeform-signature"


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    algorithm, _, encoded = delivery.signature(SIGNATURE).partition("=")
    signature = common.decode_base64(encoded.strip()) if algorithm == "sha256" else None
    common.check_hmac(keys, delivery.body, [common.require(signature, "malformed_signature")])
    payload = common.json_object(delivery.body)
    return common.body_delivery(payload, ["event_type"], ["event_id"])


def sign(signing: Signing) -> dict[str, str]:
    return {"Typeform-Signature": "sha256=" + signing.base64_hmac(signing.body)}


SCHEME: Final = Scheme("typeform", verify, sign)
