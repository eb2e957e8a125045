"""What a verified webhook delivery stores: its exact bytes, the provider's headers, and the key
it is stored under at most once.

The record keeps the request headers the provider sent (``headers``, a JSON object text): names
lower-cased, credentials, framing and API Gateway's own headers left out, at most
:data:`MAX_HEADERS_BYTES` in all, so that a delivery can be inspected, forwarded and replayed as
it was sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ingest import ids
from ingest.adapters.dynamodb import EventStore
from ingest.domain.store import Draft, Outcome, RequestContext, content_digest, enrich, store_one
from ingest.domain.webhooks.config import SourceConfig
from ingest.domain.webhooks.schemes import VerifiedDelivery, WebhookRejected

#: The most header text a record keeps (its JSON, UTF-8): far below DynamoDB's 400 KB item limit
#: with a 256 KiB body. Headers that would go beyond it are left out, in the order received.
MAX_HEADERS_BYTES: Final = 16 * 1024
#: Credentials are never stored (a ``token`` scheme's header is added per source).
CREDENTIAL_HEADERS: Final = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key"}
)
#: Framing and hop-by-hop headers, and those API Gateway adds itself: not the provider's content.
NOT_KEPT_HEADERS: Final = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "x-forwarded-for",
        "x-forwarded-port",
        "x-forwarded-proto",
        "x-amzn-trace-id",
    }
)


def is_unicode(text: str | None) -> bool:
    """Whether ``text`` can be stored (a lone surrogate, as in ``"\\ud83d"``, cannot)."""
    if text is None:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def storable(delivery: VerifiedDelivery) -> VerifiedDelivery:
    """The type and delivery id a provider's JSON gave must be storable text."""
    if not is_unicode(delivery.event_type):
        raise WebhookRejected("malformed_event_type", status=400)
    if not is_unicode(delivery.delivery_id):
        raise WebhookRejected("malformed_delivery_id", status=400)
    return delivery


def kept_headers(config: SourceConfig, headers: Mapping[str, str]) -> str | None:
    """The headers a record keeps, as JSON object text (``None`` when none are left).

    Names are lower-cased; credentials (``authorization``, cookies, ``x-api-key``, a ``token``
    scheme's header and those a scheme declares, such as ``x-gitlab-token``), framing headers and API Gateway's own are left out; the rest is kept in the
    order received while it fits in :data:`MAX_HEADERS_BYTES`.
    """
    dropped = set(CREDENTIAL_HEADERS | NOT_KEPT_HEADERS | config.credential_headers())
    members: list[str] = []
    used = 2  # the braces
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in dropped or not isinstance(value, str):
            continue
        member = (
            json.dumps(lowered, ensure_ascii=False) + ":" + json.dumps(value, ensure_ascii=False)
        )
        try:
            size = len(member.encode("utf-8")) + (1 if members else 0)
        except UnicodeEncodeError:  # not storable as it is: keep it escaped
            member = json.dumps(lowered) + ":" + json.dumps(value)
            size = len(member) + (1 if members else 0)
        if used + size > MAX_HEADERS_BYTES:
            continue
        members.append(member)
        used += size
    return "{" + ",".join(members) + "}" if members else None


def stored_type(delivery: VerifiedDelivery) -> str:
    """The type a delivery is stored with."""
    return delivery.event_type[:256] or "webhook"


@dataclass(frozen=True)
class Received:
    """A webhook request as the route read it: the source its path names, that source's
    configuration, the request's headers (names lower-cased) and its exact body."""

    source: str
    config: SourceConfig
    headers: Mapping[str, str]
    body: bytes


def store_delivery(
    store: EventStore,
    ctx: RequestContext,
    received: Received,
    delivery: VerifiedDelivery,
    key: str | None,
) -> Outcome:
    """Store a verified delivery at most once.

    It is keyed by the provider's delivery id when it has one; else (``none``, ``hmac-sha256``
    without ``id_header``, a slash command...) by the request's ``Idempotency-Key`` (``key``),
    bound to a digest of the body as on /events: the same key with another body answers 422
    ``idempotency_key_reused``. Webhook records live in a key space of their own.
    """
    source, headers, body = received.source, received.headers, received.body
    producer_id, digest = delivery.delivery_id, None
    if producer_id is None and key is not None:
        producer_id, digest = key, content_digest([body])
    record = enrich(ctx, source, stored_type(delivery), producer_id)
    try:
        record["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        record["body"] = body
    record["size"] = len(body)
    record["kind"] = "webhook"
    content_type = headers.get("content-type")
    if content_type:
        record["content_type"] = content_type[:256]
    kept = kept_headers(received.config, headers)
    if kept is not None:
        record["headers"] = kept
    draft = Draft(source, producer_id, record, space=ids.WEBHOOK_SPACE, digest=digest)
    return store_one(store, draft, ctx.now_ms)
