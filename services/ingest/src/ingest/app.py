"""HTTP routes: the API Gateway HTTP API (payload 2.0) resolver and what each route answers.

Powertools' resolver keeps the current event on the instance, so each thread gets its own
resolver (:func:`resolver`): the Lambda runtime has one thread, the local server many.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
import time
from typing import Any

from ingest import intake, runtime
from ingest.errors import (
    ApiError,
    BadRequest,
    MethodNotAllowed,
    NotFound,
    ServiceUnavailable,
)
from ingest.lazy_imports import defer_package_init
from ingest.models import CLOUDEVENT_ATTRIBUTES
from ingest.service import Draft, Outcome, RequestContext, enrich, store_many, store_one
from ingest.telemetry import RequestMetrics, logger

defer_package_init("aws_lambda_powertools.event_handler")  # before the first import from it
from aws_lambda_powertools.event_handler.api_gateway import (  # noqa: E402
    APIGatewayHttpResolver,
    Response,
)

JSON_TYPE = "application/json"
_ALLOWED = (
    (re.compile(r"^/events$"), "POST"),
    (re.compile(r"^/health$"), "GET"),
    (re.compile(r"^/webhooks/[^/]+$"), "POST"),
)
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


def _event_draft(ctx: RequestContext, parsed: intake.ParsedEvent, producer_id: str | None) -> Draft:
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
    return Draft(event.source, producer_id, record)


def post_events(event: dict[str, Any], figures: RequestMetrics) -> Response[str]:
    headers = event.get("headers") or {}
    body = raw_body(event)
    figures.payload_bytes = len(body)
    parsed = intake.parse(headers, body)
    key = headers.get("idempotency-key")
    if key is not None and (parsed.batch or not 1 <= len(key) <= 256):
        raise BadRequest(
            "Idempotency-Key applies to a single event and must be 1-256 characters; "
            "give each batch event an id instead",
            code="invalid_idempotency_key",
        )
    ctx = request_context(event)
    store = runtime.current().store
    if not parsed.batch:
        item = parsed.events[0]
        outcome = store_one(store, _event_draft(ctx, item, item.event.id or key), ctx.now_ms)
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
    drafts = [_event_draft(ctx, item, item.event.id) for item in parsed.events]
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


def _method_not_allowed_or_not_found(path: str) -> ApiError:
    for pattern, method in _ALLOWED:
        if pattern.match(path):
            return MethodNotAllowed(
                f"{path} does not accept this method", headers={"Allow": method}
            )
    return NotFound(f"no route for {path}")


def build_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()

    @app.get("/health")
    def health() -> Response[str]:
        return json_response(200, {"status": "ok"})

    @app.post("/events")
    def events() -> Response[str]:
        return post_events(app.current_event.raw_event, app.context["metrics"])

    @app.post("/webhooks/<source>")
    def webhooks(source: str) -> Response[str]:
        return post_webhook(app.current_event.raw_event, source, app.context["metrics"])

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        return error_response(_method_not_allowed_or_not_found(app.current_event.path))

    @app.exception_handler(ApiError)
    def api_error(exc: ApiError) -> Response[str]:
        figures: RequestMetrics = app.context["metrics"]
        if isinstance(exc, ServiceUnavailable):
            figures.count("StorageUnavailable")
            logger.error("storage unavailable", extra={"reason": exc.message})
        elif exc.status not in {404, 405}:
            if exc.status != 401:
                figures.reason("EventsRejected", exc.code)
            logger.info("request rejected", extra={"status": exc.status, "reason": exc.code})
        return error_response(exc)

    return app


def resolver() -> APIGatewayHttpResolver:
    app: APIGatewayHttpResolver | None = getattr(_local, "app", None)
    if app is None:
        app = _local.app = build_resolver()
    return app


__all__ = ["build_resolver", "json_response", "resolver"]
