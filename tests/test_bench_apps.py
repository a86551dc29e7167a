"""The click benches' own apps run (``bench/click_latency.py``, also started by
``bench/browser_clicks.py``). The benches run by hand, but their figures rest on these apps: the
work floor's app once read a column the feed's frame no longer had, so each of its runs raised
after the ranking, and the websocket bench, which only times a run, went on printing figures."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from recsys.columns import DISLIKE, LIKE
from recsys.config import Settings
from recsys.store import Store
from tests.support.testers import create_testers

BENCH = Path(__file__).resolve().parents[1] / "bench" / "click_latency.py"


def click_bench() -> ModuleType:
    """The bench module; what it sets for its own runs (``sys.path``, ``OPENBLAS_NUM_THREADS``
    for the servers it starts) is put back, so later tests in this process do not inherit it."""
    spec = importlib.util.spec_from_file_location("click_latency_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "path", list(sys.path))
        mp.setenv("OPENBLAS_NUM_THREADS", os.environ.get("OPENBLAS_NUM_THREADS", "1"))
        spec.loader.exec_module(module)
    return module


def markdown(at: AppTest) -> str:
    return "\n".join(str(m.value) for m in at.markdown)


def test_the_floor_app_counts_its_clicks() -> None:
    at = AppTest.from_string(click_bench().FLOOR_APP, default_timeout=30)
    at.run()
    at.button(key="floor-button").click().run()
    assert not at.exception
    assert "clicks: 1" in markdown(at).replace("`", "")


def test_the_work_floor_app_rates_re_ranks_and_counts(
    model_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(model_settings.store_url) as store:
        (tester,) = create_testers(store, 1, prefix="bench", genres=["Drama", "Comedy"])
        titles = pl.read_parquet(model_settings.parquet_dir / "titles.parquet")
        for tconst in titles.filter(pl.col("kind") == "movie").sort("num_votes", descending=True).head(4)["tconst"]:
            store.rate(tester.user_id, tconst, LIKE)
    monkeypatch.setenv("BENCH_WORK_USER", str(tester.user_id))
    at = AppTest.from_string(click_bench().WORK_FLOOR_APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    first = at.session_state["first"]
    shown = titles.filter(pl.col("tconst") == first)["primary_title"][0]
    assert f"first: {shown}" in markdown(at) and "clicks: 0" in markdown(at).replace("`", "")

    at.button(key="floor-button").click().run()  # a like of the first title, then a new ranking
    assert not at.exception, at.exception
    assert "clicks: 1" in markdown(at).replace("`", "")
    assert at.session_state["first"] != first  # a rated title is never recommended again
    second = at.session_state["first"]
    at.button(key="floor-button").click().run()  # the next click dislikes the new first title
    assert not at.exception, at.exception
    with Store.open(model_settings.store_url) as store:
        assert store.rating(tester.user_id, first) == LIKE
        assert store.rating(tester.user_id, second) == DISLIKE
        assert store.rating(tester.user_id, at.session_state["first"]) is None
