"""What the function writes to its log (docs/decisions/0038): no line for a success at INFO, its
line with the request-id/event-id trail at DEBUG (sampled requests, or the service at DEBUG), the
success metrics held and written once a minute as one EMF line per minute, a failure's lines as
before. The lines' sizes are what the cost model's log inputs stand on."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest
from ingest import telemetry
from ingest.adapters.dynamodb import EventStore
from ingest.handler import lambda_handler
from ingest_tools import cost

from tests.integration.test_handler import api_event
from tests.support import mocked_table

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
#: The start of the minute the requests below are served in (the service's clock is held there).
MINUTE = 1_796_024_940_000


def order(order_id: str = "o-1") -> str:
    return json.dumps({"type": "order.created", "id": order_id, "source": "shop", "data": {"n": 1}})


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Sets the service's wall clock to ``ms`` after :data:`MINUTE` (30 s in at first)."""

    def at(ms: int) -> None:
        monkeypatch.setattr(telemetry, "_wall_ms", lambda: MINUTE + ms)

    at(30_000)
    return at


@pytest.fixture
def lambda_env(
    monkeypatch: pytest.MonkeyPatch, clock: Callable[[int], None]
) -> Iterator[EventStore]:
    """The service as in Lambda: metrics on, flushed every 60 s, the last flush just now."""
    monkeypatch.setattr(telemetry, "_METRICS_DISABLED", False)
    monkeypatch.setattr(telemetry, "_FLUSH_SECONDS", telemetry.LAMBDA_FLUSH_SECONDS)
    held = telemetry._HeldMetrics()
    held.flushed_at = time.monotonic()
    monkeypatch.setattr(telemetry, "_held", held)
    monkeypatch.setenv("EVENTS_TABLE", "log-events")
    with mocked_table("log-events") as store:
        yield store


@pytest.fixture
def at_debug() -> Iterator[None]:
    """The service logging at DEBUG (``logs.level = "DEBUG"``, or a sampled request)."""
    previous = telemetry.logger.log_level
    telemetry.logger.setLevel("DEBUG")
    yield
    telemetry.logger.setLevel(previous)


def written(call: Callable[[], Any]) -> tuple[Any, list[str]]:
    """What ``call`` returns, and the lines it writes to the function's log."""
    out = io.StringIO()
    with redirect_stdout(out):
        result = call()
    return result, [line for line in out.getvalue().splitlines() if line]


def lines_of(body: str, *, request_id: str = "Ab1CdEfGhIjKlM=") -> tuple[dict[str, Any], list[str]]:
    """The answer to one request and the lines the function writes for it (a typical API Gateway
    request id and SDK user agent)."""
    event = api_event(body, request_id=request_id)
    event["requestContext"]["http"]["userAgent"] = "python-requests/2.31.0"
    answer, lines = written(lambda: lambda_handler(event, None))
    return answer, lines


def event_id(answer: dict[str, Any]) -> str:
    found: str = json.loads(answer["body"])["event_id"]
    return found


