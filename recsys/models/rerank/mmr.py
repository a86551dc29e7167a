"""Maximal marginal relevance (Carbonell and Goldstein 1998): each next title trades its score
against its genre overlap with the titles already listed::

    (1 - strength) * r_i  -  strength * max_{j in list} jaccard(G_i, G_j)

``r_i`` the blended score min-max scaled over the pool. Off by default (strength 0): calibration
already spreads a list over the person's genres; MMR is there for lists that should be diverse
beyond the taste (a demo, an exploration row).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from recsys.models.rerank.base import Pool, Taste


class MMRDiversity:
    name: ClassVar[str] = "mmr"

    def rerank(self, pool: Pool, taste: Taste, n: int, strength: float) -> Pool:
        if strength <= 0 or len(pool) <= 1:
            return pool
        s = np.nan_to_num(np.asarray(pool.scores, dtype=np.float64), nan=float(np.nanmin(pool.scores)))
        lo, hi = float(s.min()), float(s.max())
        rel = (s - lo) / (hi - lo) if hi > lo else np.zeros_like(s)
        sets = [frozenset(g) for g in pool.genres]
        worst = np.zeros(len(s))  # max similarity to the list so far
        taken = np.zeros(len(s), dtype=bool)
        order: list[int] = []
        for _ in range(min(n, len(s))):
            objective = (1.0 - strength) * rel - strength * worst
            objective[taken] = -np.inf
            best = int(np.argmax(objective))
            order.append(best)
            taken[best] = True
            chosen = sets[best]
            for i, g in enumerate(sets):
                if not taken[i] and (g or chosen):
                    worst[i] = max(worst[i], len(g & chosen) / len(g | chosen))
        rest = np.setdiff1d(np.arange(len(s)), order, assume_unique=True)
        return pool.take(np.concatenate([np.asarray(order, dtype=np.int64), rest]))
