"""The one function the feed calls: ranked titles of one kind for one user.

Until a trained recommender is available this ranks by popularity within the user's favourite
genres; every title the user already rated is excluded. The result is a polars frame with the
catalogue columns plus ``score``, ``rank`` and ``reason``.
"""

from __future__ import annotations

import polars as pl

from recsys.catalog.queries import Catalog
from recsys.columns import Columns as C
from recsys.store import Store, User


def recommend_for_user(
    user: User, kind: str, n: int, *, catalog: Catalog, store: Store
) -> pl.DataFrame:
    """Top ``n`` titles of ``kind`` ("movie" or "tv") for ``user``, best first."""
    if kind not in ("movie", "tv"):
        raise ValueError(f"kind must be 'movie' or 'tv', got {kind!r}")
    rated = sorted(store.rated_tconsts(user.id))
    genres = list(user.favourite_genres)
    frame = catalog.by_genres(genres, kind, limit=n, exclude=rated) if genres else pl.DataFrame()
    if frame.height < n:
        # not enough titles in the favourite genres: top up with the most popular of the rest
        seen = rated + (frame[C.TCONST].to_list() if frame.height else [])
        extra = catalog.by_genres(catalog.genres(), kind, limit=n - frame.height, exclude=seen)
        frame = pl.concat([frame, extra], how="diagonal_relaxed") if frame.height else extra
    if frame.height == 0:
        return frame
    liked = set(genres)
    reasons = [
        "Popular in " + ", ".join([g for g in gs if g in liked][:2])
        if any(g in liked for g in gs)
        else "Popular on IMDb"
        for gs in frame[C.GENRES].to_list()
    ]
    return frame.with_columns(
        pl.col(C.POPULARITY).alias(C.SCORE),
        pl.Series(C.RANK, range(1, frame.height + 1)),
        pl.Series(C.REASON, reasons),
    )
