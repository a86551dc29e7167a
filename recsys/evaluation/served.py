"""The *served* ranking offline: the blend with the live weights, then every ranking stage, as the
feed ranks (one code path: :func:`recsys.models.rerank.registry.apply`).

**Choosing the strengths (issue 18).** Every combination of the stages' grids
(:attr:`~recsys.models.rerank.registry.StageSpec.grid`) is evaluated on the *validation* split;
the chosen setting is the strongest one whose validation NDCG@10 stays within ``TOLERANCE`` (2%)
of the best setting's, "strongest" compared stage by stage in :data:`PRIORITY` order (the highest
calibration first, since the taste targets rest on it; then the highest popularity correction).
The test split is then ranked once with that setting. A stage with a one-value grid (the family filter; MMR, off) keeps that
value.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from recsys.columns import Columns as C
from recsys.evaluation.scoring import ScoreFn, SplitIndex, history_profile
from recsys.models.base import ItemIndex, Profile
from recsys.models.hybrid import blend
from recsys.models.rerank import registry as rerank
from recsys.models.rerank.base import CatalogueShares, Pool, Taste
from recsys.models.rerank.registry import Strengths
from recsys.models.sections import catalogue_shares

log = logging.getLogger(__name__)

#: Validation NDCG@10 a chosen setting may give up against the best setting (issue 18: 2%).
TOLERANCE = 0.02
#: The order in which stages' strengths decide which setting is "strongest"; stages not listed
#: come after, in registry order.
PRIORITY = ("calibration", "popularity")


@dataclass(frozen=True)
class ItemFacts:
    """Genres, language and ``ln(1 + votes)`` of every item of a split, in ``split.items`` order."""

    genres: list[list[str]]
    languages: list[str | None]
    log_votes: np.ndarray
    catalogue: CatalogueShares | None = None
    index: ItemIndex | None = None

    @classmethod
    def of(cls, index: SplitIndex, titles: pl.DataFrame) -> ItemFacts:
        return cls.of_items(list(index.split.items), titles)

    @classmethod
    def of_items(
        cls, tconsts: Sequence[str], titles: pl.DataFrame, catalogue: CatalogueShares | None = None
    ) -> ItemFacts:
        """The facts of ``tconsts`` (in that order) from the catalogue frame; ``catalogue``: its
        shares when already computed (they do not depend on ``tconsts``)."""
        items = pl.DataFrame({C.TCONST: list(tconsts)}, schema={C.TCONST: pl.String})
        cols = [c for c in (C.TCONST, C.GENRES, C.LANGUAGE, C.VOTES) if c in titles.columns]
        joined = items.join(titles.select(cols).unique(C.TCONST), on=C.TCONST, how="left", maintain_order="left")
        n = joined.height
        genres = [list(g or ()) for g in joined[C.GENRES].to_list()] if C.GENRES in cols else [[] for _ in range(n)]
        languages = joined[C.LANGUAGE].to_list() if C.LANGUAGE in cols else [None] * n
        votes = joined[C.VOTES].cast(pl.Float64).fill_null(np.nan).to_numpy() if C.VOTES in cols else np.full(n, np.nan)
        shares = catalogue if catalogue is not None else catalogue_shares(titles)
        return cls(genres, languages, np.log1p(np.clip(votes, 0.0, None)), shares, ItemIndex(list(tconsts)))

    def pool(self, positions: np.ndarray, scores: np.ndarray) -> Pool:
        return Pool.gather(positions, scores, self.genres, self.languages, self.log_votes)

    def staged(
        self,
        blended: np.ndarray,
        removed: np.ndarray,
        profile: Profile | Taste,
        strengths: Mapping[str, float],
        k: int,
    ) -> np.ndarray:
        """``blended`` scores re-ranked by the stages for ``profile`` (its liked titles among these
        items give the taste) or a ready ``Taste``: the blend's best ``POOL_SIZE`` items outside
        ``removed`` go through the stages, whose top ``k`` get descending scores above every other
        item (NaN), so :func:`~recsys.evaluation.scoring.evaluate` keeps their order."""
        if not rerank.active(strengths):
            return blended
        s = np.where(np.isfinite(blended), blended, -np.inf)
        s[removed] = -np.inf
        size = min(len(s), max(rerank.POOL_SIZE, 3 * k))
        pool = np.argpartition(-s, size - 1)[:size]
        pool = pool[np.lexsort((pool, -s[pool]))]
        pool = pool[np.isfinite(s[pool])]
        taste = profile if isinstance(profile, Taste) else self.taste_of(profile)
        top = rerank.apply(self.pool(pool, s[pool]), taste, k, strengths)
        out = np.full(len(s), np.nan)
        out[top] = np.arange(len(top), 0, -1, dtype=np.float64)
        return out

    def taste_of(self, profile: Profile) -> Taste:
        """The taste of a profile over these items, as the feed computes it."""
        pos = self.lookup(profile.tconsts)
        known = pos >= 0
        at = pos[known]
        return Taste.of(
            [self.genres[i] for i in at],
            [self.languages[i] for i in at],
            self.log_votes[at].tolist(),
            profile.values[known].tolist(),
            profile.genres,
            catalogue=self.catalogue,
        )

    def lookup(self, tconsts: Sequence[str]) -> np.ndarray:
        assert self.index is not None
        return self.index.lookup(list(tconsts))

    def taste(self, index: SplitIndex, user: int) -> Taste:
        """The taste of a user's training history, as the feed computes it for a profile."""
        return self.taste_of(history_profile(index.histories[user], index.split))


