""" "More like this" (:mod:`recsys.models.similar`): series companions first, shared people named,
the known-title floor, language when the catalogue has it, no children's title next to a horror
film, and a reason on every entry. Exact expectations on the tiny fixture catalogue plus a few
hand-written titles."""

from __future__ import annotations

import polars as pl
import pytest

from recsys.models import Recommender, TrainingData
from recsys.models.similar import same_series, title_words
from tests.models.conftest import make_ratings, make_titles, small_config

# tconst, kind, title, year, runtime, genres, director, votes, language
_EXTRA = [
    ("tt0000201", "movie", "Night Street II", 1998, 112, ["Crime", "Drama"], "Ann Noir", 60000, "en"),
    ("tt0000202", "movie", "Night Street Returns", 2019, 100, ["Crime", "Drama"], "Nobody Known", 300, "en"),
    ("tt0000203", "movie", "Hanabi Street", 1997, 110, ["Crime", "Drama"], "Ken Ito", 25000, "ja"),
    ("tt0000204", "movie", "Kyoto Nights", 1999, 115, ["Crime", "Drama"], "Ken Ito", 21000, "ja"),
    ("tt0000205", "movie", "Toyland Cops", 1996, 108, ["Crime", "Family"], "Pip Small", 80000, "en"),
    ("tt0000206", "movie", "Ghost Street", 1995, 110, ["Crime", "Horror"], "Eve Dark", 40000, "en"),
    ("tt0000207", "movie", "Bunny Street", 1995, 110, ["Animation", "Family"], "Pip Small", 90000, "en"),
]


def _titles(with_language: bool) -> pl.DataFrame:
    base = make_titles()
    extra = pl.DataFrame(
        [
            {
                "tconst": t,
                "title_type": "movie",
                "kind": kind,
                "primary_title": title,
                "start_year": year,
                "runtime_minutes": runtime,
                "genres": genres,
                "average_rating": 7.0,
                "num_votes": votes,
                "popularity": votes / 1000,
                "directors": [director],
                "writers": [director],
                "cast": [],
            }
            for t, kind, title, year, runtime, genres, director, votes, _ in _EXTRA
        ]
    )
    frame = pl.concat([base, extra.cast(base.schema)])
    if with_language:
        lang = {t: lg for t, *_, lg in _EXTRA}
        frame = frame.with_columns(
            pl.col("tconst").replace_strict(lang, default="en", return_dtype=pl.String).alias("language")
        )
    return frame


@pytest.fixture(scope="module", params=[False, True], ids=["no-language", "language"])
def rec(request: pytest.FixtureRequest) -> Recommender:
    return Recommender.fit(TrainingData(_titles(request.param), make_ratings()), small_config())


@pytest.fixture(scope="module")
def rec_lang() -> Recommender:
    return Recommender.fit(TrainingData(_titles(True), make_ratings()), small_config())


def test_series_words() -> None:
    words = title_words
    assert same_series(words("The Godfather"), words("The Godfather: Part II"))
    assert same_series(words("Toy Story"), words("Toy Story 2"))
    assert same_series(words("Star Wars: Episode IV - A New Hope"), words("Star Wars: Episode V"))
    assert same_series(words("Toy Story 2"), words("Toy Story"))
    assert not same_series(words("Spirited Away"), words("Spirited"))
    assert not same_series(words("Seven Samurai"), words("The Last Samurai"))
    assert not same_series(words("Game of Thrones"), words("Game of Death"))
    assert not same_series(words("The Lord of the Rings"), words("The Lord of War"))
    assert not same_series(words("Night Street"), words("Night Street"))


def test_the_sequel_comes_first_and_says_why(rec: Recommender) -> None:
    out = rec.similar_explained("tt0000001", 4)
    assert out.columns == ["tconst", "score", "rank", "reason"]
    assert out["rank"].to_list() == [1, 2, 3, 4]
    assert out["score"].to_list() == sorted(out["score"].to_list(), reverse=True)
    # Night Street II: a known title of the same series, by the same director
    assert out.row(0)[0] == "tt0000201"
    assert out["reason"][0] == "Same series as Night Street · Same director: Ann Noir"
    # then Ann Noir's other films, named with the director; the 300-vote "Night Street Returns"
    # is below the known-title floor and comes after every known title
    assert out["tconst"][1:3].to_list() == ["tt0000002", "tt0000003"]
    assert out["reason"][1].startswith("Same director: Ann Noir")
    assert "tt0000202" not in rec.similar("tt0000001", 10)[:9]
    assert rec.similar("tt0000001", 4) == out["tconst"].to_list()


def test_a_childrens_title_is_never_more_like_a_horror_film(rec: Recommender) -> None:
    # Bunny Street (Animation, Family) shares decade, runtime and "Street" with Ghost Street
    # (Crime, Horror), but a children's film never sits next to a horror one, either way
    assert "tt0000207" not in rec.similar("tt0000206", 20)
    assert "tt0000206" not in rec.similar("tt0000207", 20)
    assert "tt0000205" not in rec.similar("tt0000206", 20)  # Crime, Family: a family film


def test_titles_sharing_nothing_nameable_are_left_out(rec: Recommender) -> None:
    # Office Jokes (a comedy show): only Family Jokes shares its genre / people; the crime,
    # sci-fi and documentary shows share nothing a reason could name
    out = rec.similar_explained("tt0000103", 6)
    assert out["tconst"].to_list() == ["tt0000104"]
    assert out["reason"][0].startswith("Same director: Bob Laugh")
    assert rec.similar_explained("tt9999999", 3).height == 0
    assert rec.similar("tt0000103", 0) == []


def test_language_named_and_preferred_when_the_column_exists(rec_lang: Recommender) -> None:
    out = rec_lang.similar_explained("tt0000203", 3)  # Hanabi Street, Japanese crime drama
    assert out["tconst"][0] == "tt0000204"  # Kyoto Nights: Japanese, same director
    assert out["reason"][0] == "Same director: Ken Ito · Japanese, Crime"
    # English is the catalogue's common language: never named
    english = rec_lang.similar_explained("tt0000001", 10)["reason"].to_list()
    assert not any("English" in r for r in english)


def test_without_the_language_column_nothing_mentions_a_language() -> None:
    plain = Recommender.fit(TrainingData(_titles(False), make_ratings()), small_config())
    out = plain.similar_explained("tt0000203", 3)
    assert out["tconst"][0] == "tt0000204"  # still first: the shared director
    assert out["reason"][0].startswith("Same director: Ken Ito")
    assert not any("Japanese" in r for r in out["reason"].to_list())
