"""TF-IDF content scorer on tiny hand-written catalogues with known answers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recsys.errors import ModelError
from recsys.models.base import Profile, TrainingData
from recsys.models.content import TfidfConfig, TfidfScorer, title_tokens
from tests.support.narrow import present

#: No prior, no recency, no sharpening unless a test asks for it.
PLAIN = TfidfConfig(min_df=1, prior_weight=0.0, recency=1.0, power=1.0)


def catalogue() -> pl.DataFrame:
    """Crime dramas by Ann Noir, crime dramas by others, unrelated titles, and a Godfather pair."""
    rows = [
        # tconst, title, genres, directors, year, runtime, votes
        ("tt01", "The Long Night", ["Crime", "Drama"], ["Ann Noir"], 1994, 110, 50_000),
        ("tt02", "Harbour Lights", ["Crime", "Drama"], ["Ann Noir"], 1997, 115, 40_000),
        ("tt03", "Rain on Fifth", ["Crime", "Drama"], ["Ann Noir"], 2001, 112, 30_000),
        ("tt04", "Shadow Precinct", ["Crime", "Drama"], ["Max Grey"], 1996, 108, 20_000),
        ("tt05", "Back Alley", ["Crime", "Drama"], ["Joe Blunt"], 1999, 101, 20_000),
        ("tt06", "Ann's Holiday", ["Comedy"], ["Ann Noir"], 2003, 92, 10_000),
        ("tt07", "Silly Summer", ["Comedy", "Romance"], ["Bob Laugh"], 2000, 95, 10_000),
        ("tt08", "Space Cadets", ["Sci-Fi"], ["Cy Space"], 1998, 125, 10_000),
        ("tt09", "Garden Walls", ["Drama"], ["Ivy Calm"], 2010, 99, 10_000),
        ("tt10", "The Godfather", ["Crime", "Drama"], [], 1972, 175, 2_000_000),
        ("tt11", "Godfather", ["Comedy", "Family"], [], 2022, 95, 500),
        ("tt12", "Family Business", ["Crime", "Drama"], [], 1974, 160, 5_000),
        ("tt13", "Laughing Gas", ["Comedy", "Family"], [], 2021, 90, 1_000),
        ("tt14", "Star Drift", ["Sci-Fi"], [], 1999, 120, 300_000),  # equally similar, well voted
        ("tt15", "Star Dust", ["Sci-Fi"], [], 1999, 120, 80),  # equally similar, obscure
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
            "num_votes": [r[6] for r in rows],
            "average_rating": [7.0] * len(rows),
        }
    )


def fit(
    config: TfidfConfig = PLAIN, titles: pl.DataFrame | None = None, tags: pl.DataFrame | None = None
) -> TfidfScorer:
    return TfidfScorer(config).fit(TrainingData(titles=catalogue() if titles is None else titles, tags=tags))


@pytest.fixture(scope="module")
def scorer() -> TfidfScorer:
    return fit()


ALL = [f"tt{i:02d}" for i in range(1, 16)]


def scores_of(scorer: TfidfScorer, profile: list[tuple[str, float]], cands: list[str]) -> dict[str, float]:
    return dict(zip(cands, scorer.score(profile, cands).tolist(), strict=True))


def test_shared_genres_beat_an_unrelated_title(scorer: TfidfScorer) -> None:
    s = scores_of(scorer, [("tt04", 1)], ["tt05", "tt08"])
    assert s["tt05"] > s["tt08"]


def test_directors_third_crime_drama_comes_first(scorer: TfidfScorer) -> None:
    cands = ["tt03", "tt04", "tt05", "tt06", "tt07", "tt08", "tt09"]
    scores = scorer.score([("tt01", 1), ("tt02", 1)], cands)
    order = [cands[i] for i in np.argsort(-scores)]
    assert order[0] == "tt03"
    assert order[-1] == "tt07"  # unrelated comedy last
    # other crime dramas above the titles sharing at most a genre or a decade
    assert min(order.index("tt04"), order.index("tt05")) < min(order.index(t) for t in ("tt07", "tt08", "tt09"))


def test_a_dislike_pushes_its_neighbours_down(scorer: TfidfScorer) -> None:
    liked = [("tt01", 1), ("tt09", 1)]
    cands = ["tt04", "tt08"]
    plain = scorer.score(liked, cands)
    with_dislike = scorer.score([*liked, ("tt05", -1)], cands)
    assert with_dislike[0] < plain[0]  # another crime drama


def test_more_recent_likes_weigh_more() -> None:
    recent = fit(dataclasses.replace(PLAIN, recency=0.5))
    # liked a sci-fi first, a crime drama last: the crime drama's neighbour wins, and vice versa
    s = scores_of(recent, [("tt15", 1), ("tt10", 1)], ["tt14", "tt12"])
    assert s["tt12"] > s["tt14"]
    s = scores_of(recent, [("tt10", 1), ("tt15", 1)], ["tt14", "tt12"])
    assert s["tt14"] > s["tt12"]


def test_the_prior_ranks_a_well_voted_title_above_an_obscure_equal_one() -> None:
    cands = ["tt14", "tt15"]
    flat = fit().score([("tt08", 1)], cands)
    assert flat[0] == pytest.approx(flat[1])  # equally similar
    with_prior = fit(dataclasses.replace(PLAIN, prior_weight=0.1)).score([("tt08", 1)], cands)
    assert with_prior[0] > with_prior[1]


def test_title_words_alone_do_not_make_a_match() -> None:
    scorer = fit(TfidfConfig(min_df=1))  # the tuned defaults
    cands = [t for t in ALL if t != "tt10"]
    sims = scorer.similar("tt10", scorer.candidates(cands))
    assert cands[int(np.nanargmax(sims))] == "tt12"  # the 1970s crime drama, not "Godfather"
    assert sims[cands.index("tt11")] < sims[cands.index("tt12")]
    ranked = scorer.score([("tt10", 1)], cands)
    assert ranked[cands.index("tt11")] < ranked[cands.index("tt12")]


def test_unknown_candidates_are_nan(scorer: TfidfScorer) -> None:
    scores = scorer.score([("tt01", 1)], ["tt99", "tt02", "nope"])
    assert np.isnan(scores[0]) and np.isnan(scores[2]) and np.isfinite(scores[1])
    assert scores.dtype == np.float64


def test_empty_and_unknown_profiles_have_no_query(scorer: TfidfScorer) -> None:
    assert scorer.prepare(Profile.of([])) is None
    assert scorer.prepare(Profile.of([("tt99", 1)])) is None
    assert np.isnan(scorer.score([], ["tt01", "tt02"])).all()


def test_dislikes_only_scores_the_disliked_neighbours_lowest(scorer: TfidfScorer) -> None:
    query = scorer.prepare(Profile.of([("tt08", -1)]))
    assert query is not None
    block = scorer.candidates(["tt14", "tt04", "tt07"])
    scores = query.scores(block)
    assert scores[0] < scores[1] and scores[0] < scores[2] and (scores <= 0).all()
    liked, contrib = query.contributions(block, np.arange(3))
    assert liked == [] and contrib.shape == (3, 0)


def test_contributions_name_only_liked_titles(scorer: TfidfScorer) -> None:
    profile = Profile.of([("tt01", 1), ("tt07", -1), ("tt02", 2), ("tt99", 1)])
    query = present(scorer.prepare(profile))
    block = scorer.candidates(["tt03", "tt06", "tt99"])
    liked, contrib = query.contributions(block, np.array([0, 1, 2]))
    assert liked == ["tt01", "tt02"]
    assert contrib.shape == (3, 2)
    assert np.isnan(contrib[2]).all()
    assert contrib[1, 0] > 0  # Ann's comedy shares a director with a liked title
    # without a prior and dislikes, the contributions add up to the score
    liked_only = present(scorer.prepare(Profile.of([("tt01", 1), ("tt02", 2)])))
    _, parts = liked_only.contributions(block, np.array([0, 1]))
    np.testing.assert_allclose(parts.sum(axis=1), liked_only.scores(block)[:2], rtol=1e-5)
    names, explained = scorer.explain(profile, ["tt03", "tt99"])
    assert names == ["tt01", "tt02"] and np.isnan(explained[1]).all()
    np.testing.assert_allclose(explained[0], contrib[0])


def test_fast_path_matches_the_direct_formula() -> None:
    config = TfidfConfig(min_df=1, recency=0.8, power=3.0, prior_weight=0.2)
    scorer = fit(config)
    x = present(scorer.matrix).toarray().astype(np.float64)
    profile = [("tt01", 2), ("tt06", 1), ("tt08", -1), ("tt10", 1)]
    rows = [present(scorer.items).get(t) for t, _ in profile]
    v = np.array([w for _, w in profile], dtype=float)
    w = v * 0.8 ** np.arange(len(v) - 1, -1, -1)
    sims = np.maximum(x @ x[rows].T, 0) ** 3
    expected = sims @ w / np.abs(w).sum() + 0.2 * present(scorer.prior)
    np.testing.assert_allclose(scorer.score(profile, list(present(scorer.items).ids)), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-5)


def test_only_the_most_recent_titles_count() -> None:
    scorer = fit(dataclasses.replace(PLAIN, max_profile=1))
    cands = ["tt14", "tt04"]
    np.testing.assert_allclose(scorer.score([("tt01", 1), ("tt08", 1)], cands), scorer.score([("tt08", 1)], cands))


def test_fields_are_normalised_on_their_own() -> None:
    # one genre token vs three: each field has unit length before its weight
    only_genres = TfidfConfig(
        min_df=1,
        type_weight=0,
        decade_weight=0,
        runtime_weight=0,
        word_weight=0,
        director_weight=1.0,
        writer_weight=0,
        cast_weight=0,
    )
    scorer = fit(only_genres)
    x = present(scorer.matrix).toarray()
    # tt01 has genres and a director: both fields weigh the same
    assert x[present(scorer.items).get("tt01")].max() == pytest.approx(
        x[present(scorer.items).get("tt01")][[i for i, f in enumerate(scorer.features) if f.startswith("dir:")]].max()
    )


def test_save_load_round_trip(scorer: TfidfScorer, tmp_path: Path) -> None:
    profile = [("tt01", 1), ("tt08", -1), ("tt10", 2)]
    cands = [*ALL, "tt99"]
    scorer.save(tmp_path / "c")
    loaded = TfidfScorer.load(tmp_path / "c")
    np.testing.assert_array_equal(loaded.score(profile, cands), scorer.score(profile, cands))
    assert loaded.config == scorer.config
    (tmp_path / "c" / "content.npz").write_bytes(b"broken")
    with pytest.raises(ModelError, match="python -m recsys train"):
        TfidfScorer.load(tmp_path / "c")


def test_tags_become_a_field() -> None:
    tags = pl.DataFrame({"tconst": ["tt08", "tt09", "tt09"], "tag": ["mind bending", "Mind Bending", "slow"]})
    scorer = fit(dataclasses.replace(PLAIN, tag_weight=1.0), tags=tags)
    assert "tag:mind_bending" in scorer.features
    s = scores_of(scorer, [("tt08", 1)], ["tt09", "tt07"])
    assert s["tt09"] > s["tt07"]


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
    tags = pl.DataFrame({"tconst": ["tt1"], "tag": ["Gritty"]})
    tokens = title_tokens(titles, TfidfConfig(max_cast=2), tags)[0]
    assert tokens == [
        "g:crime",
        "g:drama",
        "t:tvSeries",
        "d:2000",
        "r:30-60",
        "w:wire",
        "w:baltimore",
        "dir:david_simon",
        "wri:ed_burns",
        "cast:dominic_west",
        "cast:idris_elba",
        "tag:gritty",
    ]


def test_missing_columns_are_fine() -> None:
    titles = catalogue().drop("directors", "writers", "cast", "num_votes")
    scorer = TfidfScorer(TfidfConfig(min_df=1)).fit(TrainingData(titles=titles))
    assert np.isfinite(scorer.score([("tt01", 1)], ["tt02", "tt08"])).all()


def test_unfitted_scorer_says_how_to_fix() -> None:
    with pytest.raises(ModelError, match="python -m recsys train"):
        TfidfScorer().candidates(["tt01"])


# --------------------------------------------------------------------------- language (issue 18)


def language_catalogue() -> pl.DataFrame:
    """Animated 1980s-2000s fantasy films: three Japanese (romanised original titles), two
    English, one French; all the same genres, decade band and runtime band."""
    rows = [
        # tconst, primary, original, language, year
        ("tt21", "Spirited Away", "Sen to Chihiro no kamikakushi", "ja", 2001),
        ("tt22", "My Neighbor Totoro", "Tonari no Totoro", "ja", 2003),
        ("tt23", "Howl's Moving Castle", "Hauru no ugoku shiro", "ja", 2004),
        ("tt24", "Shrek", "Shrek", "en", 2001),
        ("tt25", "Monsters, Inc.", "Monsters, Inc.", "en", 2001),
        ("tt26", "The Triplets of Belleville", "Les triplettes de Belleville", "fr", 2003),
        ("tt27", "Persepolis", "Persepolis", "fr", 2007),
    ]
    return pl.DataFrame(
        {
            "tconst": [r[0] for r in rows],
            "title_type": ["movie"] * len(rows),
            "primary_title": [r[1] for r in rows],
            "original_title": [r[2] for r in rows],
            "language": [r[3] for r in rows],
            "genres": [["Animation", "Fantasy"] for _ in rows],
            "start_year": [r[4] for r in rows],
            "runtime_minutes": [100] * len(rows),
            "num_votes": [100_000] * len(rows),
        }
    )


def test_language_and_original_title_words_are_tokens() -> None:
    tokens = title_tokens(language_catalogue(), TfidfConfig())
    assert tokens[0] == [
        "g:animation",
        "g:fantasy",
        "t:movie",
        "d:2000",
        "r:90-120",
        "lang:ja",
        "w:spirited",
        "w:away",
        "w:sen",
        "w:chihiro",
        "w:kamikakushi",
    ]
    assert [t for t in tokens[3] if t.startswith(("lang:", "w:"))] == ["w:shrek"]  # English: no token, no repeat
    with_english = title_tokens(language_catalogue(), TfidfConfig(language_english=True))
    assert "lang:en" in with_english[3]


def test_a_japanese_film_is_closer_to_japanese_films_than_to_english_ones() -> None:
    titles = language_catalogue()
    scorer = fit(dataclasses.replace(PLAIN, min_df=1), titles=titles)
    block = scorer.candidates(titles["tconst"].to_list())
    sims = dict(zip(titles["tconst"].to_list(), scorer.similar("tt21", block).tolist(), strict=True))
    # Spirited Away: Totoro and Howl (Japanese) above Shrek and Monsters, Inc. (English, same year)
    assert min(sims["tt22"], sims["tt23"]) > max(sims["tt24"], sims["tt25"])
    # without the language field they tie: same genres, type, decade and runtime, no shared word
    plain = fit(dataclasses.replace(PLAIN, min_df=1, language_weight=0.0), titles=titles)
    before = plain.similar("tt21", plain.candidates(["tt22", "tt24"]))
    assert before[0] == pytest.approx(before[1])


def test_a_language_fan_gets_that_language_first() -> None:
    titles = language_catalogue()
    scorer = fit(dataclasses.replace(PLAIN, min_df=1), titles=titles)
    s = scores_of(scorer, [("tt26", 1)], ["tt22", "tt24", "tt25", "tt27"])
    assert max(s, key=s.__getitem__) == "tt27"  # the other French film


def test_a_model_saved_before_the_language_field_asks_for_a_retrain(scorer: TfidfScorer, tmp_path: Path) -> None:
    scorer.save(tmp_path / "c")
    with np.load(tmp_path / "c" / "content.npz") as npz:
        old = {k: npz[k] for k in npz.files if k != "fields"}
    np.savez(tmp_path / "c" / "content.npz", **old)  # as written before issue 18
    with pytest.raises(ModelError, match=r"older version .*run `python -m recsys train`"):
        TfidfScorer.load(tmp_path / "c")
