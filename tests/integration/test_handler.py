"""The Lambda handler in-process: metrics (EMF), structured logs, lazy imports."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from ingest.adapters.dynamodb import EventStore, StorageUnavailable
from ingest.handler import lambda_handler
from ingest.routes import route_key_for

from tests.support import fresh_python, mocked_table


def api_event(
    body: str,
    *,
    path: str = "/events",
    method: str = "POST",
    request_id: str = "req-1",
    route_key: str | None = None,
) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": route_key or route_key_for(path),
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": method, "path": path, "sourceIp": "203.0.113.9", "userAgent": "t"},
            "requestId": request_id,
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[EventStore]:
    monkeypatch.setenv("EVENTS_TABLE", "handler-events")
    monkeypatch.setenv("RETENTION_DAYS", "3")
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    with mocked_table("handler-events") as store:
        yield store


def emitted(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def metric_values(lines: list[dict[str, Any]], name: str) -> list[tuple[Any, dict[str, Any]]]:
    found = []
    for line in lines:
        aws = line.get("_aws")
        if aws and any(m["Name"] == name for d in aws["CloudWatchMetrics"] for m in d["Metrics"]):
            value = line[name]
            found.append((sum(value) if isinstance(value, list) else value, line))
    return found


def test_accepted_event_emits_metrics_and_no_line_at_info(
    lambda_env: EventStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outside Lambda the held success metrics are written with each request (the local server,
    the tests); the success's own line is at DEBUG (tests/integration/test_request_log.py)."""
    import io

    from ingest.telemetry import logger

    log = io.StringIO()
    previous = logger.registered_handler.setStream(log)  # type: ignore[attr-defined]
    try:
        answer = lambda_handler(api_event('{"type":"t","id":"m1"}', request_id="req-42"), None)
    finally:
        logger.registered_handler.setStream(previous)  # type: ignore[attr-defined]
    assert answer["statusCode"] == 202
    lines = emitted(capsys.readouterr().out) + emitted(log.getvalue())
    accepted = metric_values(lines, "EventsAccepted")
    assert [value for value, _ in accepted] == [1.0]
    blob = accepted[0][1]
    assert blob["service"] == "ingest"
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Ingest"
    assert metric_values(lines, "PayloadBytes")[0][0] == len('{"type":"t","id":"m1"}')
    assert [line for line in lines if "message" in line] == []
    stored = lambda_env.get(json.loads(answer["body"])["event_id"][14:])
    assert stored is not None
    assert stored["request_id"] == "req-42"
    assert stored["source_ip"] == "203.0.113.9"


