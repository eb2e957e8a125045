"""One log line per request: the request's log fields and its embedded metrics in one JSON object,
correlated by API Gateway's request id; debug lines only for sampled requests (docs/decisions/0026).
The line's size is what the cost model's log inputs stand on."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from ingest import runtime
from ingest.adapters.dynamodb import EventStore
from ingest.handler import lambda_handler
from ingest_tools import cost
from moto import mock_aws

from tests.integration.test_handler import api_event

#: CloudWatch Logs bills 26 bytes of metadata per log event on top of the line.
CLOUDWATCH_EVENT_BYTES = 26
#: The access log line API Gateway writes for each request (modules/http-api).
ACCESS_LOG_FORMAT = Path(__file__).parents[2] / "modules" / "http-api" / "access-log-format.json"
#: What API Gateway puts in its place for a POST /events from an IPv4 address and an SDK.
CONTEXT = {
    "$context.requestId": "Ab1CdEfGhIjKlM=",
    "$context.requestTimeEpoch": "1796024946474",
    "$context.identity.sourceIp": "203.0.113.10",
    "$context.identity.userAgent": "python-requests/2.31.0",
    "$context.httpMethod": "POST",
    "$context.path": "/events",
    "$context.status": "202",
    "$context.responseLatency": "14",
    "$context.integrationErrorMessage": "-",
}


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[EventStore]:
    monkeypatch.setenv("EVENTS_TABLE", "log-events")
    monkeypatch.setattr("ingest.telemetry._METRICS_DISABLED", False)
    with mock_aws():
        store = EventStore("log-events", region_name="us-east-1")
        store.ensure_table()
        runtime.reset()
        yield store
        runtime.reset()


def lines_of(body: str, *, request_id: str = "Ab1CdEfGhIjKlM=") -> tuple[int, list[str]]:
    """What the function writes to its log for one request (a typical API Gateway request id and
    SDK user agent)."""
    event = api_event(body, request_id=request_id)
    event["requestContext"]["http"]["userAgent"] = "python-requests/2.31.0"
    out = io.StringIO()
    with redirect_stdout(out):
        status = lambda_handler(event, None)["statusCode"]
    return status, [line for line in out.getvalue().splitlines() if line]


def test_an_accepted_event_is_one_line_with_its_metrics(lambda_env: EventStore) -> None:
    body = json.dumps({"type": "order.created", "id": "o-1", "source": "shop", "data": {"n": 1}})
    status, lines = lines_of(body)
    assert status == 202
    (line,) = lines
    record: dict[str, Any] = json.loads(line)
    assert record["level"] == "INFO"
    assert record["message"] == "event stored"
    assert record["correlation_id"] == "Ab1CdEfGhIjKlM="
    assert record["timestamp"].endswith("Z")  # RFC 3339: Lambda's JSON log format reads it
    assert (record["source"], record["type"]) == ("shop", "order.created")
    stored = lambda_env.get(record["event_id"][14:])
    assert stored is not None
    assert stored["request_id"] == "Ab1CdEfGhIjKlM="  # the trail, both ways
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Ingest"
    assert directive["Dimensions"] == [["service"]]
    assert {m["Name"] for m in directive["Metrics"]} == {"EventsAccepted", "PayloadBytes"}
    assert (record["EventsAccepted"], record["PayloadBytes"]) == (1, len(body))
    # The cost model's Lambda log bytes per request cover this line and CloudWatch's metadata.
    assert len(line.encode()) + CLOUDWATCH_EVENT_BYTES <= cost.DEFAULT_LOG_BYTES_PER_REQUEST


def test_the_access_log_line_is_what_the_model_charges() -> None:
    """The line of access-log-format.json as Terraform's jsonencode renders it (keys sorted, no
    spaces) with a typical request's values: the trail (request id), and what the function's line
    cannot say for requests it never sees (who, what, the status, the time taken, the failure)."""
    fields: dict[str, str] = json.loads(ACCESS_LOG_FORMAT.read_text())
    assert {"requestId", "ip", "path", "status", "latency", "integrationError"} <= set(fields)
    line = json.dumps({k: CONTEXT[v] for k, v in sorted(fields.items())}, separators=(",", ":"))
    assert len(line.encode()) + CLOUDWATCH_EVENT_BYTES <= cost.DEFAULT_ACCESS_LOG_BYTES_PER_REQUEST
    # the class the model prices is the module's default
    variables = (ACCESS_LOG_FORMAT.parent / "variables.tf").read_text()
    assert f'log_group_class = optional(string, "{cost.DEFAULT_ACCESS_LOG_CLASS}")' in variables


def test_a_batch_is_one_line_naming_every_event(lambda_env: EventStore) -> None:
    events = [{"type": "t", "id": f"b-{n}"} for n in range(100)]
    status, lines = lines_of(json.dumps(events))
    assert status == 202
    (line,) = lines
    record = json.loads(line)
    assert record["message"] == "batch stored"
    assert len(record["event_ids"]) == 100
    per_event = (len(line.encode()) - len(lines_of(json.dumps(events[:1]))[1][0])) / 99
    assert per_event <= cost.DEFAULT_LOG_BYTES_PER_BATCHED_EVENT


def test_a_rejection_adds_only_its_metric_by_reason(lambda_env: EventStore) -> None:
    status, lines = lines_of('{"type": 1}')
    assert status == 422
    first, by_reason = (json.loads(line) for line in lines)
    assert first["message"] == "request rejected"
    assert (first["status"], first["code"]) == (422, "validation_failed")
    assert first["EventsRejected"] == 1
    assert "reason" not in first  # the total, which alarms watch
    assert by_reason["reason"] == "validation_failed"
    assert by_reason["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "reason"]]


PROBE = """
import io, json, os, sys
from contextlib import redirect_stdout
from moto import mock_aws
from ingest import runtime
from ingest.adapters.dynamodb import EventStore
from ingest.handler import lambda_handler
from ingest.telemetry import logger
event = json.loads(sys.argv[1])
with mock_aws():
    EventStore("sampled", region_name="us-east-1").ensure_table()
    out = io.StringIO()
    levels = []
    for n in range(int(sys.argv[2])):
        with redirect_stdout(out):
            lambda_handler(event, None)
        levels.append(logger.log_level)
print(json.dumps(sorted(set(levels))))
"""


@pytest.mark.parametrize(
    ("sample_rate", "expected"), [("0", [20]), ("1", [10])], ids=["unsampled", "sampled"]
)
def test_lambdas_level_filters_and_the_service_samples_debug(
    sample_rate: str, expected: list[int]
) -> None:
    """With Lambda's application log level at DEBUG (the filter), the service logs at its own
    level (INFO) and at DEBUG for sampled requests only."""
    env = {
        "EVENTS_TABLE": "sampled",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_LAMBDA_LOG_LEVEL": "DEBUG",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_LOGGER_SAMPLE_RATE": sample_rate,
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    event = api_event('{"type":"t"}')
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(event), "5"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == expected
