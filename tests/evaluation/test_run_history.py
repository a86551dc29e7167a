"""Run history a data scientist trusts (issue 19, item 4): metrics at several cut-offs in one
run, a run's own bootstrap intervals, the settings diff, failed runs and names in the history,
the user inspector's stored lists, a metric across runs and the run behind a weight change."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from recsys.errors import EvaluationError
from recsys.evaluation import run_compare, run_settings, run_views, runs
from recsys.evaluation.config import BEST, HYBRID, POPULARITY, SERVED, EvaluationConfig
from recsys.evaluation.report import at_k_table
from recsys.evaluation.runner import run_evaluation
from recsys.evaluation.scoring import top_k
from recsys.store import Store, lab
from recsys.ui.lab_weights import history_table
from tests.evaluation.test_runner import CONFIGS, SMALL, A, F, G, tiny_ratings
from tests.models.conftest import make_titles


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'app.db'}") as s:
        yield s


@pytest.fixture(scope="module")
def tiny_at_k() -> Any:
    return run_evaluation(make_titles(), tiny_ratings(), replace(SMALL, at_ks=(1, 3)), configs=CONFIGS)


def test_top_k_is_a_prefix_of_a_longer_list_with_ties_in_position_order() -> None:
    scores = np.array([1.0, 3.0, 3.0, 2.0, np.nan, 3.0])
    assert top_k(scores, np.array([], dtype=np.int64), 2).tolist() == [1, 2]
    assert top_k(scores, np.array([2]), 3).tolist() == [1, 5, 3]
    assert top_k(scores, np.array([], dtype=np.int64), 1).tolist() == [1]


def test_every_model_at_several_cut_offs_by_hand(tiny_at_k: Any) -> None:
    # popularity (see test_runner): user 10 -> [G, F] (held out E, never in training: no hit),
    # user 11 -> [A, G] (held out G at rank 2); the lists have only 2 finite candidates.
    pop = tiny_at_k.at_k[POPULARITY]
    assert sorted(pop) == [1, 2, 3]  # the extra cut-offs and the run's own K = 2
    assert (pop[1]["hit_rate"], pop[2]["hit_rate"], pop[3]["hit_rate"]) == (0.0, 0.5, 0.5)
    assert pop[2]["recall"] == 0.5 and pop[1]["precision"] == 0.0
    assert tiny_at_k.lists[POPULARITY] == {10: [G, F], 11: [A, G]}
    for model in (POPULARITY, HYBRID, BEST, SERVED):
        assert set(tiny_at_k.at_k[model]) == {1, 2, 3}


def test_the_main_k_figures_do_not_change_with_extra_cut_offs(tiny_at_k: Any) -> None:
    plain = run_evaluation(make_titles(), tiny_ratings(), replace(SMALL, at_ks=()), configs=CONFIGS)
    assert plain.at_k == {}
    assert plain.models.equals(tiny_at_k.models) and plain.sweep.equals(tiny_at_k.sweep)
    # the figure at the run's own K in the cut-off table is the models table's
    table = at_k_table(tiny_at_k.to_dict(), ["ndcg"])
    assert table.columns == ["Model", "NDCG@1", "NDCG@2", "NDCG@3"]
    assert table.filter(pl.col("Model") == POPULARITY)["NDCG@2"][0] == round(tiny_at_k.model_value(POPULARITY), 4)


def test_bad_cut_offs_are_refused() -> None:
    with pytest.raises(EvaluationError, match="at most 5 values between 1 and 100"):
        EvaluationConfig(at_ks=(0, 10))
    assert EvaluationConfig(k=7, at_ks=(20, 5, 5)).cutoffs == (5, 7, 20)
    assert EvaluationConfig.from_dict({"k": 10}).at_ks == ()  # a run stored before the cut-offs


def _info(run_id: int, config: dict[str, Any], **kw: Any) -> lab.StoredRun:
    base: dict[str, Any] = {
        "id": run_id,
        "created_at": datetime(2026, 12, 5, 10, run_id, tzinfo=UTC),
        "created_by": "ada",
        "model_version": "v1",
        "catalogue_build": "b1",
        "dataset": "ml-latest-small.zip",
        "protocol": "temporal",
        "config": config,
        "document": {"config": config, "models": []},
    }
    base.update(kw)
    return lab.StoredRun(**base)


def test_settings_diff_shows_only_what_differs() -> None:
    cfg = EvaluationConfig(weights={"content": 0.5, "als": 0.5}).to_dict()
    a = _info(1, cfg)
    b = _info(2, cfg | {"k": 20, "weights": {**cfg["weights"], "content": 0.7}}, model_version="v2")
    different, same = run_settings.settings_diff(a, b)
    assert different.rows() == [
        ("k", "10", "20"),
        ("weights.content", "0.5", "0.7"),
        ("model version", "v1", "v2"),
    ]
    assert ("protocol", "temporal", "temporal") in same.rows() and same.height + 3 == len(run_settings.run_settings(a))
    cmp = run_compare.compare_runs(a, b)
    assert cmp.settings.equals(different) and cmp.to_dict()["settings"][0] == {
        "Setting": "k",
        "Run 1": "10",
        "Run 2": "20",
    }
    assert "Settings that differ (" in run_views.compare_text(cmp)


def test_two_runs_with_different_settings_never_look_the_same_in_the_runs_table() -> None:
    cfg = EvaluationConfig(weights={"content": 0.5, "als": 0.5}).to_dict()
    a, b, c = _info(1, cfg), _info(2, cfg | {"factors": 48}), _info(3, cfg)
    table = run_views.runs_table([a, b, c])
    settings = table["Settings"].to_list()
    assert settings[0] == settings[2] and settings[0] != settings[1]
    assert "factors=48" in settings[1] and "factors" not in settings[0]
    same = run_compare.compare_runs(a, c)
    assert same.settings.height == 0 and same.notes[0].startswith("The runs have the same settings")
    rest = [col for col in table.columns if col not in ("Run", "When (UTC)", "Settings")]
    assert table.select(rest).row(0) == table.select(rest).row(1)  # only the settings tell a from b


def test_failed_and_cancelled_runs_stay_in_the_history(store: Store) -> None:
    config = EvaluationConfig(k=5)
    run_id = runs.record_failure(
        store, config, "ada", "cancelled", "The evaluation was cancelled; nothing was stored.", name="try"
    )
    table = run_views.runs_table(lab.list_runs(store, statuses=None))
    assert table.select("Run", "Name", "Status", "K", "Best hybrid (test)").rows() == [
        (run_id, "try", "cancelled: The evaluation was cancelled; nothing was stored.", 5, None)
    ]
    assert lab.list_runs(store) == []  # not offered where figures are shown
    with pytest.raises(EvaluationError, match="'failed' or 'cancelled'"):
        runs.record_failure(store, config, "ada", "done", "x")


def test_names_and_notes_are_edited_with_a_clear_error(store: Store) -> None:
    run_id = runs.record_failure(store, EvaluationConfig(), None, "failed", "boom")
    runs.annotate(store, run_id, name="baseline", notes="first try")
    run = runs.get(store, run_id)
    assert (run.name, run.notes) == ("baseline", "first try")
    assert runs.run_meta(run)["name"] == "baseline"
    with pytest.raises(EvaluationError, match="at most 120 characters"):
        runs.annotate(store, run_id, name="x" * 121)
    with pytest.raises(EvaluationError, match="No stored run 999"):
        runs.annotate(store, 999, name="x")


def _per_user(values: dict[str, list[float | None]]) -> bytes:
    frames = [
        pl.DataFrame({"ml_user_id": list(range(len(v))), "ndcg": v, "miscalibration": v}, strict=False).with_columns(
            pl.lit(m).alias("model")
        )
        for m, v in values.items()
    ]
    out = pl.concat(frames).with_columns(pl.col("ndcg", "miscalibration").cast(pl.Float64))
    from io import BytesIO

    buf = BytesIO()
    out.write_parquet(buf)
    return buf.getvalue()


def test_bootstrap_intervals_of_a_runs_own_figures() -> None:
    run = _info(
        1,
        {"k": 10, "metric": "ndcg"},
        per_user=_per_user({POPULARITY: [0.1] * 10, HYBRID: [0.0, 1.0] * 50, BEST: [None, 0.2, 0.2]}),
    )
    table = run_compare.figure_intervals(run, ["ndcg", "miscalibration"])
    assert table.columns == ["Model", "NDCG@10", "NDCG@10 95% CI", "Miscalibration", "Miscalibration 95% CI"]
    rows = {r["Model"]: r for r in table.to_dicts()}
    assert rows[POPULARITY]["NDCG@10"] == 0.1 and rows[POPULARITY]["NDCG@10 95% CI"] == "0.1000 to 0.1000"
    assert rows[BEST]["NDCG@10 95% CI"] == "0.2000 to 0.2000"  # the user without a value is left out
    low, high = (float(x) for x in rows[HYBRID]["NDCG@10 95% CI"].split(" to "))
    assert 0.38 < low < 0.5 < high < 0.62  # mean 0.5, sd 0.5, 100 users: about +-0.1
    assert run_compare.figure_intervals(run, ["ndcg"]).equals(run_compare.figure_intervals(run, ["ndcg"]))  # seeded


def test_user_inspector_from_a_stored_run(store: Store, tiny_at_k: Any) -> None:
    run_id = runs.save(store, tiny_at_k, created_by="ada", model_version="v1", catalogue_build="b1", dataset="ml")
    run = runs.get(store, run_id)
    assert runs.inspector_users(run) == [10, 11]
    view = runs.inspect_user(run, 11)
    assert view.held_out == [G]
    assert view.history.rows() == [("tt0000002", 4.0), ("tt0000003", 4.0), ("tt0000004", 4.0), (F, 4.0)]
    assert view.tops[POPULARITY] == [A, G] and view.hits(POPULARITY) == [2]
    table = view.tops_table({A: "Alpha (1999)"})
    # the table is as deep as the longest list (other models found 3 candidates)
    assert table.select("Rank", POPULARITY).rows() == [("1", "Alpha (1999)"), ("2", f"HIT: {G}"), ("3", "")]
    with pytest.raises(EvaluationError, match="User 3 was not tested in run"):
        runs.inspect_user(run, 3)
    old = lab.StoredRun(**{**run.__dict__, "lists": b""})
    with pytest.raises(EvaluationError, match="stored no per-user lists"):
        runs.inspect_user(old, 11)


def test_metric_across_runs_and_the_run_behind_a_weight_change(store: Store) -> None:
    cfg = {"k": 10, "metric": "ndcg"}
    a = _info(1, cfg, document={"config": cfg, "models": [{"model": BEST, "ndcg": 0.12}]})
    b = _info(2, cfg | {"k": 20}, document={"config": cfg | {"k": 20}, "models": [{"model": BEST, "ndcg": 0.15}]})
    failed = _info(3, cfg, status="failed", reason="boom")
    history = run_views.metric_history([b, failed, a], "ndcg", [BEST])
    assert history.select("run", "model", "value", "k").rows() == [(1, BEST, 0.12, 10), (2, BEST, 0.15, 20)]
    chart = json.loads(run_views.metric_chart(history).to_json())
    assert chart["mark"]["type"] == "line" and chart["encoding"]["x"]["field"] == "run"
    lab.change_live_weights(store, {"content": 1.0}, "ann", defaults={"content": 0.5}, run_id=7)
    table = history_table(lab.weight_history(store))  # the lab's "Live-weight changes"
    assert table["Run"].to_list() == [7]
