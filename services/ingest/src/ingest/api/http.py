"""What the route modules share: API Gateway's request (payload 2.0) in, JSON answers out."""

from __future__ import annotations

import base64
import binascii
import json
import time
import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ingest import runtime
from ingest.domain.store import Outcome, RequestContext
from ingest.errors import ApiError, BadRequest
from ingest.routes import Route

if TYPE_CHECKING:
    from ingest.responses import Accepted, Duplicate

JSON_TYPE = "application/json"
MAX_IDEMPOTENCY_KEY = 256

#: What a route answers with: ``answer(event, figures, **path_parameters)``.
Answer = Callable[..., Response[str]]


def serve(route: Route, answer: Answer, *more: tuple[Route, Answer]) -> APIGatewayHttpRouter:
    """A router that serves ``route`` (from the route table) with ``answer``, and each further
    ``(route, answer)`` of ``more`` (another method on the same path).

    An answer is called with API Gateway's raw event, the request's
    :class:`~ingest.telemetry.RequestMetrics` and the route's path parameters. A new router per
    resolver: Powertools binds a router to the one resolver that includes it, and each thread has
    its own resolver.
    """
    router = APIGatewayHttpRouter()
    for served_route, served_answer in ((route, answer), *more):
        _register(router, served_route, served_answer)
    return router


def _register(router: APIGatewayHttpRouter, route: Route, answer: Answer) -> None:
    @router.route(route.rule, route.method)
    def served(**parameters: str) -> Response[str]:
        return answer(router.current_event.raw_event, router.context["metrics"], **parameters)


def text_response(status: int, body: str) -> Response[str]:
    """A ``text/plain`` answer (a handshake a provider wants as text: Twitch's challenge)."""
    return Response[str](status_code=status, content_type="text/plain; charset=utf-8", body=body)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response[str](
        status_code=status,
        content_type=JSON_TYPE,
        body=json.dumps(body, separators=(",", ":")),
        headers=headers,
    )


def error_response(exc: ApiError) -> Response[str]:
    return json_response(exc.status, exc.body(), exc.headers or None)


def stored_answer(outcome: Outcome) -> Response[str]:
    """202 for a newly stored event, 200 with the original's ids for a repeat."""
    if outcome.duplicate:
        repeat: Duplicate = {
            "event_id": outcome.event_id,
            "received_at": outcome.received_at,
            "duplicate": True,
        }
        return json_response(200, repeat)
    stored: Accepted = {"event_id": outcome.event_id, "received_at": outcome.received_at}
    return json_response(202, stored)


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
