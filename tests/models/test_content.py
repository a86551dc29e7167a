"""TF-IDF content scorer on tiny hand-written catalogues with known answers."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from recsys.models import TfidfConfig, TfidfScorer
from recsys.models.content import title_tokens


def catalogue() -> pl.DataFrame:
    """Three crime dramas by Ann Noir, crime dramas by others, and unrelated titles."""
    rows = [
        ("tt01", "The Long Night", ["Crime", "Drama"], ["Ann Noir"], 1994, 110),
        ("tt02", "Harbour Lights", ["Crime", "Drama"], ["Ann Noir"], 1997, 115),
        ("tt03", "Rain on Fifth", ["Crime", "Drama"], ["Ann Noir"], 2001, 112),  # the answer
        ("tt04", "Shadow Precinct", ["Crime", "Drama"], ["Max Grey"], 1996, 108),
        ("tt05", "Back Alley", ["Crime", "Drama"], ["Joe Blunt"], 1999, 101),
        ("tt06", "Ann's Holiday", ["Comedy"], ["Ann Noir"], 2003, 92),
        ("tt07", "Silly Summer", ["Comedy", "Romance"], ["Bob Laugh"], 2000, 95),
        ("tt08", "Space Cadets", ["Sci-Fi"], ["Cy Space"], 1998, 125),
        ("tt09", "Garden Walls", ["Drama"], ["Ivy Calm"], 2010, 99),
    ]
    return pl.DataFrame(
        {
            "tconst": [r[0] for r in rows],
            "title_type": ["movie"] * len(rows),
            "kind": ["movie"] * len(rows),
            "primary_title": [r[1] for r in rows],
            "genres": [r[2] for r in rows],
            "directors": [r[3] for r in rows],
            "writers": [[] for _ in rows],
            "cast": [[] for _ in rows],
            "start_year": [r[4] for r in rows],
            "runtime_minutes": [r[5] for r in rows],
        }
    )


@pytest.fixture(scope="module")
def scorer() -> TfidfScorer:
    return TfidfScorer(TfidfConfig(min_df=1)).fit(catalogue())


def test_directors_third_crime_drama_comes_first(scorer: TfidfScorer) -> None:
    profile = [("tt01", 1), ("tt02", 1)]
    cands = ["tt03", "tt04", "tt05", "tt06", "tt07", "tt08", "tt09"]
    scores = scorer.score(profile, cands)
    assert cands[int(np.argmax(scores))] == "tt03"
    # other crime dramas next, then the director's comedy, unrelated titles last
    order = [cands[i] for i in np.argsort(-scores)]
    assert set(order[1:3]) == {"tt04", "tt05"}
    assert set(order[-2:]) == {"tt07", "tt08"}


def test_score_is_cosine_to_the_weighted_mean(scorer: TfidfScorer) -> None:
    x = scorer.matrix.toarray()
    pos = {t: i for i, t in enumerate(scorer.items.ids)}
    profile = [("tt01", 2), ("tt06", 1), ("tt08", -1)]
    mean = (2 * x[pos["tt01"]] + x[pos["tt06"]] - x[pos["tt08"]]) / 4
    expected = x @ mean / np.linalg.norm(mean)
    np.testing.assert_allclose(scorer.score(profile, list(scorer.items.ids)), expected, rtol=1e-5, atol=1e-6)


def test_dislike_pushes_similar_titles_down(scorer: TfidfScorer) -> None:
    liked = [("tt01", 1), ("tt09", 1)]
    cands = ["tt04", "tt08"]
    plain = scorer.score(liked, cands)
    with_dislike = scorer.score([*liked, ("tt05", -1)], cands)
    assert with_dislike[0] < plain[0]  # another crime drama


def test_explain_rows_sum_to_scores(scorer: TfidfScorer) -> None:
    profile = [("tt01", 1), ("tt02", 2), ("tt07", -1)]
    cands = ["tt03", "tt06", "tt99"]
    rated, contrib = scorer.explain(profile, cands)
    assert rated == ["tt01", "tt02", "tt07"]
    np.testing.assert_allclose(contrib[:2].sum(axis=1), scorer.score(profile, cands)[:2], rtol=1e-5)
    assert np.isnan(contrib[2]).all()
    assert contrib[1, 0] > 0  # Ann's comedy shares a director with a liked title


def test_tokens_cover_every_field() -> None:
    titles = pl.DataFrame(
        {
            "tconst": ["tt1"],
            "title_type": ["tvSeries"],
            "primary_title": ["The Wire of Baltimore"],
            "start_year": [2002],
            "runtime_minutes": [59],
            "genres": [["Crime", "Drama"]],
            "directors": [["David Simon"]],
            "writers": [["Ed Burns"]],
            "cast": [["Dominic West", "Idris Elba", "Lance Reddick"]],
        }
    )
    tokens = title_tokens(titles, TfidfConfig(max_cast=2))[0]
    assert tokens == [
        "g:crime", "g:drama", "t:tvSeries", "d:2000", "r:30-60", "w:wire", "w:baltimore",
        "dir:david_simon", "wri:ed_burns", "cast:dominic_west", "cast:idris_elba",
    ]


def test_missing_people_columns_are_fine() -> None:
    titles = catalogue().drop("directors", "writers", "cast")
    scorer = TfidfScorer(TfidfConfig(min_df=1)).fit(titles)
    assert np.isfinite(scorer.score([("tt01", 1)], ["tt02", "tt08"])).all()
