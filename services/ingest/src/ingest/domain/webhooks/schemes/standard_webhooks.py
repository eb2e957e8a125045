"""Standard Webhooks: ``webhook-signature: v1,<base64 HMAC-SHA256 of
"<webhook-id>.<webhook-timestamp>.<body>">``, several space-separated signatures allowed; and
``v1a,<base64 Ed25519 signature>`` of the same content, by a sender that signs with a private key.

A source's keys are its secrets (``whsec_`` followed by the base64 HMAC key) and/or its public keys
(``whpk_`` followed by the base64 Ed25519 key): ``v1`` signatures are checked with the first,
``v1a`` with the second, and any one may match (rotation). The delivery id is ``webhook-id`` and
the type the body's ``type``. Other versions are skipped.

:func:`make_scheme` builds the same scheme under other header names (Svix's ``svix-*``).
"""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import TYPE_CHECKING, Final

from ingest.domain.webhooks import keys as asymmetric
from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourceConfig

ID: Final = "webhook-id"
TIMESTAMP: Final = "webhook-timestamp"
SIGNATURE: Final = "webhook-signature"
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a format marker, not a secret
PUBLIC_PREFIX: Final = asymmetric.ED25519_PUBLIC_PREFIX
PRIVATE_PREFIX: Final = asymmetric.ED25519_PRIVATE_PREFIX
_ED25519_SIGNATURE_BYTES: Final = 64


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


def is_public_key(secret: str) -> bool:
    return secret.strip().startswith(PUBLIC_PREFIX) or (
        asymmetric.is_pem(secret) and "PUBLIC KEY" in secret
    )


def is_private_key(secret: str) -> bool:
    return secret.strip().startswith(PRIVATE_PREFIX) or (
        asymmetric.is_pem(secret) and "PRIVATE KEY" in secret
    )


def _keys(secrets: list[str]) -> tuple[list[bytes], list[bytes]]:
    """(HMAC keys, Ed25519 public keys) of the usable secrets."""
    hmac_keys: list[bytes] = []
    public_keys: list[bytes] = []
    for secret in secrets:
        try:
            if is_public_key(secret):
                public_keys.append(asymmetric.ed25519_public_bytes(secret))
            else:
                hmac_keys.append(decode_secret(secret))
        except ValueError:
            continue
    if not hmac_keys and not public_keys:
        raise common.WebhookRejected("unusable_secret")
    return hmac_keys, public_keys


def make_scheme(name: str, prefix: str) -> Scheme:
    """The scheme with headers ``<prefix>id``, ``<prefix>timestamp`` and ``<prefix>signature``."""
    id_name, timestamp_name, signature_name = (
        f"{prefix}id",
        f"{prefix}timestamp",
        f"{prefix}signature",
    )

    def verify(delivery: Delivery) -> VerifiedDelivery:
        hmac_keys, public_keys = _keys(common.usable(delivery.secrets))
        value = delivery.signature(signature_name)
        message_id = common.require(delivery.header(id_name), "missing_delivery_id")
        raw_timestamp = delivery.header(timestamp_name)
        timestamp = common.parse_timestamp(raw_timestamp)
        symmetric: list[bytes] = []
        ed25519: list[bytes] = []
        for entry in value.split():
            version, separator, encoded = entry.partition(",")
            if separator and version == "v1":
                decoded = common.decode_base64(encoded)
                if decoded is not None:
                    symmetric.append(decoded)
            elif separator and version == "v1a":
                decoded = common.decode_base64(encoded, _ED25519_SIGNATURE_BYTES)
                if decoded is not None:
                    ed25519.append(decoded)
        usable_symmetric = symmetric if hmac_keys else []
        usable_ed25519 = ed25519 if public_keys else []
        if not usable_symmetric and not usable_ed25519:
            raise common.WebhookRejected("malformed_signature")
        signed = f"{message_id}.{raw_timestamp}.".encode("utf-8", "surrogatepass") + delivery.body
        matched = False
        if usable_symmetric:
            expected = [common.hmac_sha256(key, signed) for key in hmac_keys]
            matched = common.matching(expected, usable_symmetric) is not None
        if usable_ed25519 and not matched:
            matched = asymmetric.ed25519_verifies(public_keys, signed, usable_ed25519)
        if not matched:
            raise common.WebhookRejected("invalid_signature")
        delivery.check_timestamp(timestamp)
        found_type = common.required_type(common.json_object(delivery.body))
        return VerifiedDelivery(event_type=found_type, delivery_id=common.delivery_id(message_id))

    def sign(signing: Signing) -> dict[str, str]:
        secret = signing.required_secret
        message_id = signing.delivery_id or f"msg_{uuid.uuid4().hex}"
        timestamp = signing.timestamp
        signed = f"{message_id}.{timestamp}.".encode() + signing.body
        if is_private_key(secret):
            seed = asymmetric.ed25519_seed(secret)
            value = "v1a," + base64.b64encode(asymmetric.ed25519_sign(seed, signed)).decode()
        elif is_public_key(secret):
            raise ValueError("a public key cannot sign: give the private key (whsk_...)")
        else:
            digest = common.hmac_sha256(decode_secret(secret), signed)
            value = "v1," + base64.b64encode(digest).decode("ascii")
        return {id_name: message_id, timestamp_name: timestamp, signature_name: value}

    return Scheme(
        name,
        verify,
        sign,
        timestamped=True,
        check=_check,
        id_header=id_name,
        public_key=is_public_key,
    )


def _check(config: SourceConfig) -> None:
    """Inline secrets must be usable keys already when the document is read."""
    for secret in config.inline_secrets():
        if is_public_key(secret):
            asymmetric.ed25519_public_bytes(secret)
        else:
            decode_secret(secret)


SCHEME: Final = make_scheme("standard-webhooks", "webhook-")
