"""The taste metrics of issue 18 through the whole evaluation: every model row and sweep step on
validation and test, the JSON document, the text report, stored runs (old runs without them
still load) and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from recsys.__main__ import main
from recsys.config import Settings
from recsys.evaluation import metrics as M
from recsys.evaluation import report, run_compare, run_views, runner, runs
from recsys.evaluation.results import result_from_document
from recsys.evaluation.runner import EvaluationConfig, run_evaluation
from recsys.store import Store, lab
from tests.evaluation import test_runner as base
from tests.models.conftest import make_titles

TASTE = ("miscalibration", "popularity_lift", "tail_share")
SHOWN = ("coverage", "diversity", *TASTE)  # next to each other in every table


@pytest.fixture(scope="module")
def tiny() -> runner.EvaluationResult:
    return run_evaluation(make_titles(), base.tiny_ratings(), base.SMALL, configs=base.CONFIGS)


def test_taste_figures_by_hand(tiny: runner.EvaluationResult) -> None:
    A, F, G = base.A, base.F, base.G
    assert tiny.tops[runner.POPULARITY] == {10: [G, F], 11: [A, G]}
    row = tiny.models.filter(pl.col("model") == runner.POPULARITY).row(0, named=True)
    # user 10 likes A B C D, all {Crime, Drama}: p = {Crime .5, Drama .5}; top [G {Romance, Drama},
    #   F {Sci-Fi, Action}]: q = a quarter each; q~(Crime) = .01 * .5, q~(Drama) = .99 * .25 + .005
    mc10 = 0.5 * math.log(0.5 / 0.005) + 0.5 * math.log(0.5 / 0.2525)
    # user 11 likes B C D {Crime, Drama} then F {Sci-Fi, Action}: recency weights .95^3, .95^2, .95, 1
    w = [0.95**3, 0.95**2, 0.95, 1.0]
    cd, sa = sum(w[:3]) / 2 / sum(w), 0.5 / sum(w)  # Crime = Drama, Sci-Fi = Action
    q = {"Crime": 0.25, "Drama": 0.5, "Romance": 0.25}  # top [A {Crime, Drama}, G {Romance, Drama}]
    p = {"Crime": cd, "Drama": cd, "Sci-Fi": sa, "Action": sa}
    mc11 = sum(v * math.log(v / (0.99 * q.get(g, 0.0) + 0.01 * v)) for g, v in p.items())
    assert row["miscalibration"] == pytest.approx((mc10 + mc11) / 2)
    assert row["miscalibration"] == pytest.approx((2.644184 + 1.264357) / 2, abs=1e-6)
    # votes (make_titles): A 90k, B 70k, C 30k, D 20k, F 95k, G 50k
    ln = math.log1p
    lift10 = (ln(50_000) + ln(95_000)) / 2 - (ln(90_000) + ln(70_000) + ln(30_000) + ln(20_000)) / 4
    lift11 = (ln(90_000) + ln(50_000)) / 2 - (ln(70_000) + ln(30_000) + ln(20_000) + ln(95_000)) / 4
    assert row["popularity_lift"] == pytest.approx((lift10 + lift11) / 2)
    assert row["popularity_lift"] == pytest.approx(0.426354, abs=1e-6)
    # training ratings per title: A 7, B 6, G 5, F 4, C 3, D 2, H 1 -> head = ceil(0.2 * 7) = 2 titles
    #   {A, B}; user 10's [G, F] is all tail, user 11's [A, G] half
    assert row["tail_share"] == pytest.approx((1.0 + 0.5) / 2)
    per_user = tiny.per_user[runner.POPULARITY].sort("ml_user_id")
    assert per_user["tail_share"].to_list() == [1.0, 0.5]


@pytest.fixture(scope="module")
def with_validation() -> runner.EvaluationResult:
    config = EvaluationConfig(factors=4, iterations=3, k=3, min_positives=4, sweep=(0.0, 1.0, 0.5))
    from tests.models.conftest import make_ratings

    return run_evaluation(make_titles(), make_ratings(), config, configs=base.CONFIGS)


def test_every_row_of_both_stages_carries_the_taste_metrics(with_validation: runner.EvaluationResult) -> None:
    r = with_validation
    assert r.validation is not None and r.validation.counts["users"] > 0
    for frame in (r.models, r.sweep, r.validation.models, r.validation.sweep):
        for name in SHOWN:
            values = frame[name].to_list()
            assert all(v is not None and math.isfinite(v) for v in values), (name, values)
        assert all(v >= 0 for v in frame["miscalibration"].to_list())
        assert all(0 <= v <= 1 for v in frame["tail_share"].to_list())
    # the JSON document (evaluate --json), both stages, models and sweep
    doc = json.loads(json.dumps(r.to_dict()))
    for rows in (doc["models"], doc["sweep"], doc["validation"]["models"], doc["validation"]["sweep"]):
        assert all(set(SHOWN) <= set(row) for row in rows)
    # the tables the page and the CLI show, taste columns right after coverage .. diversity
    labels = [M.metric_label(m, 3) for m in M.list_measures()]
    assert labels[-4:] == ["Diversity (genres)", "Miscalibration", "Popularity lift", "Tail share"]
    for stage in ("test", "validation"):
        table = report.models_table(r, stage)
        assert table.columns[-len(labels) :] == labels
    assert "Tail share" in report.sweep_table(r).columns
    text = runner.render_text(r)
    assert "Miscalibration: KL divergence" in text and "Popularity lift: mean ln(1 + IMDb votes)" in text
    assert "Tail share: share of the top K outside the short head" in text
    # per-user values travel with the per-user vectors (stored runs, segments)
    assert set(TASTE) <= set(r.per_user[runner.HYBRID].columns)


def test_stored_runs_round_trip_and_old_runs_still_load(
    with_validation: runner.EvaluationResult, tmp_path: Path
) -> None:
    r = with_validation
    with Store.open(f"sqlite:///{tmp_path / 'app.db'}") as store:
        new_id = runs.save(store, r, created_by="tester", model_version="v1", catalogue_build="b1", dataset="fixture")
        stored = runs.get(store, new_id)
        shown = result_from_document(stored.document, runs.unpack_per_user(stored.per_user))
        for stage in ("test", "validation"):
            assert report.models_table(shown, stage).equals(report.models_table(r, stage))
        assert set(TASTE) <= set(runs.unpack_per_user(stored.per_user)[runner.HYBRID].columns)
        table = run_views.stored_models_table(stored)
        assert table["Miscalibration"].to_list() == report.models_table(r)["Miscalibration"].to_list()

        # a run stored before the taste metrics: its documents lack the columns
        old = json.loads(json.dumps(r.to_dict()))
        for rows in (old["models"], old["sweep"], old["validation"]["models"], old["validation"]["sweep"]):
            for row in rows:
                for name in TASTE:
                    del row[name]
        old_id = lab.save_run(
            store,
            created_by=None,
            model_version="v0",
            catalogue_build="b0",
            dataset="fixture",
            protocol="temporal",
            config=old["config"],
            document=old,
            per_user=b"",
        )
        before = runs.get(store, old_id)
        loaded = result_from_document(before.document)
        assert "Miscalibration" not in report.models_table(loaded).columns
        assert "Coverage" in report.models_table(loaded, "validation").columns
        assert "Tail share" not in run_views.stored_models_table(before).columns
        assert "Tail share" not in report.sweep_table(loaded).columns
        cmp = run_compare.compare_runs(before, stored)
        tail = cmp.table.filter(pl.col("Metric") == "Tail share")
        assert tail.height == len(runner.model_names())  # shown for the new run, empty for the old
        assert tail[f"Run {old_id}"].null_count() == tail.height and tail["Delta (B - A)"].null_count() == tail.height


def test_cli_json_and_text_carry_the_taste_metrics(app_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    small = ("--min-positives", "2", "-k", "5", "--sweep", "0:1:0.5", "--iterations", "5", "--no-grid")
    capsys.readouterr()
    assert main(["evaluate", *small, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    stages = [data["models"], data["sweep"]]
    assert data["validation"] is not None  # 2 positives: the fixture users leave a validation split
    stages += [data["validation"]["models"], data["validation"]["sweep"]]
    for rows in stages:
        assert all(set(SHOWN) <= set(row) for row in rows)
    assert all(row["miscalibration"] is not None for row in data["models"])
    assert main(["evaluate", *small]) == 0
    text = capsys.readouterr().out
    header = next(line for line in text.splitlines() if line.startswith("Model "))
    assert "Miscalibration" in header and "Popularity lift" in header and "Tail share" in header
    assert "Beyond-accuracy columns" in text
