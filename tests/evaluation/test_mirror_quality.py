"""End to end on the real MovieLens ml-latest-small of the shared mirror (skipped without it):
the default temporal protocol, ALS with the default config against the popularity baseline."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import polars as pl
import pytest

from recsys.evaluation import SplitIndex, evaluate, split
from recsys.evaluation.scoring import scorer_fn
from recsys.models import ALSScorer, PopularityConfig, PopularityScorer

pytestmark = [pytest.mark.mirror]

MIRROR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mirror"
ZIP = MIRROR / "movielens" / "ml-latest-small.zip"


@pytest.fixture(scope="module")
def ratings() -> pl.DataFrame:
    if not ZIP.is_file():
        pytest.skip(f"MovieLens mirror not found at {ZIP}")
    with zipfile.ZipFile(ZIP) as zf:
        links = pl.read_csv(io.BytesIO(zf.read("ml-latest-small/links.csv")), schema_overrides={"imdbId": pl.String})
        raw = pl.read_csv(io.BytesIO(zf.read("ml-latest-small/ratings.csv")))
    links = links.select("movieId", ("tt" + pl.col("imdbId").str.zfill(7)).alias("tconst"))
    return (
        raw.join(links, on="movieId")
        .select(pl.col("userId").alias("ml_user_id"), "tconst", "rating", "timestamp")
        .sort("timestamp")
        .unique(subset=["ml_user_id", "tconst"], keep="last")
    )


def test_default_protocol_on_ml_latest_small(ratings: pl.DataFrame) -> None:
    sp = split(ratings)
    assert 600 <= len(sp.users) <= 610  # nearly every MovieLens user has 5+ positives
    index = SplitIndex(sp)
    pop = PopularityScorer(PopularityConfig(source="interactions")).fit_frames(movielens_ratings=sp.train)
    als = ALSScorer().fit_interactions(sp.train)
    pop_ndcg = evaluate(index, scorer_fn(pop, index), 10).summary["ndcg"]
    als_ndcg = evaluate(index, scorer_fn(als, index), 10).summary["ndcg"]
    # measured with the strict temporal rule (the users' future out of training): popularity ~0.073,
    # tuned ALS ~0.123; the old rule, which kept it, gave ~0.077 and ~0.133 (issue 3 reports 0.08
    # and 0.11-0.12 untuned)
    assert 0.06 < pop_ndcg < 0.10
    assert als_ndcg > 0.12 and als_ndcg > pop_ndcg + 0.03
