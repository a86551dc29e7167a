"""Taste checks a person would notice (issue 18), on the trained model of the data folder.

Prints, for the blend alone (stages off) and as served (the model's ranking stages), same run:

- genre fans: 13 liked films (the most voted of the genre) + that favourite genre; how many of
  the movie and TV top 10 carry the genre, how many have 5,000+ votes, and the median votes;
- monotonicity: the genre's share of the top 10 with 10, 11, 12 and 13 of those likes;
- two interests: 7 liked films of one genre and 3 of another: how many of each in the top 10;
- region fans: 10 liked films (the most voted) in one original language: how many of the movie
  and TV top 10 are in it (needs the catalogue's ``language`` column).

    CINEBLEND_DATA_DIR=data .venv/bin/python bench/taste_fans.py
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping

import polars as pl

from recsys.config import get_settings
from recsys.models.rerank.registry import no_stages
from recsys.models.service import Recommender

GENRES = ("Horror", "Comedy", "Documentary", "Western", "Musical", "War", "Romance", "Animation", "Crime", "Sci-Fi")
PAIRS = (("Horror", "Comedy"), ("Romance", "War"), ("Animation", "Crime"))
LANGUAGES = ("ja", "ko", "fr", "hi", "es", "it", "de")


def main() -> None:
    settings = get_settings()
    rec = Recommender.load_latest(settings.models_dir)
    titles = pl.read_parquet(settings.parquet_dir / "titles.parquet")
    genres = dict(zip(titles["tconst"], titles["genres"].to_list(), strict=True))
    votes = dict(zip(titles["tconst"], titles["num_votes"].to_list(), strict=True))
    language = (
        dict(zip(titles["tconst"], titles["language"].to_list(), strict=True)) if "language" in titles.columns else {}
    )
    served = rec.config.stages
    settings_ = (("blend only", no_stages()), ("served", served))
    print(f"model {rec.version}; served stages {dict(served)}")

    def top_voted(genre: str | None = None, lang: str | None = None, n: int = 13) -> list[str]:
        frame = titles.filter(pl.col("kind") == "movie")
        if genre:
            frame = frame.filter(pl.col("genres").list.contains(genre))
        if lang:
            frame = frame.filter(pl.col("language") == lang)
        return frame.sort("num_votes", descending=True)["tconst"].to_list()[:n]

    def feed(likes: list[str], stages: Mapping[str, float], favourites: tuple[str, ...] = ()) -> dict[str, list[str]]:
        out = rec.recommend_feed([(t, 1) for t in likes], n=10, stages=stages, favourite_genres=favourites)
        return {kind: frame["tconst"].to_list() for kind, frame in out.items()}

    print("\nGenre fans (13 liked films + the favourite genre): in genre of the movie / TV top 10")
    for g in GENRES:
        likes = top_voted(g)
        cells = []
        for label, stages in settings_:
            f = feed(likes, stages, (g,))
            mv, tv = (sum(g in (genres.get(t) or ()) for t in f[k]) for k in ("movie", "tv"))
            known = sum((votes.get(t) or 0) >= 5000 for t in f["movie"])
            median = statistics.median(votes.get(t) or 0 for t in f["movie"]) / 1000
            cells.append(f"{label}: movies {mv}/10, TV {tv}/10, 5k+ {known}/10, median {median:,.0f}k votes")
        print(f"  {g:<12}" + " | ".join(cells))

    print("\nOne more like never lowers the genre's share (served, movie top 10 with 10..13 likes)")
    for g in GENRES:
        likes = top_voted(g)
        shares = [
            sum(g in (genres.get(t) or ()) for t in feed(likes[:k], served, (g,))["movie"]) for k in range(10, 14)
        ]
        print(f"  {g:<12}{shares}{'' if shares == sorted(shares) else '  <- lowered'}")

    print("\nTwo interests (7 + 3 liked films): titles of each in the movie top 10")
    for a, b in PAIRS:
        first = [t for t in top_voted(a, n=40) if b not in (genres.get(t) or ())][:7]
        second = [t for t in top_voted(b, n=40) if a not in (genres.get(t) or ())][:3]
        # interleaved as a person would like them: a a b a a b a a b a
        likes = [first.pop(0) if i % 3 != 2 or not second else second.pop(0) for i in range(10)]
        for label, stages in settings_:
            movies = feed(likes, stages)["movie"]
            na, nb = (sum(x in (genres.get(t) or ()) for t in movies) for x in (a, b))
            print(f"  {a} 70% / {b} 30%  {label}: {a} {na}, {b} {nb}")

    if not language:
        print("\nRegion fans: the catalogue has no language column (rebuild with this version).")
        return
    print("\nRegion fans (10 liked films in one original language): movie / TV top 10 in that language")
    for code in LANGUAGES:
        likes = top_voted(lang=code, n=10)
        if len(likes) < 5:
            continue
        cells = []
        for label, stages in settings_:
            f = feed(likes, stages)
            mv, tv = (sum(language.get(t) == code for t in f[k]) for k in ("movie", "tv"))
            cells.append(f"{label}: movies {mv}/10, TV {tv}/10")
        print(f"  {code:<4}" + " | ".join(cells))


if __name__ == "__main__":
    main()
