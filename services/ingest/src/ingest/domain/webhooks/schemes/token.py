"""``token``: a shared secret in a named request header, for senders that only authenticate (the
header is the ``header`` option, e.g. ``X-Webhook-Token``, or ``Authorization`` with ``prefix:
"Bearer "``). Compared in constant time with each active secret.

``type_header`` and ``id_header`` name the headers carrying the type and delivery id. The token's
header is never stored.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

NAME: Final = "token"


def verify(delivery: Delivery) -> VerifiedDelivery:
    config = delivery.config
    assert config.header is not None  # check() requires it for this scheme
    value = common.require(delivery.headers.get(config.header) or None, "missing_credentials")
    if not value.startswith(config.prefix):
        raise common.WebhookRejected("invalid_credentials")
    common.check_token(delivery.secrets, value[len(config.prefix) :])
    return common.mapped(delivery)


def sign(signing: Signing) -> dict[str, str]:
    config = signing.config
    assert config.header is not None  # check() requires it for this scheme
    headers = common.mapped_headers(signing)
    headers[config.header] = config.prefix + signing.required_secret
    return headers


SCHEME: Final = Scheme(
    NAME,
    verify,
    sign,
    options=frozenset({"prefix", "type_header", "id_header"}),
    required={"header": "the header carrying the token"},
    header_is_credential=True,
)
