"""``basic``: HTTP Basic authentication (RFC 7617), for senders that only authenticate. Each secret
is ``user:password``; the ``Authorization`` header must carry one of them. Compared in constant
time; a rejection answers with a ``WWW-Authenticate`` challenge, as senders that retry with
credentials (Twilio's) expect.

``type_header`` and ``id_header`` name the headers carrying the type and delivery id. The
``Authorization`` header is never stored.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourceConfig

AUTHORIZATION: Final = "authorization"
CHALLENGE: Final = 'Basic realm="webhooks", charset="UTF-8"'


def verify(delivery: Delivery) -> VerifiedDelivery:
    common.usable(delivery.secrets)
    value = common.require(delivery.header(AUTHORIZATION), "missing_credentials")
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        raise common.WebhookRejected("missing_credentials")
    try:
        credentials = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise common.WebhookRejected("invalid_credentials") from None
    common.check_token(delivery.secrets, credentials)
    return common.mapped(delivery)


def sign(signing: Signing) -> dict[str, str]:
    headers = common.mapped_headers(signing)
    headers["Authorization"] = "Basic " + base64.b64encode(signing.key).decode("ascii")
    return headers


def check(config: SourceConfig) -> None:
    for secret in config.inline_secrets():
        if ":" not in secret:
            raise ValueError("a basic secret is user:password")


SCHEME: Final = Scheme(
    "basic",
    verify,
    sign,
    options=frozenset({"type_header", "id_header"}),
    check=check,
    credential_headers=frozenset({AUTHORIZATION}),
    challenge=CHALLENGE,
)
