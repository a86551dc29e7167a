"""One truth for the hybrid weights (issue 19, item 1): resolution live > tuned > defaults, the
audited write with its role check, the notebook's documented write, the CLI, and the same top 10
from the feed's path and ``recommend``."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from pathlib import Path

import polars as pl
import pytest

from recsys.columns import LIKE
from recsys.config import Settings
from recsys.models import registry, weights
from recsys.models.config import RecommenderConfig, latest_config
from recsys.models.service import Recommender
from recsys.models.weights import WeightsPermissionError
from recsys.store import Store
from tests.support.cli import cli
from tests.support.narrow import present
from tests.support.weights import full, text

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = registry.default_weights()
TUNED = full(content=0.3, als=0.6, taste=0.0, popularity=0.1)


@pytest.fixture
def store() -> Store:
    s = Store.open("sqlite://")
    s.create_user("root", "Root", "root@example.com", "h")  # the first account: admin
    ann = s.create_user("ann", "Ann", "ann@example.com", "h")
    s.set_role(ann.id, "analyst")
    s.create_user("tess", "Tess", "tess@example.com", "h")  # a tester
    return s


def tuned_config() -> RecommenderConfig:
    base = RecommenderConfig()
    return dataclasses.replace(base, hybrid=dataclasses.replace(base.hybrid, weights=dict(TUNED)), weights_from="tuned")


def test_resolution_is_live_else_tuned_else_defaults(store: Store) -> None:
    assert weights.resolve(store) == weights.Resolved(DEFAULTS, "defaults")
    assert weights.resolve(store, RecommenderConfig()).source == "defaults"
    tuned = weights.resolve(store, tuned_config())
    assert (tuned.weights, tuned.source) == (TUNED, "tuned")
    assert (
        tuned.describe()
        == f"{text(content=0.3, als=0.6, taste=0.0, popularity=0.1)} (tuned: chosen by `tune` for the current model)"
    )

    weights.apply(store, {"content": 1.0}, by="ann", reason="try content only")
    live = weights.resolve(store, tuned_config())
    assert live.weights == full(content=1.0, als=0.0, taste=0.0, popularity=0.0)
    assert live.source == "live" and live.changed_by == "ann"
    assert live.describe().startswith(f"{text(content=1.0, als=0.0, taste=0.0, popularity=0.0)} (live: set by ann on ")

    weights.reset(store, by="root", recommender=tuned_config())
    assert weights.resolve(store, tuned_config()).source == "tuned"
    newest = weights.history(store)[0]
    assert (newest.action, newest.old, newest.new) == ("reset", live.weights, TUNED)  # what feeds use next


def test_a_model_saved_before_weights_from_counts_as_tuned_when_its_weights_differ() -> None:
    saved = RecommenderConfig().to_dict()
    del saved["weights_from"]
    assert RecommenderConfig.from_dict(saved).weights_from == "defaults"
    saved["hybrid"]["weights"] = TUNED
    assert RecommenderConfig.from_dict(saved).weights_from == "tuned"
    assert RecommenderConfig.from_dict(tuned_config().to_dict()).weights_from == "tuned"


def test_only_existing_analysts_and_admins_write_and_every_write_is_logged(store: Store) -> None:
    with pytest.raises(WeightsPermissionError, match="tess is a tester; only analysts and admins"):
        weights.apply(store, {"content": 1.0}, by="tess")
    with pytest.raises(WeightsPermissionError, match="No account named 'ghost'"):
        weights.apply(store, {"content": 1.0}, by="ghost")
    with pytest.raises(WeightsPermissionError):
        weights.reset(store, by="tess")
    assert weights.history(store) == [] and weights.resolve(store).source == "defaults"

    change = weights.apply(store, {"content": 0.6, "als": 0.4}, by="ann", reason="run 7's best step", run_id=7)
    assert weights.history(store) == [change]
    assert (change.changed_by, change.action, change.old, change.reason, change.run_id) == (
        "ann",
        "apply",
        None,
        "run 7's best step",
        7,
    )


def test_the_settings_key_cannot_be_written_around_the_audit(store: Store) -> None:
    with pytest.raises(PermissionError, match=r"recsys\.models\.weights\.apply"):
        store.set_setting(weights.LIVE_WEIGHTS_KEY, {"content": 1.0}, updated_by="notebook")
    assert weights.resolve(store).source == "defaults" and weights.history(store) == []


def test_the_notebooks_documented_write_is_audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the code block the tuning notebook shows under "Applying the weights", as written."""
    notebook = json.loads((REPO / "notebooks" / "tune_hybrid_weights.ipynb").read_text())
    text = next(
        "".join(c["source"]) for c in notebook["cells"] if "".join(c["source"]).startswith("## Applying the weights")
    )
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    monkeypatch.setenv("CINEBLEND_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CINEBLEND_COOKIE_KEY", "test-cookie-key-" + "x" * 40)
    with Store.open(Settings(data_dir=tmp_path).store_url) as store:
        store.create_user("root", "Root", "root@example.com", "h")
        analyst = store.create_user("your-analyst-account", "A", "a@example.com", "h")
        store.set_role(analyst.id, "analyst")

    class Result:  # what the notebook's tuning cell leaves in `result`
        best_weights = full(content=0.4, als=0.4, taste=0.1, popularity=0.1)

    exec(code.group(1), {"result": Result})  # the notebook cell, as documented
    with Store.open(Settings(data_dir=tmp_path).store_url) as store:
        assert weights.current(store) == Result.best_weights
        [change] = weights.history(store)
        assert (change.changed_by, change.reason) == ("your-analyst-account", "notebook: tuned on validation")


