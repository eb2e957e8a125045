"""Discord interactions: ``X-Signature-Ed25519: <hex Ed25519 signature of "<timestamp><body>">``
with ``X-Signature-Timestamp``, by the application's key; the source's keys are the application's
public keys as the developer portal shows them (hex). The timestamp is checked against
``tolerance_seconds``.

A PING (``type`` 1) is answered, once verified, with ``{"type": 1}`` and not stored. The type is
the interaction type's name (e.g. ``APPLICATION_COMMAND``); the delivery id the interaction's
``id``.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks import keys as asymmetric
from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

SIGNATURE: Final = "x-signature-ed25519"
TIMESTAMP: Final = "x-signature-timestamp"
PING: Final = 1
_SIGNATURE_BYTES: Final = 64
#: Discord's interaction types.
INTERACTION_TYPES: Final = {
    1: "PING",
    2: "APPLICATION_COMMAND",
    3: "MESSAGE_COMPONENT",
    4: "APPLICATION_COMMAND_AUTOCOMPLETE",
    5: "MODAL_SUBMIT",
}


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.parsed_keys(delivery.secrets, asymmetric.ed25519_public_bytes)
    value = delivery.signature(SIGNATURE)
    raw_timestamp, timestamp = delivery.signed_timestamp(TIMESTAMP)
    signature = common.require(
        common.decode_hex(value.lower(), _SIGNATURE_BYTES), "malformed_signature"
    )
    message = raw_timestamp.encode("ascii") + delivery.body
    if not asymmetric.ed25519_verifies(keys, message, [signature]):
        raise common.WebhookRejected("invalid_signature")
    delivery.check_timestamp(timestamp)
    payload = common.json_object(delivery.body)
    kind = common.body_field(payload, "type")
    if kind == PING and not isinstance(kind, bool):
        return VerifiedDelivery(event_type="PING", delivery_id=None, reply={"type": PING})
    name = INTERACTION_TYPES.get(kind) if isinstance(kind, int) else None
    interaction_id = common.body_field(payload, "id")
    return VerifiedDelivery(
        event_type=common.event_type(name or (str(kind) if isinstance(kind, int) else None)),
        delivery_id=common.delivery_id(interaction_id),
    )


def sign(signing: Signing) -> dict[str, str]:
    seed = asymmetric.ed25519_seed(signing.required_secret)
    timestamp = signing.timestamp
    signature = asymmetric.ed25519_sign(seed, timestamp.encode("ascii") + signing.body)
    return {"X-Signature-Ed25519": signature.hex(), "X-Signature-Timestamp": timestamp}


SCHEME: Final = Scheme(
    "discord",
    verify,
    sign,
    timestamped=True,
    key_format=asymmetric.ed25519_public_bytes,
)
