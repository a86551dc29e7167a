"""The written guides stay true to the tree (issue 24).

- every repository path named in ``docs/architecture.md`` and ``CONTRIBUTING.md`` exists, and
  every bare module file name they list (``feed.py`` in the diagram) is a file of the package;
- the README's layout section names every top-level module and package of ``recsys/``;
- every ``type: ignore`` in the tree (tests included) names its error code and carries its reason after it
  (``# type: ignore[arg-type]  # numpy's stubs ...``); mypy's ``warn_unused_ignores`` removes the
  ones that are no longer needed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GUIDES = ("docs/architecture.md", "CONTRIBUTING.md")
#: A path inside the repository: one of its top-level folders, then path characters.
_PATH = re.compile(r"(?<![\w./-])(?:recsys|pages|bench|tests|docs|scripts|deploy|notebooks|\.ci)/[\w./*-]*")
_TOP_FILES = re.compile(
    r"(?<![\w./-])(?:app\.py|Dockerfile|compose\.yaml|pyproject\.toml|README\.md|CONTRIBUTING\.md"
    r"|requirements(?:-dev)?\.txt|\.pre-commit-config\.yaml)(?![\w-]|\.\w)"
)
_BARE_PY = re.compile(r"(?<![\w./*-])([a-z_]+\.py)\b")
_PLACEHOLDERS = ("NAME", "NNNN", "<")


def named_paths(text: str) -> set[str]:
    found = {m.group(0).rstrip(".") for m in _PATH.finditer(text)} | {m.group(0) for m in _TOP_FILES.finditer(text)}
    return {p for p in found if not any(mark in p for mark in _PLACEHOLDERS)}


def test_the_path_finder_reads_paths_out_of_prose() -> None:
    text = "See `recsys/jobs/runner.py` + `KIND_MODULES`, pages/*.py, recsys/store/migrations/versions/ and app.py."
    assert named_paths(text) == {"recsys/jobs/runner.py", "pages/*.py", "recsys/store/migrations/versions/", "app.py"}
    assert named_paths("`pages/NAME.py` and `recsys/store/migrations/versions/NNNN_what.py`") == set()


@pytest.mark.parametrize("guide", GUIDES)
def test_every_path_a_guide_names_exists(guide: str) -> None:
    text = (REPO / guide).read_text(encoding="utf-8")
    paths = named_paths(text)
    assert len(paths) > 20  # the guide does name paths (the finder works on it)
    assert sorted(p for p in paths if not (any(REPO.glob(p)) if "*" in p else (REPO / p).exists())) == []


@pytest.mark.parametrize("guide", GUIDES)
def test_every_module_file_a_guide_lists_is_in_the_package(guide: str) -> None:
    text = (REPO / guide).read_text(encoding="utf-8")
    known = {p.name for p in (REPO / "recsys").rglob("*.py")} | {p.name for p in REPO.glob("*.py")}
    named = {m.group(1) for m in _BARE_PY.finditer(text)}
    assert sorted(named - known) == []


def _layout_section() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Layout")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def test_readme_layout_names_every_top_level_module_and_package() -> None:
    layout = _layout_section()
    modules = [p.name for p in (REPO / "recsys").glob("*.py") if p.name != "__init__.py"]
    packages = [p.name + "/" for p in (REPO / "recsys").iterdir() if (p / "__init__.py").exists()]
    assert len(modules) >= 10 and len(packages) >= 11  # the base layer; the packages (issue 24)
    missing = [name for name in (*modules, *packages) if not re.search(rf"(?<![\w/]){re.escape(name)}", layout)]
    assert missing == []


_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<code>\[[^\]]*\])?(?P<rest>.*)$")


def unexplained_ignores(line: str) -> bool:
    """True for a ``type: ignore`` without an error code or without a ``# reason`` after it."""
    match = _IGNORE.search(line)
    if match is None:
        return False
    return match.group("code") is None or not re.match(r"\s+#\s*\S", match.group("rest"))


def test_the_ignore_check_tells_reasons_apart() -> None:
    assert unexplained_ignores("x = f()  # type: ignore")
    assert unexplained_ignores("x = f()  # type: ignore[arg-type]")
    assert not unexplained_ignores("x = f()  # type: ignore[arg-type]  # the stubs want one IP version")
    assert not unexplained_ignores("x = f()  # an ordinary comment")


def test_every_type_ignore_gives_its_reason() -> None:
    files = [*(REPO / "recsys").rglob("*.py"), *(REPO / "pages").glob("*.py"), *(REPO / "bench").glob("*.py")]
    files += [path for path in (REPO / "tests").rglob("*.py") if path != Path(__file__).resolve()]
    files.append(REPO / "app.py")
    bad = [
        f"{path.relative_to(REPO)}:{number}"
        for path in files
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if unexplained_ignores(line)
    ]
    assert bad == []
