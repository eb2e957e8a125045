"""Lambda entry point: ``ingest.handler.lambda_handler`` (API Gateway HTTP API, payload 2.0)."""

from __future__ import annotations

from typing import Any

from ingest.app import resolver
from ingest.telemetry import RequestMetrics, logger, publish, tracing_enabled

_TRACING = tracing_enabled()


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    app = resolver()
    figures = RequestMetrics()
    request_id = (event.get("requestContext") or {}).get("requestId")
    logger.thread_safe_append_keys(correlation_id=request_id)
    try:
        app.append_context(metrics=figures)
        return app.resolve(event, context)
    finally:
        app.clear_context()
        logger.thread_safe_clear_keys()
        publish(figures)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if _TRACING:
        from ingest.telemetry import tracer

        traced: dict[str, Any] = tracer().capture_method(_handle)(event, context)
        return traced
    return _handle(event, context)
