"""Logger, metrics and (optional) tracing, shared by every request.

Powertools keeps metrics in process-wide state. A request therefore collects its figures in a
:class:`RequestMetrics` and publishes them in one short critical section, so the local server's
concurrent threads never mix or lose each other's metrics.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "ingest")

logger = Logger(service=SERVICE)
metrics = Metrics(
    service=SERVICE, namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Ingest")
)
_publish_lock = threading.Lock()


@dataclass
class RequestMetrics:
    counts: dict[str, float] = field(default_factory=dict)
    payload_bytes: int = 0
    by_reason: list[tuple[str, str]] = field(default_factory=list)

    def count(self, name: str, value: float = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + value

    def reason(self, metric: str, reason: str) -> None:
        """Count ``metric`` in total (what alarms watch) and once more with a ``reason`` dimension."""
        self.count(metric)
        self.by_reason.append((metric, reason))


_METRICS_DISABLED = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true")


def publish(figures: RequestMetrics) -> None:
    if _METRICS_DISABLED or not (figures.counts or figures.payload_bytes or figures.by_reason):
        return
    with _publish_lock:
        for name, value in figures.counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        if figures.payload_bytes:
            metrics.add_metric(
                name="PayloadBytes", unit=MetricUnit.Bytes, value=figures.payload_bytes
            )
        if figures.counts or figures.payload_bytes:
            metrics.flush_metrics()
        for name, reason in figures.by_reason:
            with single_metric(
                name=name,
                unit=MetricUnit.Count,
                value=1,
                namespace=metrics.namespace,
                default_dimensions={"service": SERVICE},
            ) as metric:
                metric.add_dimension(name="reason", value=reason)


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
