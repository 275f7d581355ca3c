"""The layering of docs/architecture.md, checked on the source (AST): which package may import
which, that nothing but ``cli.py`` sits at the package root, and that no coauthor modules import
each other in a cycle (type-only imports included, ``ui`` included: its controllers know the
workspace, never the main window).

Every import counts: at the top, inside functions (lazy ones) and under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "coauthor"

ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "store": {"core", "store"},
    "ai": {"core", "ai"},
    "screening": {"core", "screening", "ai"},  # ai: the moderation client only, see below
    "publish": {"core", "publish"},
    "importers": {"core", "store", "importers"},
    "app": {"core", "store", "ai", "screening", "publish", "importers", "app"},
    "ui": {"core", "store", "ai", "screening", "publish", "importers", "app", "ui"},
    "cli": {"core", "store", "ai", "screening", "publish", "importers", "app", "cli"},
}
"""The layer table of docs/architecture.md: each layer and the layers it may import. The root
package (``coauthor``, its ``__version__``) may be imported by every layer."""

SCREENING_MAY_USE_FROM_AI = {"coauthor.ai.errors", "coauthor.ai.moderation"}
"""Screening uses the moderation client's errors (and, type-only, the client itself)."""

CLI_STARTS_GUI = ("coauthor.ui.app", "_start_gui")
"""``cli.py`` may import the GUI lazily, inside the function that starts it, and nowhere else."""

ROOT_MODULES = {"__init__.py", "cli.py"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) == 1:
        return None  # the root package
    if parts[1] == "cli":
        return "cli"
    return parts[1]


def _resolve(name: str) -> str:
    """The coauthor module an import names (a name imported from a package may be a module)."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _imports(path: Path) -> Iterator[tuple[str, int, str | None, bool]]:
    """(module imported, line, enclosing function or None, whether under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)

    def visit(node: ast.AST, function: str | None, typing_only: bool) -> Iterator:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(child, function or child.name, typing_only)
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for item in child.body:
                    yield from visit(ast.Module(body=[item], type_ignores=[]), function, True)
                for item in child.orelse:
                    yield from visit(ast.Module(body=[item], type_ignores=[]), function, False)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "coauthor":
                        yield _resolve(alias.name), child.lineno, function, typing_only
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(module.split(".")[: -child.level] + ([base] if base else []))
                if base.split(".")[0] != "coauthor":
                    continue
                for alias in child.names:
                    yield _resolve(f"{base}.{alias.name}"), child.lineno, function, typing_only
            else:
                yield from visit(child, function, typing_only)

    yield from visit(tree, None, False)


def test_every_package_is_in_the_layer_table() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(ALLOWED) - {"cli"}


def test_nothing_but_cli_at_the_package_root() -> None:
    assert {p.name for p in PACKAGE.glob("*.py")} == ROOT_MODULES


def test_layers_import_only_what_the_table_allows() -> None:
    wrong = []
    for module, path in MODULES.items():
        layer = _layer(module)
        if layer is None:
            continue
        for imported, line, function, typing_only in _imports(path):
            target = _layer(imported)
            if target is None or target == layer:
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {imported}"
            if layer == "cli" and (imported, function) == CLI_STARTS_GUI:
                continue
            if target not in ALLOWED[layer]:
                wrong.append(where)
            elif layer == "screening" and target == "ai":
                if imported not in SCREENING_MAY_USE_FROM_AI:
                    wrong.append(where)
                elif imported == "coauthor.ai.moderation" and not typing_only:
                    wrong.append(where + " (only for type checking)")
    assert wrong == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        edges = graph.setdefault(module, set())
        for imported, *_ in _imports(path):
            # A package's __init__ importing its own modules is how packages work, not a cycle.
            if imported != module and not module.startswith(imported + "."):
                edges.add(imported)
    return graph


def test_no_import_cycles() -> None:
    assert _cycles(import_graph()) == []


def test_no_controller_imports_the_main_window() -> None:
    """Only the application (which builds the window) imports ``ui.mainwindow``."""
    importers = {m for m, edges in import_graph().items() if "coauthor.ui.mainwindow" in edges}
    assert importers <= {"coauthor.ui.app"}


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", ["coauthor.cli", "coauthor.app.export"])
def test_the_checker_sees_imports(module: str) -> None:
    """The AST walk finds imports at all (a broken walk would pass every test above)."""
    assert any(True for _ in _imports(MODULES[module]))
