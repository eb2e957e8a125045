"""The OpenAPI 3.1 document of the HTTP API, generated from the code it describes.

The paths and methods come from the route table (:mod:`ingest.routes`, which the resolver also
registers from), the request schema from :class:`ingest.models.Event`, the response schemas from
the bodies the routes write (:mod:`ingest.responses`), the scheme names from the scheme registry
and the limits from :mod:`ingest.limits`. What each operation answers is described here.

``python -m ingest_tools.openapi --write docs/openapi.json`` regenerates the committed document;
``--check docs/openapi.json`` fails when the committed one no longer matches the code; without an
option the document is printed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ingest import __version__, responses
from ingest import routes as route_table
from ingest.domain.intake import CE_BATCH, CE_SINGLE, JSON
from ingest.domain.webhooks.config import SOURCE_NAME_PATTERN
from ingest.domain.webhooks.schemes import REGISTRY
from ingest.limits import (
    MAX_BATCH_EVENTS,
    MAX_BODY_BYTES,
    MAX_EVENT_BYTES,
    MAX_INLINE_WEBHOOK_BYTES,
    MAX_WEBHOOK_BYTES,
)
from ingest.models import RFC3339, Event
from ingest.responses import (
    Accepted,
    BatchAccepted,
    Duplicate,
    ErrorResponse,
    Handshake,
    Health,
)
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

#: The request body and every response body, as components.
_SCHEMAS: tuple[type, ...] = (Event, *responses.RESPONSES)


def _ref(model: type | str) -> dict[str, str]:
    return {"$ref": REF.format(model=model if isinstance(model, str) else model.__name__)}


def _schemas() -> dict[str, Any]:
    mode: JsonSchemaMode = "validation"
    adapters: list[tuple[type, JsonSchemaMode, TypeAdapter[Any]]] = [
        (model, mode, TypeAdapter(model)) for model in _SCHEMAS
    ]
    _, top = TypeAdapter.json_schemas(adapters, ref_template=REF)
    schemas: dict[str, Any] = top["$defs"]
    time = schemas["Event"]["properties"]["time"]
    time["anyOf"][0]["pattern"] = RFC3339.pattern
    time["description"] = "RFC 3339 date and time, e.g. 2026-01-31T12:00:00Z."
    schemas["Event"]["properties"]["data"]["description"] = (
        "Any JSON value; numbers are kept exactly as sent."
    )
    schemas["EventBatch"] = {
        "title": "EventBatch",
        "description": "A batch, validated whole: if any event breaks the rules, none is stored.",
        "type": "array",
        "items": _ref(Event),
        "minItems": 1,
        "maxItems": MAX_BATCH_EVENTS,
    }
    return schemas


# --------------------------------------------------------------------------------------------
# Responses


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {JSON: {"schema": schema}}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description, "content": _json(_ref(ErrorResponse))}
    if headers:
        response["headers"] = headers
    return response


RETRY_AFTER = {
    "description": "Whole seconds to wait before retrying.",
    "required": True,
    "schema": {"type": "integer", "minimum": 0},
}


def _responses() -> dict[str, Any]:
    return {
        "BadRequest": _error(
            "Not JSON, not an object or array, an empty body or batch, bad encoding, a repeated "
            "member name (`duplicate_member`), a number no decimal can hold (`invalid_number`), "
            "or a bad Idempotency-Key (`invalid_idempotency_key`)."
        ),
        "Unauthorized": _error(
            "The signature (or the credentials of a `basic` or `token` source) is missing, "
            "invalid or stale; nothing was stored. A `basic` source answers with a "
            "`WWW-Authenticate` challenge."
        ),
        "Forbidden": _error(
            "A CloudEvents webhook validation request from an origin the source does not allow "
            "(`origin_not_allowed`)."
        ),
        "NotFound": _error("No such route, or no webhook source of that name is configured."),
        "MethodNotAllowed": _error(
            "The path exists but does not accept this method; `Allow` names the one it does.",
            {
                "Allow": {
                    "description": "The method the path accepts.",
                    "required": True,
                    "schema": {"type": "string"},
                }
            },
        ),
        "PayloadTooLarge": _error("Over a size limit (see the operation's description)."),
        "UnsupportedMediaType": _error("A content type or charset that is not accepted."),
        "ValidationFailed": _error(
            "An event breaks the rules; `details` name the `index` (batch) and `field`. "
            "`reserved_source`: the source is configured for `/webhooks/{source}`. "
            "`idempotency_key_reused`: the Idempotency-Key was first sent with other content."
        ),
        "InternalError": _error(
            "The deployment itself is broken (table or secret missing, access denied): "
            "retrying will not help, and the operators are alerted. The message is fixed."
        ),
        "ServiceUnavailable": _error(
            "Storage (or the webhook configuration) cannot take the request right now; retry "
            "after `Retry-After` seconds with the same `id` or delivery.",
            {"Retry-After": RETRY_AFTER},
        ),
    }


def _use(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


# --------------------------------------------------------------------------------------------
# Operations, one per route the resolver registers


def _header(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": schema,
    }


_SHORT = {"type": "string", "minLength": 1, "maxLength": 256}


def _post_events(path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    single_or_batch = {"oneOf": [_ref(Event), _ref("EventBatch")]}
    return {
        "operationId": "postEvents",
        "summary": "Store one event or a batch",
        "description": (
            "The body is one event (a JSON object) or a batch (a JSON array of at most "
            f"{MAX_BATCH_EVENTS} events). A request without Content-Type is read as JSON; a "
            "charset other than UTF-8 gets 415.\n\n"
            "JSON is I-JSON (RFC 7493): a member name repeated in one object is a 400.\n\n"
            "CloudEvents: the content type decides the mode. `application/cloudevents+json` and "
            "`application/cloudevents-batch+json` are structured, whatever `ce-*` headers also "
            "arrive; otherwise, when the `ce-specversion` header is present, the event's "
            "attributes come from the `ce-*` headers and the body (JSON or `text/*`) is its `data`."
            "\n\nA `source` configured for `/webhooks/{source}` is reserved (422 "
            "`reserved_source`).\n\n"
            "Idempotency: an event with `id` is stored at most once per (`source`, `id`); a "
            "single event may carry `Idempotency-Key` instead (`id` wins). A repeat answers 200 "
            "with the original `event_id` and `received_at`; the same key with other content "
            "answers 422 `idempotency_key_reused` and stores nothing.\n\n"
            f"Limits: the body at most {MAX_BODY_BYTES} bytes, one event at most "
            f"{MAX_EVENT_BYTES} bytes serialized (413)."
        ),
        "parameters": [
            *path_parameters,
            _header(
                "Idempotency-Key",
                "Scopes a single event like its `id` would, bound to the event's content; not "
                "allowed with a batch, and 1-256 characters without control characters (400).",
                _SHORT,
            ),
            _header(
                "ce-specversion",
                "Selects CloudEvents binary mode; only 1.0 is accepted (422).",
                {"type": "string", "enum": ["1.0"]},
            ),
            _header("ce-type", "Binary mode: the event's `type`.", _SHORT),
            _header("ce-source", "Binary mode: the event's `source`.", _SHORT),
            _header("ce-id", "Binary mode: the event's `id`.", _SHORT),
            _header(
                "ce-time",
                "Binary mode: the event's `time` (RFC 3339).",
                {"type": "string", "maxLength": 64, "pattern": RFC3339.pattern},
            ),
            _header(
                "ce-subject",
                "Binary mode: the event's `subject`.",
                {"type": "string", "minLength": 1, "maxLength": 2048},
            ),
            _header(
                "ce-dataschema",
                "Binary mode: the event's `dataschema`.",
                {"type": "string", "minLength": 1, "maxLength": 2048},
            ),
        ],
        "requestBody": {
            "required": True,
            "content": {
                JSON: {"schema": single_or_batch},
                CE_SINGLE: {"schema": _ref(Event)},
                CE_BATCH: {"schema": _ref("EventBatch")},
            },
        },
        "responses": {
            "200": {
                "description": "A single event that was already stored (a repeat).",
                "content": _json(_ref(Duplicate)),
            },
            "202": {
                "description": "Stored durably: one event, or the whole batch in request order.",
                "content": _json({"oneOf": [_ref(Accepted), _ref(BatchAccepted)]}),
            },
            "400": _use("BadRequest"),
            "413": _use("PayloadTooLarge"),
            "415": _use("UnsupportedMediaType"),
            "422": _use("ValidationFailed"),
            "500": _use("InternalError"),
            "503": _use("ServiceUnavailable"),
        },
    }


def _scheme_names() -> str:
    """``a, b or c``: the registered scheme names."""
    *names, last = REGISTRY
    return f"{', '.join(names)} or {last}"


def _post_webhook(path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "operationId": "postWebhook",
        "summary": "Store a third-party webhook delivery",
        "description": (
            "Any content type and any body up to "
            f"{MAX_WEBHOOK_BYTES} bytes, the platform's limit (Lambda's request, base64 counted; "
            f"{MAX_INLINE_WEBHOOK_BYTES} without a payload bucket), else 413; the exact bytes are "
            "stored once the signature of the "
            f"source's scheme ({_scheme_names()}) verifies. The provider's delivery id is the idempotency key: a redelivery "
            "answers 200 with `duplicate`. A delivery without one may carry an `Idempotency-Key` "
            "header (1-256 characters without control characters, else 400), bound to the body: "
            "the same key with another body answers 422 `idempotency_key_reused`. "
            "The record keeps the request headers, without credentials. Provider handshakes are "
            "answered with 200 and nothing is stored (Twitch's challenge as `text/plain`). "
            "Schemes that sign the request URL (twilio, square, hubspot) check it against the "
            "source's `url` and the query string received. See docs/webhooks.md for each "
            "scheme's headers."
        ),
        "parameters": path_parameters,
        "requestBody": {
            "required": False,
            "content": {"*/*": {"schema": {}}},
        },
        "responses": {
            "200": {
                "description": "A redelivery of a stored delivery, or a provider handshake.",
                "content": {
                    **_json({"anyOf": [_ref(Duplicate), _ref(Handshake)]}),
                    "text/plain": {
                        "schema": {
                            "type": "string",
                            "description": "Twitch's challenge, echoed.",
                        }
                    },
                },
            },
            "202": {"description": "Verified and stored.", "content": _json(_ref(Accepted))},
            "400": _use("BadRequest"),
            "401": _use("Unauthorized"),
            "404": _use("NotFound"),
            "413": _use("PayloadTooLarge"),
            "422": _use("ValidationFailed"),
            "500": _use("InternalError"),
            "503": _use("ServiceUnavailable"),
        },
    }


def _options_webhook(path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    allowed = {
        "description": "The origin granted: the request's `WebHook-Request-Origin`.",
        "required": True,
        "schema": {"type": "string"},
    }
    return {
        "operationId": "validateWebhook",
        "summary": "CloudEvents webhook validation (abuse protection)",
        "description": (
            "The handshake of the CloudEvents HTTP webhook specification: a sender asks, with "
            "`WebHook-Request-Origin`, whether it may deliver to this source. Granted when the "
            "source's `allowed_origins` name the origin (or `*`); nothing is stored. An `OPTIONS` "
            "request without `WebHook-Request-Origin` answers 405 like any other method."
        ),
        "parameters": [
            *path_parameters,
            {
                "name": "WebHook-Request-Origin",
                "in": "header",
                # Not required: without it the request is a plain OPTIONS, answered 405 (above).
                "required": False,
                "description": (
                    "The sender's origin (a host name). Without it the request is a plain "
                    "`OPTIONS`: 405 with `Allow`."
                ),
                "schema": {"type": "string"},
            },
        ],
        "responses": {
            "200": {
                "description": "Granted.",
                "headers": {
                    "WebHook-Allowed-Origin": allowed,
                    "WebHook-Allowed-Rate": {
                        "description": "Requests per minute the source allows, or `*`.",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                },
                "content": _json({"type": "object", "maxProperties": 0}),
            },
            "403": _use("Forbidden"),
            "404": _use("NotFound"),
            "405": _use("MethodNotAllowed"),
            "500": _use("InternalError"),
            "503": _use("ServiceUnavailable"),
        },
    }


def _get_health(path_parameters: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "operationId": "getHealth",
        "summary": "Liveness",
        "parameters": path_parameters,
        "responses": {"200": {"description": "Up.", "content": _json(_ref(Health))}},
    }


_PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "source": {
        "description": "A configured webhook source (404 otherwise).",
        "schema": {"type": "string", "pattern": SOURCE_NAME_PATTERN},
    },
}


def _operation(route: route_table.Route) -> tuple[str, str]:
    """(method, OpenAPI path) of a route: its path template is already OpenAPI's syntax."""
    return route.method.lower(), route.template


