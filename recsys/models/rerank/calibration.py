"""Calibrated re-ranking (Steck, "Calibrated recommendations", RecSys 2018): the list's genre and
language proportions follow the person's.

The list is built greedily from the pool. With ``p`` the user's taste distribution
(:class:`~recsys.models.rerank.base.Taste`: recency-weighted shares of the likes) and ``q(L)`` the
distribution of a list ``L`` (each title spreads 1 over its genres), step ``t`` adds the title
``i`` maximising::

    (1 - strength) * r_i  -  strength * ( KL(p_genre || q~(L + i)) + KL(p_lang || q~(L + i)) )

``r_i = 1 / log2(rank_i + 1)`` is the position discount of the title's rank in the blend (so the
trade is against what NDCG counts), ``q~`` Steck's smoothing (:mod:`recsys.models.rerank.
distribution`, alpha 0.01). strength 0 keeps the blend's order; 1 only matches proportions.
Measured on validation (ml-latest-small, mirror catalogue, 597 users): at strength 0.25 the rank
discount kept NDCG@10 at 0.1349 (-1.6%) with miscalibration -38%, where a min-max scaled score
gave 0.1336 (-2.6%) for -24%.

**Distinctive tastes are calibrated more.** The strength is scaled by how concentrated the
genre taste is, its Herfindahl index ``h = sum_g p(g)^2``: ``strength * clip((h - 0.12) / 0.15,
0, 1)``. A typical MovieLens history spreads over many genres (median h 0.143, 90th percentile
0.215) and its next likes are the head titles the blend already ranks; a person whose likes are
one genre (h 0.23 to 0.59 for 13 liked films of one genre, horror 0.27, documentary 0.59) gets
the full strength, which is what brings their genre to 6+ of 10. Languages are calibrated on two buckets and the rest: each non-English
language, and "English or unknown" together, so an English-speaking profile is not pushed away
from titles whose language the catalogue does not know, while someone whose likes are mostly
Japanese films gets mostly Japanese films. Cost: ``n`` steps over the pool, each a
``pool x categories`` array operation (about 1 ms for 20 of 300).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy as np

from recsys.models.rerank.base import Pool, Taste
from recsys.models.rerank.distribution import ALPHA

DEFAULT_LANGUAGE = "_default"  # English or unknown


def language_bucket(code: str | None) -> str:
    return code if code and code != "en" else DEFAULT_LANGUAGE


class Calibration:
    name: ClassVar[str] = "calibration"

    def rerank(self, pool: Pool, taste: Taste, n: int, strength: float) -> Pool:
        if strength <= 0 or len(pool) <= 1 or not (taste.genres or taste.languages):
            return pool
        targets: list[np.ndarray] = []
        columns: list[np.ndarray] = []
        if taste.genres:
            p, m = _share_matrix(taste.genres, pool.genres)
            targets.append(p)
            columns.append(m)
        languages = _buckets(taste.languages)
        if len(languages) > 1 or (languages and DEFAULT_LANGUAGE not in languages):
            p, m = _share_matrix(languages, [[language_bucket(c)] for c in pool.languages])
            targets.append(p)
            columns.append(m)
        strength *= concentration(taste.genres) if taste.genres else 1.0
        if not targets or strength <= 0:
            return pool
        order = greedy(len(pool), targets, columns, min(n, len(pool)), strength)
        rest = np.setdiff1d(np.arange(len(pool)), order, assume_unique=True)
        return pool.take(np.concatenate([order, rest]))


def concentration(genres: Mapping[str, float], low: float = 0.18, high: float = 0.24) -> float:
    """How distinctive a taste is, in [0, 1]: its Herfindahl index ``sum p^2`` mapped linearly from
    ``low`` (0) to ``high`` (1). Example: 8 equal genres (0.125) -> 0.03; {Horror 0.5, Thriller
    0.25, Mystery 0.25} (0.375) -> 1."""
    h = sum(v * v for v in genres.values())
    return float(min(1.0, max(0.0, (h - low) / (high - low))))


def greedy(
    size: int, targets: Sequence[np.ndarray], shares: Sequence[np.ndarray], n: int, strength: float
) -> np.ndarray:
    """Steck's greedy list of ``n`` indices into a pool of ``size`` titles in blend order (see
    the module docstring). ``targets[k]``: the user's distribution over category set ``k``;
    ``shares[k]``: pool x categories, each title's share of each category."""
    rel = 1.0 / np.log2(np.arange(size, dtype=np.float64) + 2.0)
    counts = [np.zeros(len(p)) for p in targets]
    taken = np.zeros(size, dtype=bool)
    order: list[int] = []
    for t in range(n):
        kl = np.zeros(size)
        for p, m, c in zip(targets, shares, counts, strict=True):
            q = (c[None, :] + m) / (t + 1)
            kl += np.sum(p * np.log(p / ((1.0 - ALPHA) * q + ALPHA * p)), axis=1)
        objective = (1.0 - strength) * rel - strength * kl
        objective[taken] = -np.inf
        best = int(np.argmax(objective))
        order.append(best)
        taken[best] = True
        for m, c in zip(shares, counts, strict=True):
            c += m[best]
    return np.asarray(order, dtype=np.int64)


def _buckets(languages: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for code, share in languages.items():
        key = language_bucket(code)
        out[key] = out.get(key, 0.0) + share
    return out


def _share_matrix(target: Mapping[str, float], items: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The target as a vector over its categories, and pool x categories shares (each title
    spreads 1 over all its categories, so a category outside the target still takes its part)."""
    names = [c for c, v in target.items() if v > 0]
    col = {c: j for j, c in enumerate(names)}
    m = np.zeros((len(items), len(names)))
    for i, cats in enumerate(items):
        cats = [c for c in cats if c]
        for c in cats:
            j = col.get(c)
            if j is not None:
                m[i, j] += 1.0 / len(cats)
    return np.asarray([target[c] for c in names], dtype=np.float64), m
