"""``POST /webhooks/{source}``: verify a third-party delivery and store its exact bytes."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response

from ingest import ids, runtime
from ingest.app import json_response, raw_body, request_context, single_answer
from ingest.config import MAX_WEBHOOK_BYTES
from ingest.errors import NotFound, PayloadTooLarge, Unauthorized
from ingest.service import Draft, backend_failure, enrich, store_one
from ingest.telemetry import RequestMetrics, logger
from ingest.webhooks.schemes import WebhookRejected, verify


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
        delivery = verify(config, headers, body, secrets, time.time())
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

    ctx = request_context(event)
    record = enrich(ctx, source, delivery.event_type[:256] or "webhook", delivery.delivery_id)
    try:
        record["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        record["body"] = body
    record["size"] = len(body)
    record["kind"] = "webhook"
    content_type = headers.get("content-type")
    if content_type:
        record["content_type"] = content_type[:256]
    draft = Draft(source, delivery.delivery_id, record, space=ids.WEBHOOK_SPACE)
    outcome = store_one(runtime.current().store, draft, ctx.now_ms)
    figures.count("EventsDuplicate" if outcome.duplicate else "EventsAccepted")
    logger.info(
        "duplicate delivery" if outcome.duplicate else "webhook stored",
        extra={"event_id": outcome.event_id, "source": source, "type": record["type"]},
    )
    return single_answer(outcome)