#: What each route answers. A route without an entry, or an entry without a route, fails
#: :func:`build_document`: the document cannot fall behind the route table.
OPERATIONS: dict[tuple[str, str], Callable[[list[dict[str, Any]]], dict[str, Any]]] = {
    _operation(route_table.EVENTS): _post_events,
    _operation(route_table.WEBHOOKS): _post_webhook,
    _operation(route_table.WEBHOOK_VALIDATION): _options_webhook,
    _operation(route_table.HEALTH): _get_health,
}


def routes() -> list[tuple[str, str]]:
    """(method, OpenAPI path) of every route in the route table, sorted."""
    return sorted(_operation(route) for route in route_table.ROUTES)


def _path_parameters(path: str) -> list[dict[str, Any]]:
    parameters = []
    for name in re.findall(r"{([^}]+)}", path):
        if name not in _PATH_PARAMETERS:
            raise LookupError(f"path parameter {name!r} of {path} is not described")
        parameters.append({"name": name, "in": "path", "required": True, **_PATH_PARAMETERS[name]})
    return parameters


def _paths(found: Sequence[tuple[str, str]]) -> dict[str, Any]:
    missing = sorted(set(found) - set(OPERATIONS))
    stale = sorted(set(OPERATIONS) - set(found))
    if missing or stale:
        raise LookupError(
            f"routes without a description: {missing}; descriptions without a route: {stale}"
        )
    paths: dict[str, Any] = {}
    for method, path in found:
        if method not in HTTP_METHODS:
            raise LookupError(f"{method.upper()} {path} is not an OpenAPI operation")
        paths.setdefault(path, {})[method] = OPERATIONS[(method, path)](_path_parameters(path))
    return paths


