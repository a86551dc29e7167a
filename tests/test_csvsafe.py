"""CSV exports a spreadsheet cannot run (issue 21, low): the history download and the lab's
models tables neutralise =, +, -, @, tab and carriage return at the start of a cell and after
every ``;`` (what a spreadsheet with ``;`` as its list separator splits a cell at)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import polars as pl

from recsys.app import history
from recsys.evaluation import run_views
from recsys.store.lab import RunInfo

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TITLES = ["Jaws;=HYPERLINK(0)", "x; +1", "a;-2", "b;@SUM(A1)", "c;\tcmd", "d;\rcmd", "=1", "Plain - title; ok"]


def _parts_a_spreadsheet_runs(cell: str) -> list[str]:
    """The parts of ``cell`` split at ; (and ,) that start with a trigger once spaces are skipped."""
    parts = cell.replace(",", ";").split(";")
    return [p for p in parts if p.lstrip(" ")[:1] in TRIGGERS]


def test_history_export_leaves_no_part_a_spreadsheet_would_run() -> None:
    frame = pl.DataFrame(
        {
            "tconst": [f"tt000000{i}" for i in range(len(TITLES))],
            "primary_title": TITLES,
            "kind": ["movie"] * len(TITLES),
            "start_year": [2000] * len(TITLES),
            "value": [1] * len(TITLES),
            "updated_at": [datetime(2024, 1, 1, tzinfo=UTC)] * len(TITLES),
        }
    )
    text = history.to_csv(frame).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["primary_title"] for r in rows] == [
        "Jaws;'=HYPERLINK(0)",
        "x; '+1",
        "a;'-2",
        "b;'@SUM(A1)",
        "c;'\tcmd",
        "d;'\rcmd",
        "'=1",
        "Plain - title; ok",
    ]
    assert all(not _parts_a_spreadsheet_runs(r["primary_title"]) for r in rows)
    # every text cell quoted: a reader splitting at ; keeps a quoted cell whole
    assert text.splitlines()[1].startswith('"tt0000000","Jaws;\'=HYPERLINK(0)","movie",2000,1,')


def test_lab_models_csv_neutralises_the_same_way() -> None:
    run = RunInfo(
        id=1,
        created_at=datetime(2024, 1, 1, tzinfo=UTC),
        created_by="ada",
        model_version="v1",
        catalogue_build="b1",
        dataset="ml",
        protocol="temporal",
        config={},
        document={"models": [{"model": "x;=cmd()", "ndcg": 0.5}, {"model": "@y", "ndcg": 0.25}]},
    )
    rows = list(csv.DictReader(io.StringIO(run_views.models_csv(run), newline="")))
    assert [(r["model"], r["ndcg"]) for r in rows] == [("x;'=cmd()", "0.5"), ("'@y", "0.25")]
