"""Taste checks for what offline metrics cannot see: TV (MovieLens has no TV ratings), "More like
this", and whether different tastes get different lists.

Fans are hand-picked profiles of five famous films of one genre (:data:`FANS`); for each the check
looks at the feed's TV top ``n``: how many shows carry the fan's genre, how many have
``min_votes`` or more IMDb votes, and the overlap (Jaccard) between fans' lists. For "More like
this" on famous films (:data:`FAMOUS`), how many neighbours share the film's main genre (its
least common genre in the catalogue, e.g. Crime for The Godfather) and how many have
``similar_votes`` or more votes. ``bench/quality.py`` prints them; the mirror quality test asserts
the targets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import polars as pl

from recsys.columns import Columns as C

#: name -> (genre, five liked films)
FANS: dict[str, tuple[str, tuple[str, ...]]] = {
    "crime": ("Crime", ("tt0068646", "tt0099685", "tt0071562", "tt0110912", "tt0407887")),
    "animation": ("Animation", ("tt0114709", "tt0266543", "tt1049413", "tt2096673", "tt0382932")),
    "sci-fi": ("Sci-Fi", ("tt0133093", "tt0083658", "tt0078748", "tt0816692", "tt2543164")),
    "horror": ("Horror", ("tt0081505", "tt7784604", "tt5052448", "tt1457767", "tt1396484")),
    "romance": ("Romance", ("tt0125439", "tt0414387", "tt0098635", "tt3783958", "tt0332280")),
}
#: famous films for "More like this": The Godfather, Toy Story, The Matrix, Titanic, The Shining
FAMOUS = ("tt0068646", "tt0114709", "tt0133093", "tt0120338", "tt0081505")


@dataclass
class FanCheck:
    fan: str
    genre: str
    titles: list[str]
    in_genre: int
    well_known: int
    reasons: list[str]


def fan_lists(
    recommend: Any,
    catalog: Any,
    kind: str = "tv",
    n: int = 10,
    min_votes: int = 5000,
    fans: Mapping[str, tuple[str, Sequence[str]]] = FANS,
) -> list[FanCheck]:
    """Each fan's top ``n`` of ``kind`` (``recommend(profile_frame, n) -> {kind: frame}``)."""
    out = []
    for fan, (genre, liked) in fans.items():
        profile = pl.DataFrame({C.TCONST: list(liked), C.VALUE: [1] * len(liked)})
        frame = recommend(profile, n)[kind]
        genres = [list(g or ()) for g in frame[C.GENRES].to_list()]
        votes = frame[C.VOTES].fill_null(0).to_list()
        out.append(
            FanCheck(
                fan=fan,
                genre=genre,
                titles=frame[C.TCONST].to_list(),
                in_genre=sum(genre in g for g in genres),
                well_known=sum(v >= min_votes for v in votes),
                reasons=frame[C.REASON].to_list(),
            )
        )
    return out


def max_overlap(checks: Sequence[FanCheck]) -> float:
    """The largest Jaccard overlap between two fans' lists."""
    worst = 0.0
    for a, b in combinations(checks, 2):
        sa, sb = set(a.titles), set(b.titles)
        if sa or sb:
            worst = max(worst, len(sa & sb) / len(sa | sb))
    return worst


def main_genre(genres: Sequence[str], base: Mapping[str, int]) -> str | None:
    """The title's least common genre in the catalogue (the most specific one)."""
    known = [g for g in genres if g in base]
    return min(known, key=lambda g: (base[g], g)) if known else None


def similar_checks(
    similar: Any,
    catalog: Any,
    titles: pl.DataFrame,
    n: int = 10,
    min_votes: int = 20_000,
    famous: Sequence[str] = FAMOUS,
) -> list[dict[str, Any]]:
    """For each famous film: its main genre, how many of ``similar(tconst, n)`` share it and how
    many have ``min_votes`` or more votes."""
    counts = titles.select(pl.col(C.GENRES).explode()).group_by(C.GENRES).len()
    base = dict(zip(counts[C.GENRES].to_list(), counts["len"].to_list(), strict=True))
    rows = []
    for tconst in famous:
        row = catalog.title(tconst)
        if row is None:
            continue
        genre = main_genre(row.get(C.GENRES) or [], base)
        ids = similar(tconst, n)
        frame = catalog.titles(ids)
        rows.append(
            {
                "tconst": tconst,
                "title": row[C.TITLE],
                "genre": genre,
                "shown": frame[C.TITLE].to_list(),
                "same_genre": sum(genre in (g or []) for g in frame[C.GENRES].to_list()),
                "well_known": sum(v >= min_votes for v in frame[C.VOTES].fill_null(0).to_list()),
                "n": frame.height,
            }
        )
    return rows
