"""Taste distributions and their divergence: the math shared by the calibrated re-ranking stage
(:mod:`recsys.models.rerank.calibration`) and the taste metrics of the evaluation.

**A taste distribution** over categories (genres, or languages) of a set of titles with weights
``w_t`` (Steck 2018, eq. 1): each title spreads its weight evenly over its categories,
``p(g) = sum_t w_t [g in G_t] / |G_t| / sum_t w_t``. Titles without a category are left out. For a
user's history the weights are recency weights (``recency ** age``, the latest title 1); for a
top-K list they are 1 per title.

**Miscalibration** is ``KL(p || q~) = sum_g p(g) log(p(g) / q~(g))`` with the list's distribution
smoothed towards the history, ``q~ = (1 - alpha) q + alpha p`` (Steck's ``alpha = 0.01``), so it
stays finite when the list misses a category the user likes. 0 means the list has exactly the
user's proportions. Example: p = {Horror: 1.0}, q = {Drama: 1.0}: q~(Horror) = 0.01, KL =
log(100) = 4.61; q = {Horror: 0.5, Drama: 0.5}: KL = log(1 / 0.505) = 0.68.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

#: Steck's smoothing of the list distribution towards the user's (RecSys 2018, section 3).
ALPHA = 0.01


def distribution(categories: Iterable[Sequence[str]], weights: Iterable[float] | None = None) -> dict[str, float]:
    """``{category: share}`` of titles with ``categories`` (one sequence per title) and optional
    ``weights`` (default 1 each); shares sum to 1, empty when no title has a category."""
    totals: dict[str, float] = {}
    mass = 0.0
    ws = weights if weights is not None else _ones()
    for cats, w in zip(categories, ws, strict=False):
        if not all(cats):  # an empty or missing category does not count
            cats = [c for c in cats if c]
        if not cats or w <= 0:
            continue
        share = float(w) / len(cats)
        for c in cats:
            totals[c] = totals.get(c, 0.0) + share
        mass += float(w)
    return {c: v / mass for c, v in totals.items()} if mass > 0 else {}


def recency_weights(n: int, recency: float = 0.95) -> list[float]:
    """Weights of ``n`` titles oldest first: ``recency ** age``, the latest title 1."""
    return [recency ** (n - 1 - i) for i in range(n)]


def kl_divergence(p: Mapping[str, float], q: Mapping[str, float], alpha: float = ALPHA) -> float:
    """``KL(p || (1 - alpha) q + alpha p)`` in nats (see the module docstring); 0 for an empty ``p``."""
    total = 0.0
    for c, pc in p.items():
        if pc <= 0:
            continue
        qc = (1.0 - alpha) * q.get(c, 0.0) + alpha * pc
        total += pc * math.log(pc / qc)
    return max(total, 0.0)


def _ones() -> Iterable[float]:
    while True:
        yield 1.0
