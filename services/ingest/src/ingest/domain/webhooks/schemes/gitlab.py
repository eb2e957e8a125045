"""GitLab: ``X-Gitlab-Token`` carries the webhook's secret token itself (GitLab signs nothing).

The type is ``X-Gitlab-Event`` (e.g. ``Push Hook``); the delivery id is ``Idempotency-Key``, which
GitLab keeps across the retries of one delivery, else ``X-Gitlab-Event-UUID``. The token is a
credential: it is never stored with the delivery's headers.
"""

from __future__ import annotations

from typing import Final

from ingest.domain.webhooks.schemes import common
from ingest.domain.webhooks.schemes.common import Delivery, Scheme, Signing, VerifiedDelivery

TOKEN: Final = "x-gitlab-token"  # noqa: S105 - a header name, not a secret
EVENT: Final = "x-gitlab-event"
IDEMPOTENCY_KEY: Final = "idempotency-key"
EVENT_UUID: Final = "x-gitlab-event-uuid"


def verify(delivery: Delivery) -> VerifiedDelivery:
    token = common.require(delivery.headers.get(TOKEN) or None, "missing_credentials")
    common.check_token(delivery.secrets, token)
    return common.header_delivery(delivery.headers, EVENT, IDEMPOTENCY_KEY, EVENT_UUID)


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
