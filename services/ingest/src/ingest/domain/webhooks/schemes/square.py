"""Square: ``x-square-hmacsha256-signature: <base64 HMAC-SHA256 of "<notification URL><body>">``,
keyed with the subscription's signature key.

The notification URL is the source's ``url`` (as registered with Square), followed by the request's
query string if it has one. The type and delivery id are the body's ``type`` (e.g.
``payment.updated``) and ``event_id``.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "x-square-hmacsha256-signature"
LEGACY_SIGNATURE: Final = "x-square-signature"


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    signature = common.decode_base64(delivery.signature(SIGNATURE).strip())
    url = delivery.public_url().encode("utf-8")
    common.check_hmac(keys, url + delivery.body, [common.require(signature, "malformed_signature")])
    payload = common.json_object(delivery.body)
    return common.body_delivery(payload, ["type"], ["event_id"])


def sign(signing: Signing) -> dict[str, str]:
    url = signing.public_url().encode("utf-8")
    return {"x-square-hmacsha256-signature": signing.base64_hmac(url + signing.body)}


SCHEME: Final = Scheme(
    "square",
    verify,
    sign,
    required={"url": "the notification URL registered with Square"},
    superseded_headers=frozenset({LEGACY_SIGNATURE}),
)
