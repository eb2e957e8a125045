"""Logger, metrics and (optional) tracing, shared by every request.

**A success writes no line at INFO** (docs/decisions/0038). A request collects what it has to say
in a :class:`RequestMetrics`: its outcome and its counts. A success's line
(``figures.succeeded("event stored", event_id=...)``) is at DEBUG: it appears when the service
logs at DEBUG or the request is sampled, with ``correlation_id`` (API Gateway's request id) and
the event ids. A failure's line (``figures.log(...)``, INFO or above) is written as before: the
log fields and the request's own CloudWatch embedded-metric-format (EMF) document in one JSON
object, plus one small EMF line per metric by ``reason``. Failures that carry a backend's own words
log a line of their own through :data:`logger`.

**Success metrics are held.** ``EventsAccepted``, ``EventsDuplicate`` and ``PayloadBytes``
(:data:`HELD_METRICS`) are summed in the process per minute of the request's time and written as
one EMF line per minute (its ``_aws.Timestamp`` the minute's start) when a request ends at least
``METRICS_FLUSH_SECONDS`` after the last flush (default 60 in Lambda, 0 = every request
elsewhere: the local server, the tests), whenever a request writes a line at INFO or above anyway
(a failure), and at interpreter exit. The metrics that alarms watch are written with the request that counts them.

**Levels.** ``POWERTOOLS_LOG_LEVEL`` is the service's level (default INFO). Lambda's application
log level (``AWS_LAMBDA_LOG_LEVEL``, set by the function's ``logging_config``) only filters what
reaches CloudWatch, so the service keeps its own level when Lambda's is lower, and
``POWERTOOLS_LOGGER_SAMPLE_RATE`` turns DEBUG on for that share of requests, each request drawn
anew. A line with metrics is never above INFO, so its metrics pass a Lambda filter at INFO.

Lines are written under a lock, so the local server's concurrent threads never interleave them,
and the held metrics are counted under the same lock.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Mapping
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

#: The success metrics, held and summed per minute (docs/decisions/0038), with their units.
HELD_METRICS = {"EventsAccepted": "Count", "EventsDuplicate": "Count", "PayloadBytes": "Bytes"}
#: The held metrics' period: one EMF line per minute of requests.
BUCKET_MS = 60_000
#: Seconds between flushes of the held metrics in Lambda when METRICS_FLUSH_SECONDS is not set.
LAMBDA_FLUSH_SECONDS = 60.0


def flush_seconds(env: Mapping[str, str] = os.environ) -> float:
    """``METRICS_FLUSH_SECONDS`` when it is a number >= 0; else 60 in Lambda and 0 elsewhere
    (the local server and the tests write each request's metrics at once)."""
    try:
        seconds = float(env.get("METRICS_FLUSH_SECONDS", "nan"))
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds) and seconds >= 0:
        return seconds
    return LAMBDA_FLUSH_SECONDS if env.get("AWS_LAMBDA_FUNCTION_NAME") else 0.0


_FLUSH_SECONDS = flush_seconds()


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

    def succeeded(self, message: str, **fields: Any) -> None:
        """A success's outcome: its line is at DEBUG (sampled requests, or the service at
        DEBUG), its counts are held (see the module docstring)."""
        self.log(message, level=logging.DEBUG, **fields)

    def split_metrics(self) -> tuple[dict[str, float], list[tuple[str, str, float]]]:
        """The held metrics' values, and the request's own metrics (name, unit, value)."""
        held: dict[str, float] = {}
        own: list[tuple[str, str, float]] = []
        if _METRICS_DISABLED:
            return held, own
        values = dict(self.counts)
        if self.payload_bytes:
            values["PayloadBytes"] = self.payload_bytes
        for name, value in values.items():
            if name in HELD_METRICS:
                held[name] = value
            else:
                own.append((name, "Count", value))
        return held, own


class _HeldMetrics:
    """The held metrics, summed per minute until the next flush. Callers hold the lock."""

    def __init__(self) -> None:
        self.minutes: dict[int, dict[str, float]] = {}
        self.flushed_at = -math.inf  # a new process writes its first request's at once

    def add(self, now_ms: int, values: dict[str, float]) -> None:
        if values:
            minute = self.minutes.setdefault(now_ms - now_ms % BUCKET_MS, {})
            for name, value in values.items():
                minute[name] = minute.get(name, 0) + value

    def due(self, now: float) -> bool:
        return now - self.flushed_at >= _FLUSH_SECONDS

    def drain(self, now: float) -> None:
        """Write one EMF line per minute held, oldest first, and start counting anew."""
        self.flushed_at = now
        for start, values in sorted(self.minutes.items()):
            held = [(name, HELD_METRICS[name], value) for name, value in values.items()]
            _write({"level": "INFO", **_metric_document(held, ["service"], start)})
        self.minutes.clear()


_held = _HeldMetrics()


def flush_metrics() -> None:
    """Write the held metrics now (at interpreter exit: the local server's last ones)."""
    with _publish_lock, contextlib.suppress(ValueError, OSError):  # stdout already closed
        _held.drain(time.monotonic())


atexit.register(flush_metrics)


def sample_request() -> None:
    """Draw this request's debug sampling (POWERTOOLS_LOGGER_SAMPLE_RATE), when there is one."""
    if logger.sampling_rate:
        logger.refresh_sample_rate_calculation()


def _metric_document(
    metrics: list[tuple[str, str, float]], dimensions: list[str], timestamp_ms: int
) -> dict[str, Any]:
    """An embedded-metric-format document: the ``_aws`` metadata (the values' time in
    milliseconds since the epoch) and the values, top-level."""
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": timestamp_ms,
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
    """Hold the request's success metrics, write the held ones when due (see the module
    docstring), then the request's own line, if it has one, and its metrics by reason."""
    now_ms = _wall_ms()
    held, own = figures.split_metrics()
    by_reason = [] if _METRICS_DISABLED else figures.by_reason
    shown = figures.message is not None and logger.log_level <= figures.level
    line: dict[str, Any] = {}
    if shown or own:
        # A line with metrics stays at INFO or above: it must pass Lambda's filter at INFO.
        level = figures.level if shown else logging.INFO
        line["level"] = logging.getLevelName(max(level, logging.INFO) if own else level)
    if shown:
        line["message"] = figures.message
        line["timestamp"] = _rfc3339_now()
        line["service"] = SERVICE
        if figures.request_id is not None:
            line["correlation_id"] = figures.request_id
        line.update(figures.fields)
    if own:
        line.update(_metric_document(own, ["service"], now_ms))
    with _publish_lock:
        _held.add(now_ms, held)
        now = time.monotonic()
        # A failure's lines are rare: the held metrics go out with them at no extra cost.
        speaks = bool(own or by_reason) or (shown and figures.level >= logging.INFO)
        if speaks or _held.due(now):
            _held.drain(now)
        if line:
            _write(line)
        for name, reason in by_reason:
            document = _metric_document([(name, "Count", 1)], ["service", "reason"], now_ms)
            _write({"level": "INFO", **document, "reason": reason})


def _wall_ms() -> int:
    """The time now in milliseconds since the epoch: the minute a request's metrics count in."""
    return time.time_ns() // 1_000_000


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
