"""docs/openapi.json: generated from the resolver and the models, valid OpenAPI 3.1, never stale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ingest.handler import build_resolver, lambda_handler
from ingest.models import Event
from ingest.routes import ROUTES
from ingest_tools import openapi
from ingest_tools.local.gateway import LambdaContext, to_event
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from tests.support import ROOT, fresh_python

COMMITTED = ROOT / "docs" / "openapi.json"
METHODS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "QUERY")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi.build_document()


def schema_of(document: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator for one component schema, its references resolved inside the document."""
    root = {**document, "$ref": f"#/components/schemas/{name}"}
    return Draft202012Validator(root)


def resolve(document: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    return lambda_handler(event, LambdaContext(event["requestContext"]["requestId"]))


def test_the_committed_document_is_the_generated_one_byte_for_byte(
    document: dict[str, Any],
) -> None:
    expected = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert COMMITTED.read_text("utf-8") == expected, (
        "docs/openapi.json is stale: run `make openapi` and commit it"
    )


def test_it_is_a_valid_openapi_3_1_document(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1.")
    validate(document)
    validate(json.loads(COMMITTED.read_text("utf-8")))


def test_the_validator_would_notice_a_broken_document(document: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(document))
    del broken["paths"]["/events"]["post"]["responses"]["202"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_paths_and_methods_are_the_resolvers_routes(document: dict[str, Any]) -> None:
    app = build_resolver()
    routes = {
        (route.method.lower(), route.openapi_path)
        for route in [*app._static_routes, *app._dynamic_routes]
    }
    documented = {(method, path) for path, item in document["paths"].items() for method in item}
    assert documented == routes
    assert routes == {
        ("get", "/health"),
        ("post", "/events"),
        ("post", "/webhooks/{source}"),
        ("options", "/webhooks/{source}"),
    }


def test_a_route_without_a_description_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        openapi, "routes", lambda: [*openapi.OPERATIONS, ("delete", "/events/{event_id}")]
    )
    with pytest.raises(LookupError, match="routes without a description"):
        openapi.build_document()
    monkeypatch.setattr(openapi, "routes", lambda: [("get", "/health")])
    with pytest.raises(LookupError, match="descriptions without a route"):
        openapi.build_document()


def test_check_and_write(tmp_path: Path) -> None:
    target = tmp_path / "openapi.json"
    assert openapi.main(["--check", str(target)]) == 1  # missing
    assert openapi.main(["--write", str(target)]) == 0
    assert target.read_bytes() == COMMITTED.read_bytes()
    assert openapi.main(["--check", str(target)]) == 0
    target.write_text(target.read_text("utf-8").replace('"3.1.0"', '"3.0.3"'), "utf-8")
    assert openapi.main(["--check", str(target)]) == 1


def test_the_module_command_checks_the_committed_file() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ingest_tools.openapi", "--check", str(COMMITTED)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_lambda_never_imports_the_document_generator() -> None:
    """The response bodies are TypedDicts, plain dicts at run time: only the tools' generator
    builds schemas from them, off the hot path. Event is the only pydantic model a request meets."""
    code = (
        "import sys, ingest.handler, ingest.api.events, ingest.api.webhooks, ingest.responses\n"
        "assert not [m for m in sys.modules if m.startswith('ingest_tools')]\n"
        "import ingest.models, ingest.responses, pydantic\n"
        "def models(module):\n"
        "    return [n for n, v in vars(module).items() if isinstance(v, type)"
        " and issubclass(v, pydantic.BaseModel) and v is not pydantic.BaseModel]\n"
        "assert models(ingest.models) == ['Event'], models(ingest.models)\n"
        "assert models(ingest.responses) == [], models(ingest.responses)\n"
    )
    fresh_python(code)


def test_the_event_schema_agrees_with_the_model(document: dict[str, Any]) -> None:
    schema = schema_of(document, "Event")
    valid: list[dict[str, Any]] = [
        {"type": "t"},
        {"type": "t", "id": "1", "source": "s", "time": "2026-01-31T12:00:00.5+01:00"},
        {"type": "t", "specversion": "1.0", "data": [1, 2.5, {"a": None}], "ext": 1},
        {"type": "x" * 256, "subject": None, "data": None},
    ]
    invalid: list[Any] = [
        {},
        {"type": ""},
        {"type": 1},
        {"type": "x" * 257},
        {"type": "t", "source": None},
        {"type": "t", "specversion": "0.3"},
        {"type": "t", "time": "yesterday"},
        {"type": "t", "id": 5},
        [],
    ]
    for event in valid:
        Event.model_validate(event)
        assert schema.is_valid(event), event
    for event in invalid:
        assert not schema.is_valid(event), event
    batch = schema_of(document, "EventBatch")
    assert batch.is_valid([{"type": "t"}] * 500)
    assert not batch.is_valid([{"type": "t"}] * 501)
    assert not batch.is_valid([])


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("Accepted", {"event_id": "019a0000-0000-7000-8000-000000000000", "received_at": "2026-01-31T12:00:00.000Z"}),
        ("Duplicate", {"event_id": "019a0000-0000-7abc-bfff-000000000000", "received_at": "2026-01-31T12:00:00.000Z", "duplicate": True}),
        ("BatchAccepted", {"accepted": 1, "duplicates": 1, "events": [{"event_id": "019a0000-0000-7000-8000-000000000000", "duplicate": False}, {"event_id": "019a0000-0000-7000-8000-000000000001", "duplicate": True}]}),
        ("Handshake", {"challenge": "abc"}),
        ("Handshake", {}),
        ("Health", {"status": "ok"}),
        ("ErrorResponse", {"error": {"code": "validation_failed", "message": "m", "details": [{"index": 0, "field": "type", "message": "x"}, {"index": None, "field": None, "message": "y"}]}}),
    ],
)  # fmt: skip
def test_response_schemas_accept_what_the_handler_writes(
    document: dict[str, Any], name: str, body: dict[str, Any]
) -> None:
    assert schema_of(document, name).is_valid(body)


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("Accepted", {"event_id": "not-an-id", "received_at": "2026-01-31T12:00:00.000Z"}),
        ("Accepted", {"event_id": "019a0000-0000-7000-8000-000000000000", "received_at": "2026-01-31T12:00:00.000Z", "duplicate": True}),
        ("Duplicate", {"event_id": "019a0000-0000-7000-8000-000000000000", "received_at": "2026-01-31T12:00:00.000Z", "duplicate": False}),
        ("ErrorResponse", {"error": {"code": "x", "message": "m"}}),
        ("Health", {"status": "degraded"}),
    ],
)  # fmt: skip
def test_response_schemas_are_closed(
    document: dict[str, Any], name: str, body: dict[str, Any]
) -> None:
    assert not schema_of(document, name).is_valid(body)