def test_weights_command_shows_sets_resets_and_lists_with_role_checks(
    model_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    with Store.open(model_settings.store_url) as store:
        store.create_user("root", "Root", "root@example.com", "h")
        store.create_user("tess", "Tess", "tess@example.com", "h")
    code, out, _ = cli(capsys, "weights", "show")
    assert code == 0 and out.strip().endswith(("(defaults)", "(tuned: chosen by `tune` for the current model)"))
    before = out.strip()

    code, out, err = cli(capsys, "weights", "set", "content=0.7,als=0.3", "--as", "tess")
    assert code == 1 and out == "" and "tess is a tester" in err
    code, out, err = cli(capsys, "weights", "set", "content=0.7,als=0.3", "--as", "root", "--as", "tess")
    assert code == 1 and "--as names one account" in err
    code, out, err = cli(capsys, "weights", "set", "content=0.7,als=0.3", "--as", "root", "--run", "99")
    assert code == 1 and "No stored run 99" in err
    code, out, err = cli(capsys, "weights", "set", "content=0.7,als=0.3", "--as", "root", "--reason", "A/B winner")
    assert code == 0, err
    assert out.startswith(
        f"Live weights now {text(content=0.7, als=0.3, taste=0.0, popularity=0.0)} (change 1, by root)"
    )

    code, out, _ = cli(capsys, "weights", "show", "--json")
    shown = json.loads(out)
    assert (shown["weights"], shown["source"], shown["changed_by"]) == (
        full(content=0.7, als=0.3, taste=0.0, popularity=0.0),
        "live",
        "root",
    )
    code, out, err = cli(capsys, "weights", "reset", "--as", "root", "--reason", "back")
    assert code == 0, err
    assert out.strip().endswith(f"feeds now use {before}.")  # back to what was used before anything was applied
    code, out, _ = cli(capsys, "weights", "history")
    lines = out.strip().splitlines()
    assert len(lines) == 2 and "reset" in lines[0] and lines[0].endswith(": back")
    assert "apply" in lines[1] and lines[1].endswith(
        f"{text(content=0.7, als=0.3, taste=0.0, popularity=0.0)}: A/B winner"
    )


def test_feed_and_recommend_give_the_same_top_10_under_live_weights(
    model_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's target: for 20 random profiles, the feed's ranking (recommend_for_user, which
    resolves the weights itself) and `recommend` without --weights agree, with weights applied live."""
    from recsys.app.feed import recommend_for_user
    from recsys.catalog.queries import Catalog

    rng = random.Random(19)
    with Store.open(model_settings.store_url) as store:
        root = store.create_user("root", "Root", "root@example.com", "h")
        weights.apply(store, {"content": 0.8, "popularity": 0.2}, by="root")
        recommender = Recommender.load_latest(model_settings.models_dir)
        assert latest_config(model_settings.models_dir) is not None
        with Catalog(model_settings.parquet_dir) as catalog:
            movies = catalog.all_titles().filter(pl.col("kind") == "movie")["tconst"].to_list()
            for i in range(20):
                likes = rng.sample(movies, rng.randint(1, 5))
                for tconst in likes:
                    store.rate(root.id, tconst, LIKE)
                feed = recommend_for_user(
                    present(store.get_user("root")), 10, catalog=catalog, store=store, recommender=recommender
                )
                code, out, err = cli(
                    capsys, "recommend", *[a for t in likes for a in ("--like", t)], "-n", "10", "--json"
                )
                assert code == 0, err
                assert f"Weights: {text(content=0.8, als=0.0, taste=0.0, popularity=0.2)} (live: set by root" in err
                cli_lists = json.loads(out)
                for kind, frame in feed.items():
                    assert frame["tconst"].to_list() == [r["tconst"] for r in cli_lists[kind]], (i, kind)
                for tconst in likes:
                    store.unrate(root.id, tconst)
