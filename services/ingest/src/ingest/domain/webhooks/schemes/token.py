"""``token``: a shared secret in a named request header, for senders that only authenticate (the
header is the ``header`` option, e.g. ``X-Webhook-Token``, or ``Authorization`` with ``prefix:
"Bearer "``). Compared in constant time with each active secret.

``type_header`` and ``id_header`` name the headers carrying the type and delivery id. The token's
header is never stored.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourceConfig

NAME: Final = "token"


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    config = delivery.config
    assert config.header is not None  # check() requires it for this scheme
    value = common.require(delivery.headers.get(config.header) or None, "missing_credentials")
    if not value.startswith(config.prefix):
        raise common.WebhookRejected("invalid_credentials")
    given = hashlib.sha256(value[len(config.prefix) :].encode("utf-8", "surrogatepass")).digest()
    if common.matching([hashlib.sha256(key).digest() for key in keys], [given]) is None:
        raise common.WebhookRejected("invalid_credentials")
    return common.mapped(delivery)


def sign(signing: Signing) -> dict[str, str]:
    config = signing.config
    assert config.header is not None  # check() requires it for this scheme
    headers = common.mapped_headers(signing)
    headers[config.header] = config.prefix + signing.required_secret
    return headers


def check(config: SourceConfig) -> None:
    if config.header is None:
        raise ValueError(f"scheme {NAME!r} needs header (the header carrying the token)")


SCHEME: Final = Scheme(
    NAME,
    verify,
    sign,
    options=frozenset({"header", "prefix", "type_header", "id_header"}),
    check=check,
    header_is_credential=True,
)
