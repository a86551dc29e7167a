"""No import cycle in the package, not even one for typing or inside a function (issue 20).

Streamlit imports the app's modules on several threads at once right after a start. Python's
per-module import locks make that safe only when the import graph has no cycle: with one, two
threads can each hold a module the other needs, and one of them gets ``_DeadlockError`` or a
partially initialised module ("cannot import name 'Recommender' from partially initialized module
'recsys.models.service'"). The graph here has an edge for every import of a ``recsys`` module, at
the top, inside a function or under ``TYPE_CHECKING`` (a typing-only cycle turns into a real one as
soon as someone needs the name at run time), plus the edge the import system adds from a
submodule to its package (importing ``a.b`` locks ``a.b``, then imports ``a``). The one exception is
a package ``__init__`` naming its own submodules under ``TYPE_CHECKING`` next to
:func:`recsys.lazy.lazy_exports`: those imports never run. The live half is
``tests/app/test_cold_start_server.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {module_name(p): p for p in (REPO / "recsys").rglob("*.py")}
    found.update({module_name(p): p for p in (REPO / "pages").glob("*.py")})
    found["app"] = REPO / "app.py"
    return found


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, str]]:
    """``[(imported module, where)]`` for every import in the file; where is "top", "function"
    or "typing"."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    found: list[tuple[str, str]] = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = where
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = "function"
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                inner = "typing"
            if isinstance(child, ast.Import):
                found.extend((t, where) for a in child.names if (t := _resolve(a.name, known)))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in child.names:
                    target = _resolve(f"{base}.{alias.name}", known) if f"{base}.{alias.name}" in known else None
                    target = target or _resolve(base, known)
                    if target:
                        found.append((target, where))
            visit(child, inner)

    visit(ast.parse(path.read_text()), "top")
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {m: set() for m in known}
    for name, path in known.items():
        for target, where in imports(name, path, known):
            own_submodule = target.startswith(name + ".")
            if target == name or (path.name == "__init__.py" and own_submodule and where == "typing"):
                continue
            graph[name].add(target)
        parent = name.rpartition(".")[0]
        if parent in known:
            graph[name].add(parent)  # importing a submodule imports its package first
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def test_the_checker_finds_a_typing_only_cycle() -> None:
    graph = {"a": {"b"}, "b": {"a"}, "c": {"a"}}
    assert cycles(graph) == [["a", "b"]]


def test_the_checker_sees_imports_inside_functions_and_for_typing() -> None:
    known = modules()
    found = imports("x", REPO / "tests" / "fixtures" / "import_cycle_sample.py", known)
    assert sorted(found) == [
        ("recsys.models.service", "typing"),
        ("recsys.store.repository", "function"),
        ("recsys.ui.cards", "top"),
    ]


def test_no_import_cycle_in_the_app() -> None:
    assert cycles(import_graph()) == []


def test_pages_import_everything_at_the_top() -> None:
    late = [
        f"{path.name}: {target}"
        for path in sorted((REPO / "pages").glob("*.py"))
        for target, where in imports(module_name(path), path, modules())
        if where != "top"
    ]
    assert late == []
