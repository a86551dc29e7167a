"""A profile without likes yet: the most popular titles in the favourite genres, then the rest
("Popular in Crime"), the first rung of the cold start (:mod:`recsys.models.config`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from recsys.models import registry
from recsys.models.hybrid import normalise_with_scale, top_n
from recsys.models.reasons import popular_reason
from recsys.models.results import frame
from recsys.models.sections import Section


def popular_in_genres(sec: Section, n: int, favourite_genres: Sequence[str], removed: np.ndarray) -> pl.DataFrame:
    """No likes yet: popular in the favourite genres first, then the rest.

    "Popular" is the number of positive interactions in the training data where the section
    has them (films, from MovieLens and the testers), IMDb popularity below them and in a
    section without any (TV before testers rate shows): on validation, ranking by interaction
    counts scored NDCG@10 0.0791 against 0.0609 for IMDb popularity."""
    in_genre = np.zeros(len(sec), dtype=bool)
    for g in favourite_genres:
        mask = sec.genre_masks.get(g)
        if mask is not None:
            in_genre |= mask
    pop = sec.popularity.copy()
    if sec.positives is not None:  # counts first; IMDb popularity (0..~100) orders the rest
        pop = sec.positives * 1000.0 + np.nan_to_num(pop, nan=0.0)
    pop[removed] = np.nan
    top = top_n(np.where(in_genre, pop, np.nan), n)
    if len(top) < n:
        top = np.concatenate([top, top_n(np.where(in_genre, np.nan, pop), n - len(top))])
    z, _ = normalise_with_scale(pop)
    reasons = [popular_reason(sec.genres[i], favourite_genres) for i in top]
    nan = np.full(len(top), np.nan)
    components = dict.fromkeys(registry.names(), nan)
    components["popularity"] = z[top]
    return frame(sec.tconsts[top].tolist(), z[top], reasons, components)


__all__ = ["popular_in_genres"]
