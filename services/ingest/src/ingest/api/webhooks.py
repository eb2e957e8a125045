"""``POST /webhooks/{source}``: verify a third-party delivery and store its exact bytes.

The source's configuration and secrets come from :mod:`ingest.domain.webhooks.sources`, the
signature is checked by the source's scheme (:mod:`ingest.domain.webhooks.schemes`), and the
delivery is stored at most once by :mod:`ingest.domain.webhooks.delivery`. The webhook code is
imported on the first delivery, never on the ``/events`` path.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ingest import runtime
from ingest.api import http
from ingest.domain.store import backend_failure
from ingest.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, Unauthorized
from ingest.limits import webhook_body_limit
from ingest.routes import WEBHOOK_VALIDATION, WEBHOOKS
from ingest.telemetry import RequestMetrics, logger

if TYPE_CHECKING:
    from ingest.domain.webhooks.config import SourceConfig


def _source_config(figures: RequestMetrics, source: str) -> SourceConfig:
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
    return config


def post_webhook(event: dict[str, Any], figures: RequestMetrics, source: str) -> Response[str]:
    from ingest.domain.webhooks import delivery as deliveries
    from ingest.domain.webhooks.schemes import REGISTRY, WebhookRejected, verify
    from ingest.domain.webhooks.sources import resolve_secrets

    config = _source_config(figures, source)
    body = http.raw_body(event)
    figures.payload_bytes = len(body)
    limit = webhook_body_limit(payload_bucket=runtime.current().store.payload_bucket is not None)
    if len(body) > limit:
        figures.reason("WebhookRejected", "too_large")
        logger.warning("webhook rejected", extra={"source": source, "reason": "too_large"})
        raise PayloadTooLarge(f"a webhook body may be at most {limit} bytes")
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    try:
        secrets = resolve_secrets(config) if config.scheme != "none" else []
    except Exception as exc:  # the secret store throttled: 503; denied, missing, malformed: 500
        raise backend_failure(exc, "webhook secrets") from None
    method = str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "POST")
    query = str(event.get("rawQueryString") or "")
    try:
        verified = verify(config, headers, body, secrets, time.time(), method=method, query=query)
        delivery = deliveries.storable(verified)
    except WebhookRejected as exc:
        # Every rejection answers 401, including the few (``exc.status`` 400) where the signature
        # verified but the scheme's type or id is missing or unusable: the contract promises
        # providers and operators one answer for "not stored, fix the sender", and retrying
        # providers treat any 4xx alike. The reason tells the cases apart.
        figures.reason("WebhookRejected", exc.reason)
        logger.warning("webhook rejected", extra={"source": source, "reason": exc.reason})
        challenge = REGISTRY[config.scheme].challenge
        raise Unauthorized(
            f"the delivery was rejected: {exc.reason}. {exc.message}",
            code="webhook_rejected",
            headers={"WWW-Authenticate": challenge} if challenge else None,
        ) from None
    if delivery.reply is not None:
        figures.succeeded("webhook handshake answered", source=source)
        if isinstance(delivery.reply, str):
            return http.text_response(200, delivery.reply)
        return http.json_response(200, delivery.reply)
    # Without a provider delivery id, an Idempotency-Key scopes the delivery as on /events.
    key = http.idempotency_key(headers) if delivery.delivery_id is None else None
    if not deliveries.is_unicode(key):
        raise BadRequest("Idempotency-Key must be valid text", code="invalid_idempotency_key")
    received = deliveries.Received(source, config, headers, body)
    ctx = http.request_context(event)
    outcome = deliveries.store_delivery(runtime.current().store, ctx, received, delivery, key)
    figures.count("EventsDuplicate" if outcome.duplicate else "EventsAccepted")
    figures.succeeded(
        "duplicate delivery" if outcome.duplicate else "webhook stored",
        event_id=outcome.event_id,
        source=source,
        type=deliveries.stored_type(delivery),
    )
    return http.stored_answer(outcome)


def validate_webhook(event: dict[str, Any], figures: RequestMetrics, source: str) -> Response[str]:
    """CloudEvents webhook validation (abuse protection): ``OPTIONS`` with
    ``WebHook-Request-Origin`` is granted with ``WebHook-Allowed-Origin`` (and
    ``WebHook-Allowed-Rate``) when the source's ``allowed_origins`` name the origin (or ``*``),
    refused with 403 otherwise. Nothing is stored."""
    config = _source_config(figures, source)
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    origin = str(headers.get("webhook-request-origin") or "").strip()
    allowed = config.allowed_origins
    if not origin or ("*" not in allowed and origin.lower() not in {o.lower() for o in allowed}):
        figures.reason("WebhookRejected", "origin_not_allowed")
        logger.warning("webhook rejected", extra={"source": source, "reason": "origin_not_allowed"})
        raise Forbidden(
            "the source does not allow deliveries from this origin", code="origin_not_allowed"
        )
    granted = {
        "WebHook-Allowed-Origin": origin,
        "WebHook-Allowed-Rate": str(config.allowed_rate) if config.allowed_rate else "*",
        "Allow": WEBHOOKS.method,
    }
    figures.succeeded("webhook handshake answered", source=source)
    return http.json_response(200, {}, granted)


def router() -> APIGatewayHttpRouter:
    return http.serve(WEBHOOKS, post_webhook, (WEBHOOK_VALIDATION, validate_webhook))
