"""What each recorded request is: its caller's access key, the API operation and its parameters.

moto's recorder (MOTO_ENABLE_RECORDING) writes one JSON line per request it serves: method, URL,
headers and body. The operation is read the way the service itself reads it, from botocore's model
of the service the request was signed for: the ``X-Amz-Target`` header (JSON protocol),
``Action=`` (query protocol), ``/service/.../operation/OP`` (RPC v2 CBOR) or the method and path
against each operation's URI template (REST protocols: S3, Lambda, API Gateway v2, Pipes, ...).
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

# The signing name of a request -> the botocore service whose model reads it.
SERVICES = {"monitoring": "cloudwatch", "apigateway": "apigatewayv2"}


@dataclass
class Request:
    """One recorded request, read: who signed it, for which service and operation, with what."""

    key: str  # access key id ("" for an unsigned request)
    service: str  # botocore's service name
    signing_name: str
    operation: str
    method: str
    path: str  # the URL path, percent-decoded
    params: dict[str, Any] = field(default_factory=dict)  # path labels, query and body, merged
    secure: bool = True

    @property
    def summary(self) -> str:
        return f"{self.service}.{self.operation}"


_SPACE = re.compile(r"\s*")
_CREDENTIAL = re.compile(r"Credential=([^/,\s]*)/[^/]*/([^/]*)/([^/]*)/aws4_request")


def read_recording(path: Path) -> Iterator[Request]:
    """Every signed request of a recording (moto's own API calls are skipped), in order.

    moto's server answers requests on several threads, and its recorder writes an entry and its
    newline in two writes: two entries can share a line. They are read one JSON value at a time.
    """
    text = path.read_text()
    decoder = json.JSONDecoder()
    position = 0
    while True:
        position = _SPACE.match(text, position).end()  # type: ignore[union-attr]
        if position >= len(text):
            return
        entry, position = decoder.raw_decode(text, position)
        request = parse_entry(entry)
        if request is not None:
            yield request


def _body(entry: Mapping[str, Any]) -> bytes:
    raw = entry.get("body") or ""
    return base64.b64decode(raw) if entry.get("body_encoded") else str(raw).encode()


def _headers(entry: Mapping[str, Any]) -> dict[str, str]:
    return {k.lower(): str(v) for k, v in (entry.get("headers") or {}).items()}


def parse_entry(entry: Mapping[str, Any]) -> Request | None:
    """One recorder entry as a Request; None for an unsigned one (the emulator's health checks)."""
    headers = _headers(entry)
    found = _CREDENTIAL.search(headers.get("authorization", ""))
    url = urlsplit(str(entry["url"]))
    if found is None:
        return None
    key, _, signing_name = found.groups()
    body = _body(entry)
    method = str(entry["method"]).upper()
    path = unquote(url.path)
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    service = SERVICES.get(signing_name, signing_name)
    if service == "apigatewayv2" and not url.path.startswith("/v2/"):
        service = "apigateway"
    operation, params = _operation(
        service, method=method, raw_path=url.path, query=query, headers=headers, body=body
    )
    return Request(
        key, service, signing_name, operation, method, path, params, url.scheme == "https"
    )


@functools.cache
def _model(service: str) -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model(service)


def _operation(
    service: str,
    *,
    method: str,
    raw_path: str,
    query: dict[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> tuple[str, dict[str, Any]]:
    target = headers.get("x-amz-target")
    if target:  # JSON protocol
        return target.rpartition(".")[2], _json(body)
    rpc = re.fullmatch(r"/service/[^/]+/operation/([A-Za-z0-9]+)", raw_path)
    if rpc:  # RPC v2 CBOR
        return rpc.group(1), _cbor(body)
    content_type = headers.get("content-type", "")
    if method == "POST" and raw_path == "/" and "x-www-form-urlencoded" in content_type:
        form = dict(parse_qsl(body.decode(), keep_blank_values=True))
        return form.pop("Action", "?"), form
    if "Action" in query:
        return query.pop("Action"), query
    operation, labels = match_rest(service, method, raw_path, query, headers)
    params: dict[str, Any] = {**query, **labels}
    if service != "s3" and body.lstrip().startswith(
        b"{"
    ):  # S3's bodies are objects, not parameters
        params.update(_json(body))
    return operation, params


def _json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    loaded = json.loads(body)
    return loaded if isinstance(loaded, dict) else {}


def _cbor(body: bytes) -> dict[str, Any]:
    import cbor2  # type: ignore[import-not-found,unused-ignore]

    loaded = cbor2.loads(body) if body else {}
    return loaded if isinstance(loaded, dict) else {}


@dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    pattern: re.Pattern[str]
    labels: tuple[str, ...]
    required_query: tuple[str, ...]
    literal: int  # characters of the template outside labels: the more, the more specific


@functools.cache
def _routes(service: str) -> tuple[_Route, ...]:
    model = _model(service)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        template = str(http.get("requestUri", "/"))
        path, _, fixed_query = template.partition("?")
        labels = tuple(re.findall(r"\{([^}]+?)\+?\}", path))
        regex = ""
        for part in re.split(r"(\{[^}]+\})", path):
            if part.startswith("{"):
                regex += "(.+)" if part.endswith("+}") else "([^/]+)"
            else:
                regex += re.escape(part)
        required = tuple(k.partition("=")[0] for k in fixed_query.split("&") if k)
        shape = model.operation_model(name).input_shape
        for member in shape.required_members if shape is not None else ():
            where = shape.members[member].serialization
            if where.get("location") in ("querystring", "header"):
                required += (where["location"][0] + ":" + where.get("name", member).lower(),)
        literal = len(re.sub(r"\{[^}]+\}", "", path)) + 10 * len(required)
        routes.append(
            _Route(name, str(http["method"]), re.compile(regex + "/?"), labels, required, literal)
        )
    return tuple(routes)


def match_rest(
    service: str,
    method: str,
    raw_path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, str]]:
    """The REST operation a method and path call, and its path labels (percent-decoded)."""
    headers = headers or {}
    best: tuple[int, str, dict[str, str]] | None = None
    for route in _routes(service):
        if route.method != method or not all(
            k.removeprefix("q:").removeprefix("h:") in (headers if k.startswith("h:") else query)
            for k in route.required_query
        ):
            continue
        found = route.pattern.fullmatch(raw_path)
        if found is None:
            continue
        labels = {k: unquote(v) for k, v in zip(route.labels, found.groups(), strict=True)}
        if best is None or route.literal > best[0]:
            best = (route.literal, route.operation, labels)
    if best is None:
        return f"?{method} {raw_path}", {}
    return best[1], best[2]
