"""GitLab: ``X-Gitlab-Token`` carries the webhook's secret token itself (GitLab signs nothing).

The type is ``X-Gitlab-Event`` (e.g. ``Push Hook``); the delivery id is ``Idempotency-Key``, which
GitLab keeps across the retries of one delivery, else ``X-Gitlab-Event-UUID``. The token is a
credential: it is never stored with the delivery's headers.
"""

from __future__ import annotations

import hashlib
from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

TOKEN: Final = "x-gitlab-token"  # noqa: S105 - a header name, not a secret
EVENT: Final = "x-gitlab-event"
IDEMPOTENCY_KEY: Final = "idempotency-key"
EVENT_UUID: Final = "x-gitlab-event-uuid"


def verify(delivery: Delivery) -> VerifiedDelivery:
    keys = common.utf8_keys(delivery.secrets)
    token = common.require(delivery.headers.get(TOKEN) or None, "missing_credentials")
    # Digests of equal length, compared in constant time: the token's length stays private too.
    given = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
    if common.matching([hashlib.sha256(key).digest() for key in keys], [given]) is None:
        raise common.WebhookRejected("invalid_credentials")
    headers = delivery.headers
    return VerifiedDelivery(
        event_type=common.event_type(headers.get(EVENT)),
        delivery_id=common.delivery_id(headers.get(IDEMPOTENCY_KEY))
        or common.delivery_id(headers.get(EVENT_UUID)),
    )


def sign(signing: Signing) -> dict[str, str]:
    delivery_id = signing.delivery_id or common.new_delivery_id()
    return {
        "X-Gitlab-Event": signing.event_type or "Push Hook",
        "X-Gitlab-Token": signing.required_secret,
        "X-Gitlab-Event-UUID": delivery_id,
        "Idempotency-Key": delivery_id,
        "X-Gitlab-Instance": "https://gitlab.com",
    }


SCHEME: Final = Scheme(
    "gitlab", verify, sign, id_header=IDEMPOTENCY_KEY, credential_headers=frozenset({TOKEN})
)
