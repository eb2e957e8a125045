"""``POST /events``: one event or a batch from first-party producers.

The request is validated whole (:mod:`ingest.domain.intake`), then each event is enriched and
stored at most once (:func:`ingest.domain.store.store_events`, which writes through
:mod:`ingest.adapters.dynamodb`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ingest import runtime
from ingest.api import http
from ingest.domain import intake
from ingest.domain.store import backend_failure, store_events
from ingest.errors import BadRequest
from ingest.routes import EVENTS
from ingest.telemetry import RequestMetrics

if TYPE_CHECKING:
    from ingest.responses import BatchAccepted


def _refuse_reserved_sources(request: intake.Intake) -> None:
    """Names configured for ``/webhooks/{source}`` are reserved: ``/events`` cannot forge them."""
    named = intake.named_sources(request)
    if not named:
        return
    try:
        configured = runtime.current().webhook_source_names()
    except Exception as exc:  # SSM throttled: 503; an unreadable document: 500
        raise backend_failure(exc, "the sources document") from None
    intake.refuse_reserved(request, named & configured)


def post_events(event: dict[str, Any], figures: RequestMetrics) -> Response[str]:
    headers = event.get("headers") or {}
    body = http.raw_body(event)
    figures.payload_bytes = len(body)
    request = intake.parse(headers, body)
    key = http.idempotency_key(headers)
    if key is not None and request.batch:
        raise BadRequest(
            "Idempotency-Key applies to a single event; give each batch event an id instead",
            code="invalid_idempotency_key",
        )
    _refuse_reserved_sources(request)
    outcomes = store_events(runtime.current().store, http.request_context(event), request, key)
    if not request.batch:
        (outcome,) = outcomes
        sent = request.events[0].event
        figures.count("EventsDuplicate" if outcome.duplicate else "EventsAccepted")
        figures.succeeded(
            "duplicate event" if outcome.duplicate else "event stored",
            event_id=outcome.event_id,
            source=sent.source,
            type=sent.type,
        )
        return http.stored_answer(outcome)
    duplicates = sum(1 for o in outcomes if o.duplicate)
    figures.count("EventsAccepted", len(outcomes) - duplicates)
    figures.count("EventsDuplicate", duplicates)
    figures.succeeded(
        "batch stored",
        events=len(outcomes),
        duplicates=duplicates,
        event_ids=[o.event_id for o in outcomes],
    )
    stored: BatchAccepted = {
        "accepted": len(outcomes) - duplicates,
        "duplicates": duplicates,
        "events": [{"event_id": o.event_id, "duplicate": o.duplicate} for o in outcomes],
    }
    return http.json_response(202, stored)


def router() -> APIGatewayHttpRouter:
    return http.serve(EVENTS, post_events)
