"""The route table (ingest.routes) is the only list of routes: the resolver registers it, the
local gateway gives its route keys, the OpenAPI document describes it, and the HTTP API in
modules/http-api declares exactly its route keys (read here, never edited)."""

from __future__ import annotations

import re

from ingest.handler import build_resolver
from ingest.routes import ROUTES, route_key_for
from ingest_tools import openapi
from ingest_tools.local.gateway import to_event

from tests.support import ROOT

HTTP_API = ROOT / "modules" / "http-api" / "main.tf"
ROUTE_RESOURCE = re.compile(r'^resource "aws_apigatewayv2_route" "\w+" \{\n(.*?)^\}', re.M | re.S)


def _attribute(body: str, name: str) -> str | None:
    found = re.search(rf"^\s*{name}\s*=\s*(.+?)\s*$", body, re.M)
    return found.group(1) if found else None


def terraform_route_keys() -> set[str]:
    """The route keys of the aws_apigatewayv2_route resources modules/http-api declares: a
    literal ``route_key``, or ``each.value`` over a map in ``locals``."""
    text = "\n".join(line.split("#", 1)[0] for line in HTTP_API.read_text("utf-8").splitlines())
    keys: set[str] = set()
    for resource in ROUTE_RESOURCE.finditer(text):
        body = resource.group(1)
        route_key = _attribute(body, "route_key")
        for_each = _attribute(body, "for_each") or ""
        if route_key is not None and route_key.startswith('"'):
            keys.add(route_key.strip('"'))
        elif route_key == "each.value" and for_each.startswith("local."):
            name = for_each.removeprefix("local.")
            mapping = re.search(rf"^\s*{name}\s*=\s*\{{$(.*?)^\s*\}}", text, re.M | re.S)
            assert mapping is not None, f"local.{name} is not a map in {HTTP_API}"
            keys.update(re.findall(r'=\s*"([^"]*)"', mapping.group(1)))
        else:
            raise AssertionError(f"cannot read route_key = {route_key} (for_each = {for_each})")
    assert keys, f"no routes found in {HTTP_API}"
    return keys


def test_the_http_api_declares_exactly_the_route_table() -> None:
    """The contract (v2): one route per path, no $default route to the function."""
    assert terraform_route_keys() == {route.route_key for route in ROUTES}


def test_the_resolver_registers_exactly_the_route_table() -> None:
    app = build_resolver()
    registered = {
        (route.method, route.openapi_path) for route in [*app._static_routes, *app._dynamic_routes]
    }
    assert registered == {(route.method, route.template) for route in ROUTES}


def test_the_local_gateway_gives_the_route_tables_keys() -> None:
    for route in ROUTES:
        path = route.template.replace("{source}", "github")
        event = to_event(route.method, path, {}, b"", "127.0.0.1")
        assert event["routeKey"] == route.route_key == route_key_for(path)
    assert to_event("GET", "/nowhere", {}, b"", "127.0.0.1")["routeKey"] == "$default"


def test_the_openapi_document_describes_the_route_table() -> None:
    described = {
        (method.upper(), path)
        for path, item in openapi.build_document()["paths"].items()
        for method in item
    }
    assert described == {(route.method, route.template) for route in ROUTES}
