"""Reading imports from Python source with ast: what a module imports when it runs."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, *, runtime_only: bool) -> Iterator[ast.AST]:
    for child in ast.iter_child_nodes(node):
        if runtime_only and isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from (n for stmt in child.orelse for n in [stmt, *_walk(stmt, runtime_only=True)])
            continue
        yield child
        yield from _walk(child, runtime_only=runtime_only)


def imported_names(source: str, module: str, *, runtime_only: bool = True) -> set[str]:
    """Every dotted name ``module``'s source imports, anywhere in it (functions included).

    ``from a import b`` gives ``a`` and ``a.b`` (``b`` may be a module or a name in ``a``);
    relative imports are resolved against ``module``. With ``runtime_only``, imports under
    ``if TYPE_CHECKING:`` (for the type checker, never run) are left out.
    """
    is_package = module.endswith(".__init__")
    module = module.removesuffix(".__init__")
    names: set[str] = set()
    for node in _walk(ast.parse(source), runtime_only=runtime_only):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                anchor = parts if is_package else parts[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def modules_of(root: Path) -> dict[str, Path]:
    """The dotted name of every module of the package directory ``root``."""
    found: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def import_graph(root: Path) -> dict[str, set[str]]:
    """Which modules of package ``root`` each of its modules imports when it runs.

    Importing ``a.b.c`` also runs the packages ``a`` and ``a.b``; a module's own parent packages
    are already running when it does, so they are not edges.
    """
    modules = modules_of(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        own = f"{name}.__init__" if path.name == "__init__.py" else name
        targets: set[str] = set()
        for imported in imported_names(path.read_text("utf-8"), own):
            parts = imported.split(".")
            for end in range(1, len(parts) + 1):
                candidate = ".".join(parts[:end])
                if candidate in modules and not name.startswith(f"{candidate}."):
                    targets.add(candidate)
        targets.discard(name)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found
