"""Family filter: a family profile is never shown mature titles.

A profile is a family one when most of its likes are Family / Animation titles and none is
mature (:meth:`recsys.models.rerank.base.Taste.of`); mature titles are those with a genre of
:data:`~recsys.models.audience.FAMILY_UNSUITABLE` (chosen from the catalogue: genres of which
under 1% of the titles are also Family) or ``Adult``. Strength > 0 turns the filter on.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from recsys.models.audience import FAMILY_UNSUITABLE
from recsys.models.rerank.base import Pool, Taste


class MaturityFilter:
    name: ClassVar[str] = "maturity"

    def rerank(self, pool: Pool, taste: Taste, n: int, strength: float) -> Pool:
        if strength <= 0 or not taste.family:
            return pool
        if pool.facts is not None:  # precomputed per title of the candidate set
            return pool.take(np.flatnonzero(~pool.facts.unsuitable[pool.positions]))
        keep = [i for i, gs in enumerate(pool.genres) if not FAMILY_UNSUITABLE.intersection(gs)]
        return pool.take(np.asarray(keep, dtype=np.int64))