def served_fn(
    index: SplitIndex,
    normalised: Mapping[int, Mapping[str, np.ndarray]],
    weights: Mapping[str, float],
    facts: ItemFacts,
    strengths: Mapping[str, float],
    k: int,
    tastes: dict[int, Taste] | None = None,
) -> ScoreFn:
    """Score function of the served ranking (:meth:`ItemFacts.staged` over the blend, the user's
    training items removed); ``tastes`` caches each user's taste across settings."""
    tastes = tastes if tastes is not None else {}

    def fn(user: int, history: pl.DataFrame) -> np.ndarray:
        blended = blend(normalised[user], weights)
        taste = tastes.get(user)
        if taste is None:
            taste = tastes[user] = facts.taste(index, user)
        return facts.staged(blended, index.positions(history), taste, strengths, k)

    return fn


def strength_grid() -> list[Strengths]:
    """Every combination of the registered stages' grids, weakest first."""
    names = rerank.names()
    grids = [rerank.STAGES[n].grid or (rerank.STAGES[n].default,) for n in names]
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grids)]


def strength_of(strengths: Mapping[str, float]) -> tuple[float, ...]:
    """How strong a setting is, comparable as a tuple: each stage's strength in
    :data:`PRIORITY` order, then the other stages in registry order."""
    order = [*PRIORITY, *(n for n in rerank.names() if n not in PRIORITY)]
    return tuple(float(strengths.get(n, 0.0)) for n in order)


def choose(settings: Sequence[Strengths], ndcg: Sequence[float], tolerance: float = TOLERANCE) -> int:
    """Index of the strongest setting (:func:`strength_of`) whose NDCG is within ``tolerance`` of
    the best. Example: NDCG [0.140, 0.139, 0.130] for calibration 0, 0.5, 1 -> 1 (0.139 >= 0.98 *
    0.140; 0.130 is not)."""
    best = max(ndcg)
    ok = [i for i, v in enumerate(ndcg) if v >= (1.0 - tolerance) * best]
    return max(ok, key=lambda i: (strength_of(settings[i]), ndcg[i], -i))


def label(strengths: Mapping[str, float]) -> str:
    """``"calibration 0.50, popularity 0.30"`` (stages with a grid only; "none" when all off)."""
    parts = [f"{n} {v:.2f}" for n, v in strengths.items() if len(rerank.STAGES[n].grid) > 1 and v > 0]
    return ", ".join(parts) or "none"
