"""``GET /health``: liveness."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ingest.api import http
from ingest.routes import HEALTH
from ingest.telemetry import RequestMetrics

if TYPE_CHECKING:
    from ingest.responses import Health


def get_health(event: dict[str, Any], figures: RequestMetrics) -> Response[str]:
    up: Health = {"status": "ok"}
    return http.json_response(200, up)


def router() -> APIGatewayHttpRouter:
    return http.serve(HEALTH, get_health)
