"""Hand-written data for the model tests: a 24-title catalogue and MovieLens-style ratings.

The catalogue has four taste clusters, each with movies and TV shows:

- crime dramas (director Ann Noir and others),
- comedies (director Bob Laugh),
- science fiction (director Cy Space),
- romance (director Dee Heart).

The ratings come from 24 MovieLens-style users, six per cluster: each rates the titles of their
cluster 4-5 (the TV shows too, so ALS knows some of them), and a title of the next cluster 1.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from recsys.models import ALSConfig, Recommender, RecommenderConfig, TfidfConfig, TrainingData
from recsys.models.rerank.registry import no_stages

# tconst, kind, title, year, runtime, genres, director, writer, rating, votes, popularity
_TITLES = [
    ("tt0000001", "movie", "Night Street", 1994, 110, ["Crime", "Drama"], "Ann Noir", "Wes Ink", 8.1, 90000, 80.0),
    ("tt0000002", "movie", "Night Harbour", 1997, 118, ["Crime", "Drama"], "Ann Noir", "Wes Ink", 7.9, 70000, 70.0),
    ("tt0000003", "movie", "Night Station", 2001, 121, ["Crime", "Drama"], "Ann Noir", "Wes Ink", 7.5, 30000, 40.0),
    ("tt0000004", "movie", "Cold Case Files", 2003, 105, ["Crime", "Drama"], "Max Grey", "Ola Pen", 7.0, 20000, 30.0),
    ("tt0000005", "movie", "Laugh Out", 1999, 95, ["Comedy"], "Bob Laugh", "Tim Joke", 6.8, 60000, 60.0),
    ("tt0000006", "movie", "Laugh Again", 2002, 92, ["Comedy"], "Bob Laugh", "Tim Joke", 6.5, 50000, 50.0),
    ("tt0000007", "movie", "Laugh Forever", 2006, 90, ["Comedy", "Romance"], "Bob Laugh", "Tim Joke", 6.1, 20000, 25.0),
    ("tt0000008", "movie", "Star Gate Zero", 1996, 130, ["Sci-Fi", "Action"], "Cy Space", "Ray Bolt", 7.7, 95000, 85.0),
    ("tt0000009", "movie", "Star Gate One", 1999, 128, ["Sci-Fi", "Action"], "Cy Space", "Ray Bolt", 7.2, 75000, 65.0),
    ("tt0000010", "movie", "Star Gate Two", 2004, 135, ["Sci-Fi", "Action"], "Cy Space", "Ray Bolt", 6.9, 40000, 45.0),
    ("tt0000011", "movie", "Orbit", 2010, 100, ["Sci-Fi", "Drama"], "Lia Moon", "Ray Bolt", 7.1, 30000, 35.0),
    (
        "tt0000012",
        "movie",
        "Summer Letters",
        1995,
        112,
        ["Romance", "Drama"],
        "Dee Heart",
        "Amy Rose",
        7.3,
        50000,
        55.0,
    ),
    (
        "tt0000013",
        "movie",
        "Winter Letters",
        1998,
        108,
        ["Romance", "Drama"],
        "Dee Heart",
        "Amy Rose",
        7.0,
        40000,
        42.0,
    ),
    ("tt0000014", "movie", "Autumn Letters", 2005, 104, ["Romance"], "Dee Heart", "Amy Rose", 6.6, 20000, 22.0),
    ("tt0000015", "movie", "Quiet Fields", 2012, 99, ["Drama"], "Ivy Calm", "Ivy Calm", 6.0, 5000, 10.0),
    ("tt0000016", "movie", "Loud City", 2015, 97, ["Action"], "Zed Boom", "Zed Boom", 5.5, 8000, 12.0),
    ("tt0000101", "tv", "Precinct Nine", 2008, 50, ["Crime", "Drama"], "Ann Noir", "Wes Ink", 8.4, 120000, 90.0),
    ("tt0000102", "tv", "Harbour Detectives", 2011, 45, ["Crime", "Drama"], "Max Grey", "Ola Pen", 7.6, 40000, 48.0),
    ("tt0000103", "tv", "Office Jokes", 2005, 22, ["Comedy"], "Bob Laugh", "Tim Joke", 8.0, 150000, 95.0),
    ("tt0000104", "tv", "Family Jokes", 2009, 24, ["Comedy"], "Bob Laugh", "Tim Joke", 7.1, 30000, 38.0),
    ("tt0000105", "tv", "Star Patrol", 2007, 44, ["Sci-Fi", "Action"], "Cy Space", "Ray Bolt", 7.9, 80000, 75.0),
    ("tt0000106", "tv", "Moon Base", 2014, 42, ["Sci-Fi", "Drama"], "Lia Moon", "Ray Bolt", 7.0, 15000, 20.0),
    ("tt0000107", "tv", "Love Island Letters", 2016, 40, ["Romance"], "Dee Heart", "Amy Rose", 6.2, 9000, 15.0),
    ("tt0000108", "tv", "Nature Hour", 2001, 55, ["Documentary"], "Ivy Calm", "Ivy Calm", 8.5, 3000, 8.0),
]

CLUSTERS = {
    "crime": ["tt0000001", "tt0000002", "tt0000003", "tt0000004", "tt0000101", "tt0000102"],
    "comedy": ["tt0000005", "tt0000006", "tt0000007", "tt0000103", "tt0000104"],
    "scifi": ["tt0000008", "tt0000009", "tt0000010", "tt0000011", "tt0000105", "tt0000106"],
    "romance": ["tt0000012", "tt0000013", "tt0000014", "tt0000107"],
}


def make_titles() -> pl.DataFrame:
    rows = [
        {
            "tconst": t,
            "title_type": "movie" if kind == "movie" else "tvSeries",
            "kind": kind,
            "primary_title": title,
            "start_year": year,
            "runtime_minutes": runtime,
            "genres": genres,
            "average_rating": rating,
            "num_votes": votes,
            "popularity": pop,
            "directors": [director],
            "writers": [writer],
            "cast": [],
        }
        for t, kind, title, year, runtime, genres, director, writer, rating, votes, pop in _TITLES
    ]
    return pl.DataFrame(rows)


def make_ratings() -> pl.DataFrame:
    """Six users per cluster; user ``u`` skips one title of the cluster (rotating)."""
    rows = []
    names = list(CLUSTERS)
    user = 0
    for c, name in enumerate(names):
        items = CLUSTERS[name]
        other = CLUSTERS[names[(c + 1) % len(names)]]
        for j in range(6):
            user += 1
            ts = 1_000_000_000 + user * 10_000
            skip = items[j % len(items)]
            for i, t in enumerate(items):
                if t != skip:
                    rows.append((user, t, 5.0 if i % 2 == 0 else 4.0, ts + i * 60))
            rows.append((user, other[j % len(other)], 1.0, ts + 3000))
    return pl.DataFrame(rows, schema=["ml_user_id", "tconst", "rating", "timestamp"], orient="row").with_columns(
        pl.col("ml_user_id").cast(pl.Int32)
    )


def small_config() -> RecommenderConfig:
    """The tiny data's configs; ranking stages off, so tests see the blend's own order (the stages
    have their own tests)."""
    return RecommenderConfig(scorers=small_scorer_configs(), stages=no_stages())


def small_scorer_configs() -> dict[str, object]:
    """The per-scorer configs for the tiny data (missing scorers use their defaults)."""
    return {
        "content": TfidfConfig(min_df=1),
        "als": ALSConfig(factors=8, iterations=10, regularization=0.05, random_state=7, num_threads=1),
    }


def training_data(titles: pl.DataFrame, ratings: pl.DataFrame | None = None) -> TrainingData:
    return TrainingData(titles=titles, ratings=ratings)


@pytest.fixture(scope="session")
def titles() -> pl.DataFrame:
    return make_titles()


@pytest.fixture(scope="session")
def ratings() -> pl.DataFrame:
    return make_ratings()


@pytest.fixture(scope="session")
def recommender(titles: pl.DataFrame, ratings: pl.DataFrame) -> Recommender:
    """A recommender fitted once per session on the tiny data (read-only in tests)."""
    return Recommender.fit(TrainingData(titles, ratings), small_config())


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    return tmp_path / "models"
