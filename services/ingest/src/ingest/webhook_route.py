"""``POST /webhooks/{source}``: verify a third-party delivery and store its exact bytes.

The record also keeps the request headers the provider sent (``headers``, a JSON object text):
names lower-cased, credentials, framing and API Gateway's own headers left out, at most
:data:`MAX_HEADERS_BYTES` in all, so that a delivery can be inspected, forwarded and replayed as
it was sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any, Final

from aws_lambda_powertools.event_handler.api_gateway import Response

from ingest import ids, runtime
from ingest.app import idempotency_key, json_response, raw_body, request_context, single_answer
from ingest.config import MAX_WEBHOOK_BYTES
from ingest.errors import BadRequest, NotFound, PayloadTooLarge, Unauthorized
from ingest.service import Draft, backend_failure, content_digest, enrich, store_one
from ingest.telemetry import RequestMetrics, logger
from ingest.webhooks.config import SourceConfig
from ingest.webhooks.schemes import VerifiedDelivery, WebhookRejected, verify

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


def _is_unicode(text: str | None) -> bool:
    """Whether ``text`` can be stored (a lone surrogate, as in ``"\\ud83d"``, cannot)."""
    if text is None:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _checked(delivery: VerifiedDelivery) -> VerifiedDelivery:
    """The type and delivery id a provider's JSON gave must be storable text."""
    if not _is_unicode(delivery.event_type):
        raise WebhookRejected("malformed_event_type", status=400)
    if not _is_unicode(delivery.delivery_id):
        raise WebhookRejected("malformed_delivery_id", status=400)
    return delivery


def kept_headers(config: SourceConfig, headers: Mapping[str, str]) -> str | None:
    """The headers a record keeps, as JSON object text (``None`` when none are left).

    Names are lower-cased; credentials (``authorization``, cookies, ``x-api-key`` and a ``token``
    scheme's header), framing headers and API Gateway's own are left out; the rest is kept in the
    order received while it fits in :data:`MAX_HEADERS_BYTES`.
    """
    dropped = set(CREDENTIAL_HEADERS | NOT_KEPT_HEADERS)
    if str(config.scheme) == "token" and config.header:
        dropped.add(config.header.lower())
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


def _producer_id(
    delivery: VerifiedDelivery, headers: dict[str, str], body: bytes
) -> tuple[str | None, str | None]:
    """The key a delivery is stored under at most once, and the digest that binds it.

    The provider's delivery id when it has one; else (``none``, ``hmac-sha256`` without
    ``id_header``, a slash command...) an ``Idempotency-Key`` header, bound to a digest of the
    body as on /events: the same key with another body answers 422 ``idempotency_key_reused``.
    """
    if delivery.delivery_id is not None:
        return delivery.delivery_id, None
    key = idempotency_key(headers)
    if key is None:
        return None, None
    if not _is_unicode(key):
        raise BadRequest("Idempotency-Key must be valid text", code="invalid_idempotency_key")
    return key, content_digest([body])


def receive(event: dict[str, Any], source: str, figures: RequestMetrics) -> Response[str]:
    from ingest.adapters.secrets import resolve_secrets

    try:
        config = runtime.current().sources().sources.get(source)
    except Exception as exc:  # SSM throttled or unreachable: 503; unreadable or denied: 500
        raise backend_failure(exc, "webhook configuration") from None
    if config is None:
        # Counted like any other rejection (a provider pointed at a wrong or removed source name).
        # The name is caller-chosen, so it stays out of the metric and the log.
        figures.reason("WebhookRejected", "unknown_source")
        logger.warning("webhook rejected", extra={"reason": "unknown_source"})
        raise NotFound(f"no webhook source named {source!r} is configured")
    body = raw_body(event)
    figures.payload_bytes = len(body)
    if len(body) > MAX_WEBHOOK_BYTES:
        figures.reason("WebhookRejected", "too_large")
        logger.warning("webhook rejected", extra={"source": source, "reason": "too_large"})
        raise PayloadTooLarge(f"a webhook body may be at most {MAX_WEBHOOK_BYTES} bytes")
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    try:
        secrets = resolve_secrets(config) if config.scheme != "none" else []
    except Exception as exc:  # the secret store throttled: 503; denied, missing, malformed: 500
        raise backend_failure(exc, "webhook secrets") from None
    try:
        delivery = _checked(verify(config, headers, body, secrets, time.time()))
    except WebhookRejected as exc:
        # Every rejection answers 401, including the few (``exc.status`` 400) where the signature
        # verified but the scheme's type or id is missing or unusable: the contract promises
        # providers and operators one answer for "not stored, fix the sender", and retrying
        # providers treat any 4xx alike. The reason tells the cases apart.
        figures.reason("WebhookRejected", exc.reason)
        logger.warning("webhook rejected", extra={"source": source, "reason": exc.reason})
        raise Unauthorized(
            f"the delivery was rejected: {exc.reason}. {exc.message}", code="webhook_rejected"
        ) from None
    if delivery.reply is not None:
        logger.info("webhook handshake answered", extra={"source": source})
        return json_response(200, delivery.reply)

    producer_id, digest = _producer_id(delivery, headers, body)
    ctx = request_context(event)
    record = enrich(ctx, source, delivery.event_type[:256] or "webhook", producer_id)
    try:
        record["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        record["body"] = body
    record["size"] = len(body)
    record["kind"] = "webhook"
    content_type = headers.get("content-type")
    if content_type:
        record["content_type"] = content_type[:256]
    kept = kept_headers(config, headers)
    if kept is not None:
        record["headers"] = kept
    draft = Draft(source, producer_id, record, space=ids.WEBHOOK_SPACE, digest=digest)
    outcome = store_one(runtime.current().store, draft, ctx.now_ms)
    figures.count("EventsDuplicate" if outcome.duplicate else "EventsAccepted")
    logger.info(
        "duplicate delivery" if outcome.duplicate else "webhook stored",
        extra={"event_id": outcome.event_id, "source": source, "type": record["type"]},
    )
    return single_answer(outcome)
