"""Fuzz the real `ingest serve` from the committed OpenAPI document (schemathesis, bounded).

Every operation of docs/openapi.json, with valid and invalid data (examples, coverage and fuzzing
phases): no answer may be a server error, and every answer must be one the document declares,
with the status code, headers and body schema it declares. The coverage phase also sends the
methods a path does not accept, which must answer 405 with an `Allow` header.

Bounded for `make test`: a fixed number of examples per operation, derandomized so a run is
reproducible; raise FUZZ_MAX_EXAMPLES (and unset FUZZ_DETERMINISTIC) for a longer local hunt.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis.strategies as st
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.support import ROOT, Server, start_server, stop_server, write_sources

pytestmark = pytest.mark.slow

DOCUMENT = ROOT / "docs" / "openapi.json"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "75"))
DETERMINISTIC = os.environ.get("FUZZ_DETERMINISTIC", "1") != "0"

# Sources the fuzzed server knows, so webhook cases reach verification and storage and not only
# the 404 of an unknown source: an open source (stores anything, dedups on a header) and signed
# ones (whose signatures random data never forges: 401).
SOURCES: dict[str, Any] = {
    "sources": {
        "open": {"scheme": "none", "type_header": "x-event-type", "id_header": "x-delivery-id"},
        "github": {"scheme": "github", "secrets": ["fuzz-secret"]},
        "slack": {"scheme": "slack", "secrets": ["fuzz-secret"]},
        "stripe": {"scheme": "stripe", "secrets": ["fuzz-secret"]},
    }
}

# Methods schemathesis sends that only the 405 test below exercises.
UNDISPATCHED_METHODS = frozenset({"TRACE", "QUERY", "CONNECT"})

# (operation, method, status) of every fuzzed answer, to show the fuzzing reached storage.
SEEN: Counter[tuple[str, str, int]] = Counter()

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    unsupported_method,
    missing_required_header,
]

config = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": DETERMINISTIC,
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)
schema = schemathesis.openapi.from_path(DOCUMENT, config=config)


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Aim half of the webhook cases at a configured source, keeping the generated ones too."""
    if not path_parameters or "source" not in path_parameters:
        return st.just(path_parameters)
    configured = st.sampled_from(sorted(SOURCES["sources"])).map(
        lambda name: {**path_parameters, "source": name}
    )
    return st.one_of(st.just(path_parameters), configured)


@schema.hook
def flatmap_headers(
    context: schemathesis.HookContext, headers: dict[str, Any] | None
) -> st.SearchStrategy[dict[str, Any] | None]:
    """Give some webhook cases a delivery id from a small pool, so redeliveries (200) happen."""
    if context.operation is None or context.operation.path != "/webhooks/{source}":
        return st.just(headers)
    with_id = st.sampled_from(["d-1", "d-2", "d-3"]).map(
        lambda delivery: {**(headers or {}), "x-delivery-id": delivery, "x-event-type": "fuzz"}
    )
    return st.one_of(st.just(headers), with_id)


@pytest.fixture(scope="module")
def fuzzed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    sources = write_sources(tmp_path_factory.mktemp("fuzz"), SOURCES["sources"])
    srv, process = start_server("--sources", str(sources), table="fuzz")
    yield srv
    log = stop_server(process)
    assert "Traceback" not in log, log


@schema.parametrize()
def test_every_answer_matches_the_document(
    case: schemathesis.Case[Any], fuzzed_server: Server
) -> None:
    if case.method.upper() in UNDISPATCHED_METHODS:
        return  # covered by test_undispatched_methods_answer_405 below
    response = case.call_and_validate(base_url=fuzzed_server.url, checks=CHECKS, timeout=30)
    SEEN[(case.operation.label, case.method, response.status_code)] += 1


def test_undispatched_methods_answer_405(fuzzed_server: Server) -> None:
    for method in sorted(UNDISPATCHED_METHODS):
        for path in ("/events", "/health", "/webhooks/open"):
            reply = fuzzed_server.request(method, path)
            assert reply.status == 405, (method, path, reply.status)
            assert reply.headers["allow"]


def test_the_fuzzing_reached_storage() -> None:
    """Not only rejections: events and webhook deliveries were stored, and 405s were answered."""
    fuzzed = {label for label, _, _ in SEEN}
    if fuzzed != {"POST /events", "POST /webhooks/{source}", "GET /health"}:
        pytest.skip("the fuzzing above did not run for every operation in this session")
    statuses: dict[tuple[str, str], set[int]] = {
        (label, method): set() for label, method, _ in SEEN
    }
    for (label, method, status), _count in SEEN.items():
        statuses[(label, method)].add(status)
    assert 202 in statuses[("POST /events", "POST")], SEEN
    assert {200, 202, 401, 404} <= statuses[("POST /webhooks/{source}", "POST")], SEEN
    assert {400, 422} <= statuses[("POST /events", "POST")], SEEN
    assert statuses[("GET /health", "DELETE")] == {405}, SEEN