def test_other_methods_on_known_paths_answer_405_with_the_documented_allow(
    document: dict[str, Any],
) -> None:
    error = schema_of(document, "ErrorResponse")
    for path, item in document["paths"].items():
        concrete = path.replace("{source}", "github")
        # An operation that needs a header (the CloudEvents webhook validation) is, without it,
        # another method like the rest.
        routes = [route for route in ROUTES if route.template == path]
        assert {route.method.lower() for route in routes} == set(item)
        allowed = {route.method for route in routes if route.requires is None}
        for method in METHODS:
            if method in allowed:
                continue
            answer = resolve(document, to_event(method, concrete, {}, b"", "127.0.0.1"))
            assert answer["statusCode"] == 405, (method, path)
            assert set(answer["headers"]["Allow"].split(", ")) == allowed
            assert error.is_valid(json.loads(answer["body"]))


@pytest.mark.parametrize(
    "path", ["/", "/event", "/events/1", "/webhooks", "/webhooks/a/b", "/healthz"]
)
def test_unknown_paths_answer_404(document: dict[str, Any], path: str) -> None:
    assert path not in document["paths"]
    for method in ("GET", "POST"):
        answer = resolve(document, to_event(method, path, {}, b"", "127.0.0.1"))
        assert answer["statusCode"] == 404
        assert schema_of(document, "ErrorResponse").is_valid(json.loads(answer["body"]))


def test_503_documents_retry_after(document: dict[str, Any]) -> None:
    unavailable = document["components"]["responses"]["ServiceUnavailable"]
    assert unavailable["headers"]["Retry-After"]["required"] is True
    for path, method in (("/events", "post"), ("/webhooks/{source}", "post")):
        responses = document["paths"][path][method]["responses"]
        assert responses["503"] == {"$ref": "#/components/responses/ServiceUnavailable"}
