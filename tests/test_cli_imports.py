"""The CLI starts without the heavy libraries it does not need (issue 24).

``python -m recsys --help`` took about 8x as long as ``import polars, numpy`` because building the
parser imported scikit-learn and SciPy (the scorer registry imported every scorer module),
SQLAlchemy and Alembic (the jobs), DuckDB and requests (the evaluation). Now the registry
resolves a built-in scorer's classes on first use (``recsys.models.registry.Deferred``), the
commands import what they need inside their function, and ``evaluate``'s options (which need the
evaluation package) are only built when ``evaluate`` is the command. ``bench/cli_startup.py``
measures the time; these tests pin which modules are imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from recsys.__main__ import main
from recsys.models import registry
from recsys.models.popularity import PopularityConfig, PopularityScorer

REPO = Path(__file__).resolve().parents[1]
#: Libraries ``--help`` must not import (polars and numpy are the floor: the registry's scorer
#: contract uses them).
HEAVY = (
    "sklearn",
    "implicit",
    "scipy",
    "sqlalchemy",
    "alembic",
    "pandas",
    "duckdb",
    "pyarrow",
    "requests",
    "streamlit",
    "numba",
    "llvmlite",
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CINEBLEND_")}
    return {**env, "PYTHONPATH": str(REPO), **extra}


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "recsys", "--help"],
        cwd=REPO,
        env=_env(CINEBLEND_DATA_DIR=str(tmp_path / "data")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "evaluate" in out.stdout and "stats" in out.stdout
    imported = {line.rsplit("|", 1)[1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert {"polars", "numpy"} <= imported  # the parse worked: the floor is there
    assert sorted(name for name in HEAVY if name in imported) == []
    assert not (tmp_path / "data").exists()  # --help touches no data folder


@pytest.fixture
def toy_scorer() -> Iterator[str]:
    """A scorer registered for the test only (its classes are never built by ``--help``)."""
    registry.register(
        registry.ScorerSpec(
            "recency",
            "Recency (toy)",
            PopularityScorer,
            PopularityScorer.load,
            PopularityConfig,
            0.0,
            help="newer titles first",
        )
    )
    try:
        yield "recency"
    finally:
        registry.unregister("recency")


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_train_and_evaluate_help_list_every_registered_scorer(
    command: str, toy_scorer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the description
    for part in (
        "content (Content (TF-IDF):",
        "als (Collaborative (ALS):",
        "taste (Genre taste: the user's genre lift over the catalogue's base rates)",
        "popularity (Popularity (IMDb):",
        "recency (Recency (toy): newer titles first)",
    ):
        assert part in text


def test_evaluate_still_parses_its_options_in_full(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["-v", "evaluate", "--help"])
    text = capsys.readouterr().out
    assert "--sweep-pair" in text and "--protocol" in text and "--save" in text


_CHEAP = [["weights", "show"], ["users", "list"], ["runs", "list"], ["stats"], ["search", "godfather"]]
_PROBE = """
import json, sys
from recsys.__main__ import main
found = {}
for argv in json.loads(sys.argv[1]):
    code = main(argv)
    found[" ".join(argv)] = [code, sorted(m for m in ("sklearn", "implicit") if m in sys.modules)]
print("PROBE " + json.dumps(found))
"""


@pytest.mark.slow  # starts an interpreter that runs five commands over the fixture catalogue
def test_cheap_commands_import_neither_sklearn_nor_implicit(model_settings: object) -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(_CHEAP)],
        cwd=REPO,
        env=_env(CINEBLEND_DATA_DIR=os.environ["CINEBLEND_DATA_DIR"]),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.rpartition("PROBE ")[2])
    assert found == {" ".join(argv): [0, []] for argv in _CHEAP}
