"""Standard Webhooks (Svix and others): ``webhook-signature: v1,<base64 HMAC-SHA256 of
"<webhook-id>.<webhook-timestamp>.<body>">``, several space-separated signatures allowed.

The secret is ``whsec_`` followed by the base64 key; the delivery id is ``webhook-id`` and the
type the body's ``type``. ``v1a`` (asymmetric) and future versions are skipped.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import TYPE_CHECKING, Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourceConfig

ID: Final = "webhook-id"
TIMESTAMP: Final = "webhook-timestamp"
SIGNATURE: Final = "webhook-signature"
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a format marker, not a secret


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: base64 after an optional ``whsec_`` prefix.

    Raises ``ValueError`` (without echoing the secret) when it is not valid base64 or is empty.
    """
    encoded = secret.removeprefix(SECRET_PREFIX).strip()
    encoded += "=" * (-len(encoded) % 4)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a standard-webhooks secret must be whsec_ followed by base64") from None
    if not key:
        raise ValueError("a standard-webhooks secret must not be empty")
    return key


def _keys(secrets: list[str]) -> list[bytes]:
    keys = []
    for secret in secrets:
        try:
            keys.append(decode_secret(secret))
        except ValueError:
            continue
    if not keys:
        raise common.WebhookRejected("unusable_secret")
    return keys


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = _keys(common.usable(delivery.secrets))
    value = delivery.signature(SIGNATURE)
    message_id = common.require(delivery.header(ID), "missing_delivery_id")
    raw_timestamp = delivery.header(TIMESTAMP)
    timestamp = common.parse_timestamp(raw_timestamp)
    signatures = []
    for entry in value.split():
        version, separator, encoded = entry.partition(",")
        if separator and version == "v1":
            decoded = common.decode_base64(encoded)
            if decoded is not None:
                signatures.append(decoded)
    if not signatures:
        raise common.WebhookRejected("malformed_signature")
    signed = f"{message_id}.{raw_timestamp}.".encode("utf-8", "surrogatepass") + delivery.body
    common.check_hmac(keys, signed, signatures)
    delivery.check_timestamp(timestamp)
    found_type = common.required_type(common.json_object(delivery.body))
    return VerifiedDelivery(event_type=found_type, delivery_id=common.delivery_id(message_id))


def sign(signing: Signing) -> dict[str, str]:
    key = decode_secret(signing.required_secret)
    message_id = signing.delivery_id or f"msg_{uuid.uuid4().hex}"
    timestamp = signing.timestamp
    digest = common.hmac_sha256(key, f"{message_id}.{timestamp}.".encode() + signing.body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }


def check(config: SourceConfig) -> None:
    """Inline secrets must be usable keys already when the document is read."""
    for secret in config.inline_secrets():
        decode_secret(secret)


SCHEME: Final = Scheme(
    "standard-webhooks", verify, sign, timestamped=True, check=check, id_header=ID
)
