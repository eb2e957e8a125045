"""Logger, metrics and (optional) tracing, shared by every request.

**One line per request.** A request collects what it has to say in a :class:`RequestMetrics`: its
outcome (``figures.log("event stored", event_id=...)``) and its counts. :func:`publish` writes them
as one JSON line: the log fields (``level``, ``message``, ``correlation_id`` = API Gateway's request
id, the event ids) and the request's CloudWatch embedded-metric-format document (``_aws`` and the
metric values) in the same object, so CloudWatch extracts the metrics from the line that is also
the request's log. Metrics by ``reason`` add one small EMF line each (only rejections have them).
Failures that carry a backend's own words log a line of their own through :data:`logger`.

**Levels.** ``POWERTOOLS_LOG_LEVEL`` is the service's level (default INFO). Lambda's application
log level (``AWS_LAMBDA_LOG_LEVEL``, set by the function's ``logging_config``) only filters what
reaches CloudWatch, so the service keeps its own level when Lambda's is lower, and
``POWERTOOLS_LOGGER_SAMPLE_RATE`` turns DEBUG on for that share of requests, each request drawn
anew. The request line is never above INFO, so its metrics pass a Lambda filter at INFO.

Lines are written under a lock, so the local server's concurrent threads never interleave them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ingest")
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Ingest")

logger = Logger(service=SERVICE, location=None, use_rfc3339=True)
_LEVEL = logging.getLevelName(os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO").upper())
if os.environ.get("AWS_LAMBDA_LOG_LEVEL") and isinstance(_LEVEL, int):
    # Powertools would adopt Lambda's level, which is the filter, not the service's level.
    logger.initial_log_level = _LEVEL
    logger.refresh_sample_rate_calculation()
_publish_lock = threading.Lock()
_METRICS_DISABLED = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true")


@dataclass
class RequestMetrics:
    """What one request reports: its log line's message and fields, and its metrics."""

    counts: dict[str, float] = field(default_factory=dict)
    payload_bytes: int = 0
    by_reason: list[tuple[str, str]] = field(default_factory=list)
    request_id: str | None = None
    message: str | None = None
    level: int = logging.INFO
    fields: dict[str, Any] = field(default_factory=dict)

    def count(self, name: str, value: float = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + value

    def reason(self, metric: str, reason: str) -> None:
        """Count ``metric`` in total (what alarms watch) and once more with a ``reason`` dimension."""
        self.count(metric)
        self.by_reason.append((metric, reason))

    def log(self, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
        """The request's outcome, written in its one line by :func:`publish` (a later call of
        the same request replaces the message and adds its fields)."""
        self.message, self.level = message, level
        self.fields.update(fields)


def sample_request() -> None:
    """Draw this request's debug sampling (POWERTOOLS_LOGGER_SAMPLE_RATE), when there is one."""
    if logger.sampling_rate:
        logger.refresh_sample_rate_calculation()


def _metric_document(
    metrics: list[tuple[str, str, float]], dimensions: list[str]
) -> dict[str, Any]:
    """An embedded-metric-format document: the ``_aws`` metadata and the values, top-level."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": time.time_ns() // 1_000_000,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [dimensions],
                    "Metrics": [{"Name": name, "Unit": unit} for name, unit, _ in metrics],
                }
            ],
        },
        "service": SERVICE,
    }
    document.update((name, value) for name, _, value in metrics)
    return document


def _write(line: dict[str, Any]) -> None:
    sys.stdout.write(
        json.dumps(line, separators=(",", ":"), ensure_ascii=False, default=str) + "\n"
    )


def publish(figures: RequestMetrics) -> None:
    """Write the request's one line (see the module docstring), then its metrics by reason."""
    metrics: list[tuple[str, str, float]] = []
    if not _METRICS_DISABLED:
        metrics = [(name, "Count", value) for name, value in figures.counts.items()]
        if figures.payload_bytes:
            metrics.append(("PayloadBytes", "Bytes", figures.payload_bytes))
    shown = figures.message is not None and logger.log_level <= figures.level
    if not (shown or metrics or (figures.by_reason and not _METRICS_DISABLED)):
        return
    level = max(figures.level, logging.INFO) if shown else logging.INFO
    line: dict[str, Any] = {"level": logging.getLevelName(level)}
    if shown:
        line["message"] = figures.message
        line["timestamp"] = _rfc3339_now()
        line["service"] = SERVICE
        if figures.request_id is not None:
            line["correlation_id"] = figures.request_id
        line.update(figures.fields)
    if metrics:
        line.update(_metric_document(metrics, ["service"]))
    with _publish_lock:
        if shown or metrics:
            _write(line)
        if not _METRICS_DISABLED:
            for name, reason in figures.by_reason:
                document = _metric_document([(name, "Count", 1)], ["service", "reason"])
                _write({"level": "INFO", **document, "reason": reason})


def _rfc3339_now() -> str:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    return f"{stamp}.{int(now * 1000) % 1000:03d}Z"


def tracing_enabled() -> bool:
    """X-Ray only inside Lambda and only when not switched off: the SDK costs ~300 ms to import."""
    return bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and os.environ.get(
        "POWERTOOLS_TRACE_DISABLED", "false"
    ).lower() not in ("1", "true")


_tracer: Any = None


def tracer() -> Any:
    """The Powertools Tracer, created on first use (patches botocore so DynamoDB calls show)."""
    global _tracer  # noqa: PLW0603
    if _tracer is None:
        from aws_lambda_powertools import Tracer

        _tracer = Tracer(service=SERVICE, patch_modules=["botocore"])
    return _tracer
