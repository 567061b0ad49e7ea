"""The package's shape, checked from the source: no import cycles, and each layer imports only from
its own layer or the ones below (the README's "Architecture" section draws the same picture).

The import graph is built with :mod:`ast` from ``src/hookmock``, without importing anything:
imports inside ``if TYPE_CHECKING:`` are left out (they never run); imports inside functions are
kept (they run when the function does, so a cycle through them is still a cycle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Bottom to top.  A module may import from its own layer and the layers below, never from above.
LAYERS: list[tuple[str, set[str]]] = [
    ("foundations", {"hookmock", "_version", "errors", "clock", "ids", "_util"}),
    ("provider facts", {"profiles", "validation", "factories", "strategies", "signing"}),
    ("core and edges", {"delivery", "transport"}),
    ("sender", {"sender"}),
    ("tools", {"receiver", "auditing", "scenarios", "storm", "locust"}),
    ("front ends", {"emulator", "pytest_plugin", "cli", "__main__"}),
]

#: Front ends compose the layers below; only the CLI may start another front end (``hookmock serve``).
FRONT_END_IMPORTS = {"emulator": set(), "pytest_plugin": set(), "cli": {"emulator"}, "__main__": {"cli"}}


def _modules() -> dict[str, tuple[Path, bool]]:
    """Dotted name -> (file, is a package) for every module under src/hookmock."""
    found = {}
    for path in (SRC / "hookmock").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    """Module -> the hookmock modules it imports at run time (relative imports resolved; ``from
    pkg import name`` points at ``pkg.name`` when that is a module, else at ``pkg``)."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = name if is_package else name.rpartition(".")[0]
                    for _ in range(node.level - 1):
                        base = base.rpartition(".")[0]
                    base = f"{base}.{node.module}" if node.module else base
                else:
                    base = node.module or ""
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                ]
            for target in targets:
                while target not in modules and "." in target:
                    target = target.rpartition(".")[0]
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
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


def _part(module: str) -> str:
    """The top-level part of hookmock a module belongs to (``hookmock`` itself for the package)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "hookmock"


def _layer(part: str) -> int:
    for number, (_, parts) in enumerate(LAYERS):
        if part in parts:
            return number
    raise AssertionError(f"{part!r} is in no layer: add it to LAYERS (and to the README's architecture)")


def test_the_graph_sees_lazy_imports_and_skips_type_checking_ones() -> None:
    graph = import_graph()
    assert "hookmock.pytest_plugin.fixtures" in graph["hookmock.pytest_plugin"]  # imported in fixtures
    assert "hookmock.transport.http" in graph["hookmock.transport.routes"]  # imported in a method
    assert "hookmock.pytest_plugin.support" not in graph["hookmock.pytest_plugin"]  # TYPE_CHECKING only
    assert "hookmock.signing" in graph["hookmock.pytest_plugin.support"]  # from .. import signing


def test_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_every_part_of_the_package_has_a_layer() -> None:
    for module in _modules():
        _layer(_part(module))


def test_layers_import_only_downwards() -> None:
    upward = []
    for module, targets in import_graph().items():
        for target in targets:
            if _layer(_part(target)) > _layer(_part(module)):
                upward.append(f"{module} -> {target}")
    assert upward == []


@pytest.mark.parametrize("part", ["profiles", "delivery", "transport"])
def test_the_core_imports_no_tool_or_front_end(part: str) -> None:
    """Provider facts, the delivery machine and log, and the transports know nothing of the
    emulator, the audit, the CLI, scenarios or the pytest plugin."""
    forbidden = {"emulator", "auditing", "cli", "scenarios", "pytest_plugin"}
    bad = [
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        if _part(module) == part
        for target in targets
        if _part(target) in forbidden
    ]
    assert bad == []


def test_front_ends_do_not_import_each_other() -> None:
    bad = [
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        if _part(module) in FRONT_END_IMPORTS
        for target in targets
        if _part(target) in FRONT_END_IMPORTS
        and _part(target) != _part(module)
        and _part(target) not in FRONT_END_IMPORTS[_part(module)]
    ]
    assert bad == []
