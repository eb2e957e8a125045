"""The runtime package's layers, read from its source: no import cycle, no layer importing a layer
above it, and nothing of the tools (see docs/decisions/0023-runtime-and-tools.md).

Entry point (``ingest.handler``) -> route modules (``ingest.api``) -> runtime wiring
(``ingest.runtime``) -> domain logic (``ingest.domain``) -> data access (``ingest.adapters``) ->
foundation (models, errors, limits, the route table, telemetry...). Imports under
``if TYPE_CHECKING:`` never run and do not count.
"""

from __future__ import annotations

import pytest

from tests.imports import cycles, import_graph, imported_names, modules_of
from tests.support import ROOT

RUNTIME = ROOT / "services" / "ingest" / "src" / "ingest"
TOOLS = ROOT / "services" / "ingest-tools" / "src" / "ingest_tools"

#: Lowest first. A module may import modules of its own layer and of the layers below it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundation",
        (
            "ingest",
            "ingest.config",
            "ingest.errors",
            "ingest.ids",
            "ingest.jsonexact",
            "ingest.lazy_imports",
            "ingest.limits",
            "ingest.models",
            "ingest.responses",
            "ingest.routes",
            "ingest.telemetry",
        ),
    ),
    ("data access", ("ingest.adapters",)),
    ("domain", ("ingest.domain",)),
    ("runtime", ("ingest.runtime",)),
    ("routes", ("ingest.api",)),
    ("entry point", ("ingest.handler",)),
]
#: Never imported by the runtime, not even lazily: they are not in the Lambda package.
TOOL_MODULES = ("ingest_tools", "moto", "yaml")


def layer_of(module: str) -> int:
    """The index in :data:`LAYERS` of the layer ``module`` belongs to (its longest prefix)."""
    best: tuple[int, int] | None = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(f"{prefix}.")) and (
                best is None or len(prefix) > best[1]
            ):
                best = (rank, len(prefix))
    if best is None or (best[1] == len("ingest") and module != "ingest"):
        raise LookupError(f"{module} belongs to no layer: add it to LAYERS")
    return best[0]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(RUNTIME)


def test_every_runtime_module_has_a_layer(graph: dict[str, set[str]]) -> None:
    for module in graph:
        layer_of(module)


def test_the_runtime_has_no_import_cycle(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_no_layer_imports_a_layer_above_it(graph: dict[str, set[str]]) -> None:
    upward = [
        f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if layer_of(target) > layer_of(module)
    ]
    assert upward == []


def test_route_modules_never_import_the_entry_point_or_each_other(
    graph: dict[str, set[str]],
) -> None:
    shared = {"ingest.api", "ingest.api.http"}
    for module, targets in graph.items():
        if module.startswith("ingest.api.") and module not in shared:
            assert {t for t in targets if t.startswith("ingest.api")} <= shared, module


def test_the_runtime_never_imports_the_tools() -> None:
    """Not at module level, not in a function, not for the type checker either."""
    found = {
        f"{module} imports {name}"
        for module, path in modules_of(RUNTIME).items()
        for name in imported_names(path.read_text("utf-8"), module, runtime_only=False)
        if name.split(".")[0] in TOOL_MODULES
    }
    assert found == set()


def test_the_checks_would_notice() -> None:
    """The graph sees lazy imports and relative ones, and finds a cycle."""
    source = "from . import b\ndef f():\n    import ingest_tools.cli\n"
    assert imported_names(source, "pkg.a") >= {"pkg", "pkg.b", "ingest_tools.cli"}
    guarded = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import yaml\n"
    assert "yaml" not in imported_names(guarded, "pkg.a")
    assert "yaml" in imported_names(guarded, "pkg.a", runtime_only=False)
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_tools_are_a_package_of_their_own() -> None:
    assert (TOOLS / "__init__.py").exists()
    assert not (RUNTIME / "cli").exists()
    assert not (RUNTIME / "local").exists()
    assert not (RUNTIME / "cost.py").exists()
    assert not (RUNTIME / "openapi.py").exists()
