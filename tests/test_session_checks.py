"""Every fragment and every click callback passes the session check (issue 21, N2 guard).

A click inside ``st.fragment`` reruns only the fragment and ``on_click`` / ``on_change``
callbacks run before any page code, so the session check in :func:`recsys.ui.auth.gate` never
sees them. :func:`recsys.ui.auth.fragment` and :func:`recsys.ui.auth.checked` put the check where
every run passes. This static check (like ``tests/test_imports.py``) fails when a page or a
``recsys/ui`` module uses a bare ``st.fragment``, or passes a callback that is not wrapped:

- ``on_click=auth.checked(rate)`` or ``on_click=checked(rate)``: wrapped at the call site;
- ``on_click=save`` / ``on_click=jobs.request``: the function (in this file, or in the
  ``recsys.ui`` module the name was imported as) is decorated ``@auth.checked`` / ``@checked``;
- ``on_change="rerun"`` / ``on_click="ignore"``: Streamlit's built-in behaviours, no code runs.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_imports import REPO, module_name

CALLBACK_ARGS = ("on_click", "on_change", "on_submit", "on_select")
#: Functions that take a raw click callback and pass it through ``auth.checked`` themselves (the
#: card element wraps ``on_click`` before any trigger or fallback button reaches it:
#: recsys/ui/card_element.py, tested by tests/app/test_card_element.py and the revocation test).
SELF_CHECKING: frozenset[tuple[str, str]] = frozenset(
    {
        ("recsys.ui.card_element", "cards"),
        ("recsys.ui.card_element", "picks"),
        ("recsys.ui.card_element", "_fallback"),
    }
)


def _callee(func: ast.expr, module: str, aliases: dict[str, str]) -> tuple[str, str]:
    """``(module, name)`` of a called function: ``card_element.cards`` or ``_fallback``."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return aliases.get(func.value.id, func.value.id), func.attr
    if isinstance(func, ast.Name):
        home, _, attr = aliases.get(func.id, "").rpartition(".")
        return (home, attr) if home else (module, func.id)
    return "", ""


def _checked_locals(tree: ast.Module) -> set[str]:
    """Names assigned from ``auth.checked(...)`` (``press = auth.checked(on_click)``)."""
    return {
        t.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _is_checked(node.value.func)
        for t in node.targets
        if isinstance(t, ast.Name)
    }


def _sources() -> dict[str, Path]:
    found = {module_name(p): p for p in (REPO / "recsys" / "ui").glob("*.py")}
    found.update({module_name(p): p for p in (REPO / "pages").glob("*.py")})
    found["app"] = REPO / "app.py"
    return found


def _is_checked(node: ast.expr) -> bool:
    """``checked`` / ``auth.checked`` (the decorator or the wrapper call's function)."""
    return (isinstance(node, ast.Name) and node.id == "checked") or (
        isinstance(node, ast.Attribute) and node.attr == "checked"
    )


def _checked_functions(tree: ast.Module) -> set[str]:
    return {
        f.name
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef) and any(_is_checked(d) for d in f.decorator_list)
    }


def _module_aliases(tree: ast.Module) -> dict[str, str]:
    """Local name -> module for ``from recsys.ui import jobs`` / ``import recsys.ui.jobs as jobs``."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name] = a.name
    return aliases


def _defined_checked(value: ast.expr, module: str, aliases: dict[str, str], checked: dict[str, set[str]]) -> bool:
    """``value`` names a function decorated with ``checked``: ``save`` defined in ``module``,
    ``save`` imported from a checked module, or ``jobs.request`` with ``jobs`` such a module."""
    if isinstance(value, ast.Name):
        home, _, attr = aliases.get(value.id, "").rpartition(".")
        return value.id in checked[module] or attr in checked.get(home, set())
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
        return value.attr in checked.get(aliases.get(value.value.id, ""), set())
    return False


def unchecked(sources: dict[str, Path]) -> list[str]:
    """``path:line: what`` for every bare fragment and unwrapped callback."""
    trees = {name: ast.parse(path.read_text(), str(path)) for name, path in sources.items()}
    checked = {name: _checked_functions(tree) for name, tree in trees.items()}
    problems: list[tuple[str, int, str]] = []
    for name, tree in trees.items():
        path = sources[name]
        where = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
        aliases = _module_aliases(tree)
        wrapped_locals = _checked_locals(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "fragment"
                and isinstance(node.value, ast.Name)
                and node.value.id == "st"
                and name != "recsys.ui.auth"  # the wrapper itself
            ):
                problems.append((where, node.lineno, "bare st.fragment (use auth.fragment)"))
            if not isinstance(node, ast.Call) or _callee(node.func, name, aliases) in SELF_CHECKING:
                continue
            for kw in node.keywords:
                if kw.arg not in CALLBACK_ARGS:
                    continue
                value = kw.value
                if isinstance(value, ast.Constant) and isinstance(value.value, str | type(None)):
                    continue  # "rerun", "ignore", None
                if isinstance(value, ast.Call) and _is_checked(value.func):
                    continue
                if _defined_checked(value, name, aliases, checked):
                    continue
                if isinstance(value, ast.Name) and value.id in wrapped_locals:
                    continue
                problems.append((where, node.lineno, f"{kw.arg}={ast.unparse(value)} is not wrapped by auth.checked"))
    return [f"{where}:{line}: {what}" for where, line, what in sorted(problems)]


def test_every_fragment_and_callback_passes_the_session_check() -> None:
    assert unchecked(_sources()) == []


def test_the_guard_finds_a_bare_fragment_and_an_unwrapped_callback(tmp_path: Path) -> None:
    sample = tmp_path / "probe.py"
    sample.write_text(
        "import streamlit as st\n"
        "from recsys.ui import auth, jobs\n"
        "@auth.checked\n"
        "def ok() -> None: ...\n"
        "def bad() -> None: ...\n"
        "@st.fragment\n"
        "def part() -> None:\n"
        "    st.button('a', on_click=ok)\n"
        "    st.button('b', on_click=bad)\n"
        "    st.button('c', on_click=auth.checked(bad))\n"
        "    st.button('d', on_click=jobs.nothing_checked)\n"
        "    st.tabs(['x'], on_change='rerun')\n"
    )
    found = unchecked({"pages.probe": sample})
    assert [p.split(": ", 1)[1] for p in found] == [
        "bare st.fragment (use auth.fragment)",
        "on_click=bad is not wrapped by auth.checked",
        "on_click=jobs.nothing_checked is not wrapped by auth.checked",
    ]