def build_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document of the routes in the route table."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "ingest",
            "version": __version__,
            "summary": "HTTP event ingestion: receive, validate, enrich and store events durably.",
            "description": (
                "All answers are JSON. Errors have the shape "
                '`{"error": {"code", "message", "details": [{"index", "field", "message"}]}}`. '
                "An unknown path answers 404 (`NotFound`); a known path with another method "
                "answers 405 with an `Allow` header (`MethodNotAllowed`); in AWS, unknown paths "
                "are answered by API Gateway itself. No client input gets a 5xx: 503 (with "
                "`Retry-After` in whole seconds) means retry, 500 `internal` means the deployment "
                "is broken."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "paths": _paths(routes()),
        "components": {"schemas": _schemas(), "responses": _responses()},
    }


def render(document: dict[str, Any]) -> str:
    """The committed form: sorted keys, two-space indent, a trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest_tools.openapi", description=__doc__)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", type=Path, metavar="PATH", help="write the document to PATH")
    action.add_argument(
        "--check", type=Path, metavar="PATH", help="fail if PATH differs from the document"
    )
    args = parser.parse_args(argv)
    text = render(build_document())
    if args.write is not None:
        args.write.write_text(text, encoding="utf-8")
        return 0
    if args.check is not None:
        try:
            current = args.check.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = None
        if current != text:
            print(
                f"{args.check} is out of date with the code; run "
                f"`python -m ingest_tools.openapi --write {args.check}` (make openapi)",
                file=sys.stderr,
            )
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
