"""``GET /health``: liveness."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ingest.api import http
from ingest.responses import Health
from ingest.routes import HEALTH
from ingest.telemetry import RequestMetrics


def get_health(event: dict[str, Any], figures: RequestMetrics) -> Response[str]:
    return http.json_response(200, Health(status="ok"))


def router() -> APIGatewayHttpRouter:
    return http.serve(HEALTH, get_health)
