"""HTTP routes: the API Gateway HTTP API (payload 2.0) resolver and what each route answers.

Powertools' resolver keeps the current event on the instance, so each thread gets its own
resolver (:func:`resolver`): the Lambda runtime has one thread, the local server many.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import unicodedata
from typing import Any

from ingest import intake, routes, runtime
from ingest.errors import (
    ApiError,
    BadRequest,
    InternalError,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
)
from ingest.lazy_imports import defer_package_init
from ingest.models import CLOUDEVENT_ATTRIBUTES, DEFAULT_SOURCE
from ingest.service import (
    Draft,
    Outcome,
    RequestContext,
    backend_failure,
    content_digest,
    enrich,
    store_many,
    store_one,
)
from ingest.telemetry import RequestMetrics, logger

defer_package_init("aws_lambda_powertools.event_handler")  # before the first import from it
from aws_lambda_powertools.event_handler.api_gateway import (  # noqa: E402
    APIGatewayHttpResolver,
    Response,
)

JSON_TYPE = "application/json"
MAX_IDEMPOTENCY_KEY = 256
_local = threading.local()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response[str](
        status_code=status,
        content_type=JSON_TYPE,
        body=json.dumps(body, separators=(",", ":")),
        headers=headers,
    )


def error_response(exc: ApiError) -> Response[str]:
    return json_response(exc.status, exc.body(), exc.headers or None)


def raw_body(event: dict[str, Any]) -> bytes:
    body = event.get("body")
    if body is None:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=False)
        except (binascii.Error, ValueError):
            raise BadRequest("the body is not valid base64", code="invalid_encoding") from None
    return str(body).encode("utf-8", "surrogatepass")


def request_context(event: dict[str, Any]) -> RequestContext:
    context = event.get("requestContext") or {}
    http = context.get("http") or {}
    return RequestContext(
        request_id=str(context.get("requestId") or "local"),
        source_ip=http.get("sourceIp"),
        user_agent=http.get("userAgent"),
        now_ms=time.time_ns() // 1_000_000,
        retention_days=runtime.current().settings.retention_days,
    )


def single_answer(outcome: Outcome) -> Response[str]:
    body: dict[str, Any] = {"event_id": outcome.event_id, "received_at": outcome.received_at}
    if outcome.duplicate:
        body["duplicate"] = True
        return json_response(200, body)
    return json_response(202, body)


def idempotency_key(headers: dict[str, Any]) -> str | None:
    """The ``Idempotency-Key`` header, or ``None``; a 400 when it is unusable."""
    key = headers.get("idempotency-key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY or any(
        unicodedata.category(char) == "Cc" for char in key
    ):
        raise BadRequest(
            f"Idempotency-Key must be 1-{MAX_IDEMPOTENCY_KEY} characters without control "
            "characters",
            code="invalid_idempotency_key",
        )
    return str(key)


def _event_draft(
    ctx: RequestContext, parsed: intake.ParsedEvent, producer_id: str | None, digest: str | None
) -> Draft:
    event = parsed.event
    record = enrich(ctx, event.source, event.type, producer_id)
    record["size"] = parsed.size
    for name in CLOUDEVENT_ATTRIBUTES:
        value = getattr(event, name)
        if value is not None:
            record[name] = value
    if parsed.data_json is not None:
        record["data"] = parsed.data_json
    if parsed.extensions_json is not None:
        record["extensions"] = parsed.extensions_json
    return Draft(event.source, producer_id, record, digest=digest)


def _event_digest(parsed: intake.ParsedEvent) -> str:
    """What an ``Idempotency-Key`` is bound to: the event's content, whatever its framing."""
    event = parsed.event
    parts: list[str] = [event.type, event.source]
    for name in CLOUDEVENT_ATTRIBUTES:
        parts += [name, getattr(event, name) or ""]
    return content_digest([*parts, parsed.data_json or "", parsed.extensions_json or ""])


def _check_sources(parsed: intake.Intake) -> None:
    """Names configured for ``/webhooks/{source}`` are reserved: ``/events`` cannot forge them."""
    named = {item.event.source for item in parsed.events} - {DEFAULT_SOURCE}
    if not named:
        return
    try:
        configured = runtime.current().webhook_source_names()
    except Exception as exc:  # SSM throttled: 503; an unreadable document: 500
        raise backend_failure(exc, "the sources document") from None
    reserved = named & configured
    if reserved:
        raise ValidationFailed(
            "a source configured for /webhooks/{source} is reserved for verified deliveries",
            code="reserved_source",
            details=[
                {"index": index if parsed.batch else None, "field": "source", "message": "reserved"}
                for index, item in enumerate(parsed.events)
                if item.event.source in reserved
            ],
        )


