"""Lambda entry point: ``ingest.handler.lambda_handler`` (API Gateway HTTP API, payload 2.0).

It assembles the resolver from the route modules (one Powertools router per route family, see
:mod:`ingest.api`), admits a request only by the route key API Gateway matched
(:mod:`ingest.routes`), turns every error into the contract's answer, and observes: a log line
correlated by the request id, the request's metrics, and tracing when it is switched on.

Powertools' resolver keeps the current event on the instance, so each thread gets its own
resolver (:func:`resolver`): the Lambda runtime has one thread, the local server many.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ingest.lazy_imports import defer_package_init

defer_package_init("aws_lambda_powertools.event_handler")  # before the first import from it
from aws_lambda_powertools.event_handler.api_gateway import (  # noqa: E402
    APIGatewayHttpResolver,
    Response,
)

from ingest import routes  # noqa: E402
from ingest.adapters.dynamodb import clear_request_deadline, set_request_deadline  # noqa: E402
from ingest.api import events, health, webhooks  # noqa: E402
from ingest.api.http import error_response  # noqa: E402
from ingest.errors import (  # noqa: E402
    ApiError,
    InternalError,
    NotFound,
    ServiceUnavailable,
)
from ingest.telemetry import (  # noqa: E402
    RequestMetrics,
    logger,
    publish,
    sample_request,
    tracing_enabled,
)

#: The route modules, each serving one family of the route table.
ROUTERS = (events.router, webhooks.router, health.router)

_TRACING = tracing_enabled()
_local = threading.local()


def _admitted(app: APIGatewayHttpResolver, next_middleware: Any) -> Response[str]:
    """Serve a request only when its route key is its path's (see :func:`ingest.routes.admit`)."""
    refusal = routes.admit(app.current_event.raw_event)
    if refusal is not None:
        raise refusal
    answer: Response[str] = next_middleware(app)
    return answer


def build_resolver() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()
    app.use([_admitted])
    for router in ROUTERS:
        app.include_router(router())

    @app.not_found
    def not_found(_: Exception) -> Response[str]:
        raw = app.current_event.raw_event
        return error_response(routes.admit(raw) or NotFound(f"no route for {raw.get('rawPath')}"))

    @app.exception_handler(ApiError)
    def api_error(exc: ApiError) -> Response[str]:
        figures: RequestMetrics = app.context["metrics"]
        if isinstance(exc, ServiceUnavailable):
            figures.count("StorageUnavailable")
            figures.log("storage unavailable", level=logging.ERROR, detail=exc.message)
        elif isinstance(exc, InternalError):
            figures.count("InternalError")
            figures.log("request failed: the deployment is broken", level=logging.ERROR)
        elif exc.status not in {404, 405}:
            if exc.status != 401:
                figures.reason("EventsRejected", exc.code)
            figures.log("request rejected", status=exc.status, code=exc.code)
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
    """This thread's resolver, built on first use."""
    app: APIGatewayHttpResolver | None = getattr(_local, "app", None)
    if app is None:
        app = _local.app = build_resolver()
    return app


def _remaining_seconds(context: Any) -> float | None:
    """The time this invocation has left (Lambda's context), or None outside Lambda."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000 if callable(remaining) else None


def _handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    app = resolver()
    request_id = (event.get("requestContext") or {}).get("requestId")
    figures = RequestMetrics(request_id=request_id)
    sample_request()
    logger.thread_safe_append_keys(correlation_id=request_id)
    deadline = set_request_deadline(_remaining_seconds(context))  # bounds storage retries
    try:
        app.append_context(metrics=figures)
        return app.resolve(event, context)
    finally:
        clear_request_deadline(deadline)
        app.clear_context()
        logger.thread_safe_clear_keys()
        publish(figures)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if _TRACING:
        from ingest.telemetry import tracer

        traced: dict[str, Any] = tracer().capture_method(_handle)(event, context)
        return traced
    return _handle(event, context)
