"""The genre taste scorer on hand-written catalogues with known answers (see the docstring of
:mod:`recsys.models.taste`: ``a_g = ln((n_g + alpha b_g) / ((N + alpha) b_g))``,
``s_i = sum_{g in i} a_g / sqrt(|genres(i)|)``)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recsys.models import GenreTasteScorer, Profile, TasteConfig, TrainingData
from recsys.models.reasons import taste_reason
from tests.support.narrow import present


def frame(rows: list[tuple[str, str, list[str], int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "tconst": [r[0] for r in rows],
            "kind": [r[1] for r in rows],
            "genres": [r[2] for r in rows],
            "num_votes": [r[3] for r in rows],
        }
    )


# four single-genre titles with equal votes: every base rate is exactly 1/4
FOUR = frame(
    [
        ("tt01", "movie", ["Crime"], 1000),
        ("tt02", "movie", ["Comedy"], 1000),
        ("tt03", "movie", ["Drama"], 1000),
        ("tt04", "movie", ["Romance"], 1000),
    ]
)

CATALOGUE = frame(
    [
        ("tt11", "movie", ["Crime", "Drama"], 50_000),
        ("tt12", "movie", ["Crime", "Drama"], 40_000),
        ("tt13", "movie", ["Crime", "Thriller"], 30_000),
        ("tt14", "movie", ["Crime"], 20_000),
        ("tt15", "movie", ["Crime", "Drama"], 10_000),
        ("tt21", "movie", ["Comedy"], 90_000),
        ("tt22", "movie", ["Comedy", "Romance"], 60_000),
        ("tt23", "movie", ["Comedy"], 30_000),
        ("tt31", "movie", ["Sci-Fi", "Action"], 80_000),
        ("tt32", "movie", ["Drama"], 20_000),
        ("tt33", "movie", [], 500),
        ("tt91", "tv", ["Crime", "Drama"], 70_000),  # a crime show
        ("tt92", "tv", ["Comedy"], 150_000),  # a more popular comedy show
        ("tt93", "tv", ["Comedy", "Romance"], 5_000),
    ]
)
CRIME_FAN = [("tt11", 1), ("tt12", 1), ("tt13", 1), ("tt14", 2)]


@pytest.fixture(scope="module")
def four() -> GenreTasteScorer:
    return GenreTasteScorer().fit(TrainingData(titles=FOUR))


@pytest.fixture(scope="module")
def taste() -> GenreTasteScorer:
    return GenreTasteScorer().fit(TrainingData(titles=CATALOGUE))


def affinity(scorer: GenreTasteScorer, profile: list, genres: tuple[str, ...] = ()) -> dict[str, float]:
    a = scorer.affinity(Profile.of(profile, genres=genres))
    assert a is not None
    return dict(zip(scorer.genres, a.tolist(), strict=True))


def test_base_rates_and_affinities_by_hand(four: GenreTasteScorer) -> None:
    assert four.genres == ["Comedy", "Crime", "Drama", "Romance"]
    np.testing.assert_allclose(present(four.base), [0.25] * 4)
    # one like of the Crime title, alpha 3: a_crime = ln((1 + 3/4) / (4 * 1/4)), others ln(3/4)
    a = affinity(four, [("tt01", 1)])
    assert a["Crime"] == pytest.approx(math.log(1.75))
    for g in ("Comedy", "Drama", "Romance"):
        assert a[g] == pytest.approx(math.log(0.75))
    # a single-genre title scores its genre's affinity; NaN for an unknown title
    scores = four.score([("tt01", 1)], ["tt01", "tt02", "tt99"])
    np.testing.assert_allclose(scores[:2], [math.log(1.75), math.log(0.75)])
    assert np.isnan(scores[2])


def test_dislike_and_superlike_by_hand(four: GenreTasteScorer) -> None:
    # superlike Crime (2) and dislike Comedy (-0.5): N = 2 (likes only)
    a = affinity(four, [("tt01", 2), ("tt02", -1)])
    assert a["Crime"] == pytest.approx(math.log((2 + 0.75) / (5 * 0.25)))
    assert a["Comedy"] == pytest.approx(math.log((-0.5 + 0.75) / (5 * 0.25)))
    assert a["Drama"] == pytest.approx(math.log(0.75 / 1.25))
    assert a["Comedy"] < a["Drama"] < 0 < a["Crime"]


def test_base_rates_weight_titles_by_log_votes_and_split_multi_genre_titles(taste: GenreTasteScorer) -> None:
    weights = np.log1p(CATALOGUE["num_votes"].to_numpy().astype(float))
    mass = dict.fromkeys(taste.genres, 0.0)
    for gs, w in zip(CATALOGUE["genres"].to_list(), weights, strict=True):
        for g in gs:
            mass[g] += w / len(gs)
    total = sum(mass.values())
    np.testing.assert_allclose(present(taste.base), [mass[g] / total for g in taste.genres])


def test_crime_profile_gives_crime_the_largest_lift(taste: GenreTasteScorer) -> None:
    a = affinity(taste, CRIME_FAN)
    assert max(a, key=a.__getitem__) == "Crime" and a["Crime"] > 0
    assert a["Comedy"] < 0 and a["Sci-Fi"] < 0
    assert taste.top_genres(Profile.of(CRIME_FAN))[0] == "Crime"


def test_crime_show_outranks_comedy_show_for_a_crime_fan(taste: GenreTasteScorer) -> None:
    """The taste carries from films to TV: the crime show beats the far more popular comedy."""
    scores = taste.score(CRIME_FAN, ["tt91", "tt92", "tt93"])
    assert scores[0] > scores[1] and scores[0] > scores[2]
    # and among unrated films, the crime drama comes first, the unrelated sci-fi last of the genred
    films = ["tt15", "tt21", "tt31", "tt32"]
    s = taste.score(CRIME_FAN, films)
    assert films[int(np.argmax(s))] == "tt15"


def test_title_without_genres_scores_zero(taste: GenreTasteScorer) -> None:
    assert taste.score(CRIME_FAN, ["tt33"]).tolist() == [0.0]


def test_dislikes_push_a_genre_down(taste: GenreTasteScorer) -> None:
    plain = affinity(taste, CRIME_FAN)
    disliked = affinity(taste, [*CRIME_FAN, ("tt21", -1), ("tt23", -1)])
    assert disliked["Comedy"] < plain["Comedy"]
    cands = ["tt92", "tt91"]
    assert taste.score([*CRIME_FAN, ("tt21", -1)], cands)[0] < taste.score(CRIME_FAN, cands)[0]


def test_favourite_genres_count(taste: GenreTasteScorer) -> None:
    # favourites alone are a signal: a new user who picked Comedy at onboarding
    a = affinity(taste, [], genres=("Comedy",))
    assert max(a, key=a.__getitem__) == "Comedy" and a["Comedy"] > 0
    scores = taste.score(Profile.of([], genres=("Comedy",)), ["tt91", "tt92"])
    assert scores[1] > scores[0]
    # with likes, a favourite genre adds to its lift
    with_fav = affinity(taste, CRIME_FAN, genres=("Sci-Fi",))
    assert with_fav["Sci-Fi"] > affinity(taste, CRIME_FAN)["Sci-Fi"]
    assert taste.top_genres(Profile.of([], genres=("Comedy", "Unknown genre"))) == ["Comedy"]


@pytest.mark.parametrize(
    "profile",
    [[], [("tt99", 1)], [("tt21", -1), ("tt22", -1)]],
    ids=["empty", "unknown-titles", "dislikes-only"],
)
def test_no_signal_means_no_query(taste: GenreTasteScorer, profile: list) -> None:
    assert taste.prepare(Profile.of(profile)) is None
    assert taste.top_genres(Profile.of(profile)) == []
    assert np.isnan(taste.score(profile, ["tt11", "tt21"])).all()


def test_only_the_most_recent_ratings_count() -> None:
    """Profiles are oldest first; ``max_profile`` keeps the newest ratings."""
    scorer = GenreTasteScorer(TasteConfig(max_profile=2)).fit(TrainingData(titles=CATALOGUE))
    old_crime_new_comedy = [("tt11", 1), ("tt12", 1), ("tt21", 1), ("tt23", 1)]
    a = affinity(scorer, old_crime_new_comedy)
    assert max(a, key=a.__getitem__) == "Comedy"
    assert a["Crime"] < 0


def test_best_genre_and_the_taste_reason(taste: GenreTasteScorer) -> None:
    query = taste.prepare(Profile.of(CRIME_FAN))
    assert query is not None
    assert query.best_genre(["Drama", "Crime"]) == "Crime"
    assert query.best_genre(["Comedy"]) is None  # no positive lift: nothing to say
    assert taste_reason("Crime", "movie") == "Because you like crime films"
    assert taste_reason("Crime", "tv") == "Because you like crime shows"
    # the taste does not split its score over liked titles
    block = taste.candidates(["tt15", "tt91"])
    names, contrib = query.contributions(block, np.arange(2))
    assert names == [] and contrib.shape == (2, 0)


def test_save_and_load_round_trip(taste: GenreTasteScorer, tmp_path: Path) -> None:
    taste.save(tmp_path / "taste")
    loaded = GenreTasteScorer.load(tmp_path / "taste")
    cands = [*CATALOGUE["tconst"].to_list(), "tt99"]
    assert loaded.genres == taste.genres and loaded.config == taste.config
    for profile in (CRIME_FAN, [("tt21", 1), ("tt31", -1)]):
        np.testing.assert_array_equal(loaded.score(profile, cands), taste.score(profile, cands))
    fav = Profile.of([], genres=("Comedy",))
    np.testing.assert_array_equal(loaded.score(fav, cands), taste.score(fav, cands))


def test_genre_sets_share_a_code_exactly_when_their_genres_are_equal() -> None:
    import scipy.sparse as sp

    from recsys.models.taste import _genre_sets

    # rows: {0, 70}, {}, {70, 0}, {1}, {}, {0}; 71 columns span two 64-bit words
    cols = [[0, 70], [], [0, 70], [1], [], [0]]
    indptr = np.cumsum([0, *map(len, cols)])
    rows = sp.csr_matrix((np.ones(indptr[-1]), [c for r in cols for c in r], indptr), shape=(6, 71))
    codes, first = _genre_sets(rows, 71)
    assert codes[0] == codes[2] and codes[1] == codes[4]
    assert len(set(codes.tolist())) == 4 == len(first)
    for code, row in enumerate(first.tolist()):
        assert codes[row] == code  # a representative row of each code