def held_metrics(record: dict[str, Any]) -> dict[str, Any]:
    """The values of a held-metrics line, after checking it is one (namespace, dimension)."""
    (directive,) = record["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Ingest"
    assert directive["Dimensions"] == [["service"]]
    assert record["service"] == "ingest"
    assert record["level"] == "INFO"  # passes Lambda's filter at INFO
    assert "message" not in record
    return {m["Name"]: record[m["Name"]] for m in directive["Metrics"]}


def test_a_stored_event_writes_no_line_at_info(lambda_env: EventStore) -> None:
    answer, lines = lines_of(order())
    assert answer["statusCode"] == 202
    assert lines == []
    # the trail of every success: the item names its request (and the access log says it again)
    stored = lambda_env.get(event_id(answer)[14:])
    assert stored is not None
    assert stored["request_id"] == "Ab1CdEfGhIjKlM="


def test_at_debug_a_success_is_one_line_with_the_trail(
    lambda_env: EventStore, at_debug: None
) -> None:
    answer, lines = lines_of(order())
    assert answer["statusCode"] == 202
    (line,) = lines
    record: dict[str, Any] = json.loads(line)
    assert record["level"] == "DEBUG"  # Lambda passes it when the service may log at DEBUG
    assert record["message"] == "event stored"
    assert record["correlation_id"] == "Ab1CdEfGhIjKlM="
    assert record["event_id"] == event_id(answer)
    assert record["timestamp"].endswith("Z")  # RFC 3339: Lambda's JSON log format reads it
    assert (record["source"], record["type"]) == ("shop", "order.created")
    assert "_aws" not in record  # the metrics are held
    # The cost model's bytes per logged success are this line and CloudWatch's metadata.
    measured = len(line.encode()) + CLOUDWATCH_EVENT_BYTES
    assert measured <= cost.DEFAULT_LOG_BYTES_PER_REQUEST < measured + 8


def test_successes_of_one_minute_are_one_metric_line_when_flushed(lambda_env: EventStore) -> None:
    bodies = [order("o-1"), order("o-2"), order("o-1")]  # the third is a duplicate
    for n, body in enumerate(bodies):
        answer, lines = lines_of(body, request_id=f"req-{n}")
        assert answer["statusCode"] == (200 if n == 2 else 202)
        assert lines == []
    _, lines = written(telemetry.flush_metrics)
    (line,) = lines
    record = json.loads(line)
    assert record["_aws"]["Timestamp"] == MINUTE  # the minute's start
    values = held_metrics(record)
    assert values == {
        "EventsAccepted": 2,
        "EventsDuplicate": 1,
        "PayloadBytes": sum(len(body) for body in bodies),
    }
    assert len(line.encode()) + CLOUDWATCH_EVENT_BYTES <= cost.DEFAULT_METRIC_LINE_BYTES
    assert written(telemetry.flush_metrics)[1] == []  # counted once


def test_a_minute_after_the_last_flush_a_request_writes_one_line_per_minute_held(
    lambda_env: EventStore, clock: Callable[[int], None]
) -> None:
    assert lines_of(order("o-1"), request_id="req-1")[1] == []
    telemetry._held.flushed_at -= telemetry.LAMBDA_FLUSH_SECONDS
    clock(65_000)  # the next minute
    _, lines = lines_of(order("o-2"), request_id="req-2")
    records = [json.loads(line) for line in lines]
    assert [r["_aws"]["Timestamp"] for r in records] == [MINUTE, MINUTE + 60_000]
    assert [held_metrics(r)["EventsAccepted"] for r in records] == [1, 1]
    assert lines_of(order("o-3"), request_id="req-3")[1] == []  # held again until the next


def test_a_failure_writes_the_held_metrics_and_its_own_lines(lambda_env: EventStore) -> None:
    assert lines_of(order())[1] == []
    answer, lines = lines_of('{"type": 1}', request_id="req-bad")
    assert answer["statusCode"] == 422
    held, own, by_reason = (json.loads(line) for line in lines)
    # what was held goes out with the failure's line, the failure's bytes counted with it
    assert held_metrics(held) == {"EventsAccepted": 1, "PayloadBytes": len(order()) + 11}
    assert own["level"] == "INFO"
    assert own["message"] == "request rejected"
    assert own["correlation_id"] == "req-bad"
    assert (own["status"], own["code"]) == (422, "validation_failed")
    assert own["EventsRejected"] == 1  # the total, which alarms watch, written at once
    assert "reason" not in own
    assert "PayloadBytes" not in own
    assert by_reason["reason"] == "validation_failed"
    assert by_reason["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "reason"]]
    assert written(telemetry.flush_metrics)[1] == []


def test_with_no_flush_interval_every_request_writes_its_metrics(
    lambda_env: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "_FLUSH_SECONDS", 0.0)
    for n in range(2):
        _, lines = lines_of(order(f"o-{n}"), request_id=f"req-{n}")
        (line,) = lines
        assert held_metrics(json.loads(line)) == {"EventsAccepted": 1, "PayloadBytes": len(order())}


def test_a_batch_at_debug_is_one_line_naming_every_event(
    lambda_env: EventStore, at_debug: None
) -> None:
    events = [{"type": "t", "id": f"b-{n}"} for n in range(100)]
    answer, lines = lines_of(json.dumps(events))
    assert answer["statusCode"] == 202
    (line,) = lines
    record = json.loads(line)
    assert record["message"] == "batch stored"
    assert len(record["event_ids"]) == 100
    (single,) = lines_of(json.dumps(events[:1]), request_id="req-one")[1]
    per_event = (len(line.encode()) - len(single.encode())) / 99
    assert per_event <= cost.DEFAULT_LOG_BYTES_PER_BATCHED_EVENT
    _, flushed = written(telemetry.flush_metrics)
    assert [held_metrics(json.loads(line))["EventsDuplicate"] for line in flushed] == [1]


def test_the_held_metrics_count_every_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local server serves requests on threads: none of their counts is lost or doubled."""
    monkeypatch.setattr(telemetry, "_METRICS_DISABLED", False)
    monkeypatch.setattr(telemetry, "_FLUSH_SECONDS", telemetry.LAMBDA_FLUSH_SECONDS)
    monkeypatch.setattr(telemetry, "_held", telemetry._HeldMetrics())

    def serve() -> None:
        for _ in range(200):
            figures = telemetry.RequestMetrics(payload_bytes=3)
            figures.count("EventsAccepted")
            telemetry.publish(figures)

    def serve_on_eight_threads() -> None:
        threads = [threading.Thread(target=serve) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        telemetry.flush_metrics()

    _, lines = written(serve_on_eight_threads)
    totals = [held_metrics(json.loads(line)) for line in lines]
    assert sum(t["EventsAccepted"] for t in totals) == 1600
    assert sum(t["PayloadBytes"] for t in totals) == 4800


@pytest.mark.parametrize(
    ("env", "seconds"),
    [
        ({}, 0.0),
        ({"AWS_LAMBDA_FUNCTION_NAME": "ingest"}, 60.0),
        ({"AWS_LAMBDA_FUNCTION_NAME": "ingest", "METRICS_FLUSH_SECONDS": "0"}, 0.0),
        ({"METRICS_FLUSH_SECONDS": "15"}, 15.0),
        ({"AWS_LAMBDA_FUNCTION_NAME": "ingest", "METRICS_FLUSH_SECONDS": "soon"}, 60.0),
        ({"METRICS_FLUSH_SECONDS": "-1"}, 0.0),
    ],
)
def test_the_flush_interval(env: dict[str, str], seconds: float) -> None:
    """60 s in Lambda, every request elsewhere (the local server, the tests), unless set."""
    assert telemetry.flush_seconds(env) == seconds


EXIT_PROBE = """
from ingest.telemetry import RequestMetrics, publish
for n in range(3):
    figures = RequestMetrics()
    figures.count("EventsAccepted")
    publish(figures)
print("served")
"""


def test_what_is_held_at_exit_is_written() -> None:
    """A new process writes its first request's metrics at once, holds the next ones for a
    minute, and writes them when the interpreter exits (the local server stopping)."""
    env = {"AWS_LAMBDA_FUNCTION_NAME": "ingest", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [sys.executable, "-c", EXIT_PROBE], capture_output=True, text=True, check=True, env=env
    )
    first, served, at_exit = result.stdout.splitlines()
    assert served == "served"
    assert [json.loads(line)["EventsAccepted"] for line in (first, at_exit)] == [1, 2]


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