def post_events(event: dict[str, Any], figures: RequestMetrics) -> Response[str]:
    headers = event.get("headers") or {}
    body = raw_body(event)
    figures.payload_bytes = len(body)
    parsed = intake.parse(headers, body)
    key = idempotency_key(headers)
    if key is not None and parsed.batch:
        raise BadRequest(
            "Idempotency-Key applies to a single event; give each batch event an id instead",
            code="invalid_idempotency_key",
        )
    _check_sources(parsed)
    ctx = request_context(event)
    store = runtime.current().store
    if not parsed.batch:
        item = parsed.events[0]
        keyed = item.event.id is None and key is not None
        draft = _event_draft(
            ctx, item, item.event.id or key, _event_digest(item) if keyed else None
        )
        outcome = store_one(store, draft, ctx.now_ms)
        figures.count("EventsDuplicate" if outcome.duplicate else "EventsAccepted")
        logger.info(
            "event stored" if not outcome.duplicate else "duplicate event",
            extra={
                "event_id": outcome.event_id,
                "source": item.event.source,
                "type": item.event.type,
            },
        )
        return single_answer(outcome)
    drafts = [_event_draft(ctx, item, item.event.id, None) for item in parsed.events]
    outcomes = store_many(store, drafts, ctx.now_ms)
    duplicates = sum(1 for o in outcomes if o.duplicate)
    figures.count("EventsAccepted", len(outcomes) - duplicates)
    figures.count("EventsDuplicate", duplicates)
    logger.info(
        "batch stored",
        extra={
            "events": len(outcomes),
            "duplicates": duplicates,
            "event_ids": [o.event_id for o in outcomes],
        },
    )
    return json_response(
        202,
        {
            "accepted": len(outcomes) - duplicates,
            "duplicates": duplicates,
            "events": [{"event_id": o.event_id, "duplicate": o.duplicate} for o in outcomes],
        },
    )


def post_webhook(event: dict[str, Any], source: str, figures: RequestMetrics) -> Response[str]:
    from ingest.webhook_route import receive  # webhook code stays off the /events path

    return receive(event, source, figures)


def build_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()

    def admitted(app: APIGatewayHttpResolver, next_middleware: Any) -> Response[str]:
        refusal = routes.admit(app.current_event.raw_event)
        if refusal is not None:
            raise refusal
        answer: Response[str] = next_middleware(app)
        return answer

    app.use([admitted])

    @app.route(routes.HEALTH.rule, routes.HEALTH.method)
    def health() -> Response[str]:
        return json_response(200, {"status": "ok"})

    @app.route(routes.EVENTS.rule, routes.EVENTS.method)
    def events() -> Response[str]:
        return post_events(app.current_event.raw_event, app.context["metrics"])

    @app.route(routes.WEBHOOKS.rule, routes.WEBHOOKS.method)
    def webhooks(source: str) -> Response[str]:
        return post_webhook(app.current_event.raw_event, source, app.context["metrics"])

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        raw = app.current_event.raw_event
        return error_response(routes.admit(raw) or NotFound(f"no route for {raw.get('rawPath')}"))

    @app.exception_handler(ApiError)
    def api_error(exc: ApiError) -> Response[str]:
        figures: RequestMetrics = app.context["metrics"]
        if isinstance(exc, ServiceUnavailable):
            figures.count("StorageUnavailable")
            logger.error("storage unavailable", extra={"reason": exc.message})
        elif isinstance(exc, InternalError):
            figures.count("InternalError")
            logger.error("request failed: the deployment is broken", extra={"reason": exc.code})
        elif exc.status not in {404, 405}:
            if exc.status != 401:
                figures.reason("EventsRejected", exc.code)
            logger.info("request rejected", extra={"status": exc.status, "reason": exc.code})
        return error_response(exc)

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        # A defect, never the client's input: log it with the request id, answer the contract's
        # fixed 500 body (no text of the exception), and let the 5xx alarm fire.
        app.context["metrics"].count("InternalError")
        logger.exception("unexpected error", extra={"error": type(exc).__name__})
        return error_response(InternalError())

    return app


def resolver() -> APIGatewayHttpResolver:
    app: APIGatewayHttpResolver | None = getattr(_local, "app", None)
    if app is None:
        app = _local.app = build_resolver()
    return app


__all__ = ["build_resolver", "json_response", "resolver"]