def test_rejections_are_counted_by_reason(
    lambda_env: EventStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert lambda_handler(api_event('{"type": 1}'), None)["statusCode"] == 422
    assert lambda_handler(api_event("{oops"), None)["statusCode"] == 400
    lines = emitted(capsys.readouterr().out)
    rejected = metric_values(lines, "EventsRejected")
    reasons = sorted(blob["reason"] for _, blob in rejected if "reason" in blob)
    assert reasons == ["invalid_json", "validation_failed"]
    totals = [value for value, blob in rejected if "reason" not in blob]
    assert totals == [1.0, 1.0]  # the reason-free total that alarms watch


def test_storage_outage_is_503_and_counted(
    lambda_env: EventStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_: Any, **__: Any) -> Any:
        raise StorageUnavailable("ServiceUnavailable: injected")

    monkeypatch.setattr(EventStore, "put_if_absent", down)
    answer = lambda_handler(api_event('{"type":"t"}'), None)
    assert answer["statusCode"] == 503
    assert answer["headers"]["Retry-After"] == "1"
    assert json.loads(answer["body"])["error"]["code"] == "storage_unavailable"
    lines = emitted(capsys.readouterr().out)
    assert [v for v, _ in metric_values(lines, "StorageUnavailable")] == [1.0]


def test_base64_bodies_are_decoded(lambda_env: EventStore) -> None:
    import base64

    event = api_event(base64.b64encode(b'{"type":"b64"}').decode())
    event["isBase64Encoded"] = True
    assert lambda_handler(event, None)["statusCode"] == 202


def test_the_hot_path_imports_nothing_it_does_not_need() -> None:
    """Importing the handler and answering POST /events (a 422 here: no storage is needed to
    validate) loads no webhook code, no YAML, no X-Ray SDK, no thread pool, no asyncio, no
    cryptography, nothing of the tools, and not the response shapes, which only the type checker
    and the OpenAPI generator read (docs/decisions/0011-cold-start-budget.md)."""
    probe = (
        "import json, sys, ingest.handler\n"
        "event = {'version': '2.0', 'routeKey': 'ANY /events', 'rawPath': '/events',"
        " 'headers': {'content-type': 'application/json'}, 'body': json.dumps({'type': 1}),"
        " 'requestContext': {'http': {'method': 'POST', 'path': '/events'}, 'requestId': 'r',"
        " 'stage': '$default'}}\n"
        "assert ingest.handler.lambda_handler(event, None)['statusCode'] == 422\n"
        "heavy = ['boto3', 'aws_xray_sdk', 'yaml', 'ingest.domain.webhooks',"
        " 'ingest.adapters.secrets', 'concurrent.futures.thread', 'asyncio', 'cryptography',"
        " 'ingest_tools', 'moto', 'ingest.responses', 'aws_lambda_powertools.event_handler.appsync',"
        " 'ingest.adapters.payloads']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = fresh_python(probe, {"EVENTS_TABLE": "x", "POWERTOOLS_METRICS_DISABLED": "true"})
    assert out.strip().splitlines()[-1] == "[]"


def test_storing_an_event_with_a_payload_bucket_builds_no_s3_client() -> None:
    """With ``PAYLOAD_BUCKET`` set, storing an ordinary event (the table's write stubbed) loads
    neither the claim check's module nor S3's service model: only a payload over the item budget
    pays for them (docs/decisions/0034)."""
    probe = (
        "import json, sys, ingest.handler\n"
        "from ingest import runtime\n"
        "store = runtime.current().store\n"
        "store.client.put_item = lambda **_: {}\n"
        "event = {'version': '2.0', 'routeKey': 'ANY /events', 'rawPath': '/events',"
        " 'headers': {'content-type': 'application/json'},"
        " 'body': json.dumps({'type': 't', 'data': {'pad': 'x' * 4000}}),"
        " 'requestContext': {'http': {'method': 'POST', 'path': '/events'}, 'requestId': 'r',"
        " 'stage': '$default'}}\n"
        "assert ingest.handler.lambda_handler(event, None)['statusCode'] == 202\n"
        "assert store.payload_bucket == 'payload-bucket'\n"
        "loaded = [m for m in sys.modules if m == 'ingest.adapters.payloads' or 's3' in m.split('.')]\n"
        "print(loaded, store._objects)\n"
    )
    env = {
        "EVENTS_TABLE": "events",
        "PAYLOAD_BUCKET": "payload-bucket",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    out = fresh_python(probe, env)
    assert out.strip().splitlines()[-1] == "[] None"


def _webhook_imports(source: dict[str, Any], headers: str, body: str) -> list[str]:
    """Which of the asymmetric-signature packages a fresh interpreter has loaded after answering
    one (unsigned, so 401) delivery to ``source``."""
    probe = (
        "import json, sys, ingest.handler\n"
        "event = {'version': '2.0', 'routeKey': 'ANY /webhooks/{source}',"
        " 'rawPath': '/webhooks/s', 'headers': " + headers + ", 'body': " + repr(body) + ","
        " 'requestContext': {'http': {'method': 'POST', 'path': '/webhooks/s'},"
        " 'requestId': 'r', 'stage': '$default'}}\n"
        "assert ingest.handler.lambda_handler(event, None)['statusCode'] == 401\n"
        "print([m for m in ('cryptography', 'cffi') if m in sys.modules])\n"
    )
    sources = json.dumps({"sources": {"s": source}})
    env = {
        "EVENTS_TABLE": "events",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "SOURCES": sources,
    }
    out = fresh_python(probe, env)
    found: list[str] = json.loads(out.strip().splitlines()[-1].replace("'", '"'))
    return found


def test_only_the_asymmetric_schemes_import_cryptography() -> None:
    """An HMAC scheme's delivery does not pay for cryptography (0011); Discord's loads it."""
    hmac_source = {"scheme": "github", "secrets": ["s3cret"]}
    assert _webhook_imports(hmac_source, "{'x-hub-signature-256': 'sha256=00'}", "{}") == []
    discord = {"scheme": "discord", "secrets": ["ab" * 32]}
    headers = "{'x-signature-ed25519': '00' * 64, 'x-signature-timestamp': '1'}"
    assert "cryptography" in _webhook_imports(discord, headers, "{}")


def test_deferred_event_handler_package_still_imports_everything() -> None:
    probe = (
        "import sys, ingest.handler\n"
        "from aws_lambda_powertools.event_handler import AppSyncResolver, APIGatewayHttpResolver\n"
        "from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver as A\n"
        "import aws_lambda_powertools.event_handler as package\n"
        "print(A is APIGatewayHttpResolver, 'AppSyncResolver' in package.__all__)\n"
    )
    out = fresh_python(probe, {"EVENTS_TABLE": "x"})
    assert out.strip() == "True True"
