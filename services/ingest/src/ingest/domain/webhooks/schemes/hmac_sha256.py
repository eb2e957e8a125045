"""Generic HMAC-SHA256 of the raw body, for any sender that signs that way.

The source says where and how: ``header`` (required), ``encoding`` (``hex`` or ``base64``) and
``prefix``; ``type_header`` and ``id_header`` name the headers carrying the type and delivery id.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

NAME: Final = "hmac-sha256"


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    config = delivery.config
    assert config.header is not None  # check() requires it for this scheme
    value = delivery.signature(config.header)
    if not value.startswith(config.prefix):
        raise common.WebhookRejected("malformed_signature")
    encoded = value[len(config.prefix) :].strip()
    signature = (
        common.decode_hex(encoded.lower())
        if config.encoding == "hex"
        else common.decode_base64(encoded)
    )
    common.check_hmac(keys, delivery.body, [common.require(signature, "malformed_signature")])
    return common.mapped(delivery)


def sign(signing: Signing) -> dict[str, str]:
    config = signing.config
    assert config.header is not None  # check() requires it for this scheme
    headers = common.mapped_headers(signing)
    encoded = (
        signing.hex_hmac(signing.body)
        if config.encoding == "hex"
        else signing.base64_hmac(signing.body)
    )
    headers[config.header] = config.prefix + encoded
    return headers


SCHEME: Final = Scheme(
    NAME,
    verify,
    sign,
    options=frozenset({"encoding", "prefix", "type_header", "id_header"}),
    required={"header": "the signature header name"},
)
