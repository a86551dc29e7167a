"""Weighted hybrid of the content, ALS and popularity scorers.

**Normalisation.** Raw scores live on unrelated scales (cosines in [-1, 1], ALS dot products
around 0..1.5, popularity 0..~90), so each scorer's scores are first put on a common scale over
the candidate set. The default is the z-score ``z_i = (s_i - mean) / std`` over the candidates the
scorer could score. Chosen by measurement on ml-latest-small (default temporal protocol, K=10,
best weights of a sweep for each; ``bench/quality.py --sweep``): z-score NDCG@10 0.141, min-max
0.140, robust z (median / IQR) 0.140, z over the top 100 only 0.129, percentile rank below 0.09
(and min-max drops to 0.096 at the z-score's best weights, so it is also more fragile). z-scores
keep how far a title stands out from the rest (rank throws that away; min-max lets one outlier,
e.g. the single most popular title, squash everyone else) and cost O(n), where ranks need a sort
that is too slow for the 1M-title feed target. ``"minmax"`` and ``"rank"`` stay available.

**Blend.** ``score_i = sum_k w_k z_ki / sum_k w_k`` with weights ``(content, als, popularity)``.

**The NaN rule (one place: :func:`blend`).** A scorer that cannot score a candidate (NaN: an
item it never saw, such as a TV show for ALS trained on MovieLens, or a user it has no signal
for) contributes ``0`` for that candidate *after* normalisation -- for z-scores that is the
candidate-set mean, i.e. "no evidence either way" -- and the weights are **not** renormalised,
so a candidate scored by fewer scorers is not inflated. A candidate that no scorer with a
positive weight could score gets NaN and ranks after every scored candidate (the feed orders
those by popularity, the one signal every catalogue title has). The feed's per-section fast path
(``Recommender._blend_zscore``) computes the same numbers in fused form; tests compare the two.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Self

import numpy as np
import polars as pl

from recsys.errors import ModelError
from recsys.models.als import ALSConfig, ALSScorer
from recsys.models.base import ProfileLike, config_from_dict, config_to_dict, read_json, require, write_json
from recsys.models.content import TfidfConfig, TfidfScorer
from recsys.models.popularity import PopularityConfig, PopularityScorer
from recsys.progress import Progress

log = logging.getLogger(__name__)

Normalisation = Literal["zscore", "minmax", "rank"]
Weights = tuple[float, float, float]
_SAMPLED_TOP = 20_000  # above this many candidates top_n pre-filters with a sampled threshold
SCORER_NAMES = ("content", "als", "popularity")


@dataclass(frozen=True)
class HybridConfig:
    """Default blend weights ``(content, als, popularity)`` and the normalisation.

    The default weights were chosen by measurement (``bench/quality.py --sweep``: a grid over
    content 0..0.7 and popularity 0..0.2 on ml-latest-small, default temporal protocol, best
    NDCG@10); the live weights are a saved setting the evaluation page updates.
    """

    weights: Weights = (0.5, 0.4, 0.1)
    normalisation: Normalisation = "zscore"

    def __post_init__(self) -> None:
        check_weights(self.weights)


def check_weights(weights: Sequence[float]) -> Weights:
    """Validate ``(content, als, popularity)``: three finite, non-negative, not all zero."""
    w = tuple(float(x) for x in weights)
    if len(w) != 3 or not all(np.isfinite(x) and x >= 0 for x in w) or sum(w) <= 0:
        raise ModelError(
            f"Hybrid weights must be three non-negative numbers (content, als, popularity), "
            f"not all zero; got {tuple(weights)}."
        )
    return (w[0], w[1], w[2])


def normalise(scores: np.ndarray, method: Normalisation = "zscore") -> np.ndarray:
    """Put one scorer's scores over the candidate set on a common scale; NaN stays NaN.

    ``zscore``: ``(s - mean) / std`` over the finite scores (all 0 when they are constant).
    ``minmax``: ``(s - min) / (max - min)`` in [0, 1]. ``rank``: percentile rank in [0, 1]
    (ties share the mean rank). E.g. ``zscore([1, 2, 3, nan]) = [-1.22, 0, 1.22, nan]``.
    """
    return normalise_with_scale(scores, method)[0]


def normalise_with_scale(scores: np.ndarray, method: Normalisation = "zscore") -> tuple[np.ndarray, float]:
    """:func:`normalise` plus the divisor it applied (std, or max - min; 0 when constant), which
    turns a raw score contribution into a normalised one (used for the reasons)."""
    scores = np.asarray(scores, dtype=np.float64)
    finite = np.isfinite(scores)
    n = int(np.count_nonzero(finite))
    if n == 0:
        return np.full(scores.shape, np.nan), 0.0
    if method == "zscore":
        # sums over the finite scores in a few vectorised passes (no masked copies)
        filled = scores if n == len(scores) else np.where(finite, scores, 0.0)
        mean = float(filled.sum()) / n
        var = max(float(np.dot(filled, filled)) / n - mean * mean, 0.0)
        std = math.sqrt(var)
        if std <= 1e-9 * max(1.0, abs(mean)):
            return np.where(finite, 0.0, np.nan), 0.0
        return (scores - mean) / std, std
    if method == "minmax":
        lo = float(np.min(scores, where=finite, initial=np.inf))
        hi = float(np.max(scores, where=finite, initial=-np.inf))
        if hi - lo <= 1e-12:
            return np.where(finite, 0.0, np.nan), 0.0
        return (scores - lo) / (hi - lo), hi - lo
    if method == "rank":
        from scipy.stats import rankdata

        out = np.full(scores.shape, np.nan)
        out[finite] = (rankdata(scores[finite]) - 1) / max(n - 1, 1)
        return out, float(np.std(scores[finite]))
    raise ModelError(f"Unknown normalisation {method!r}; use zscore, minmax or rank.")


def blend(normalised: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """The weighted blend of normalised scores, with the hybrid's single NaN rule.

    NaN contributes 0 (weights not renormalised); a candidate that no positively weighted scorer
    could score is NaN. Example: weights (0.5, 0.5, 0), content z = [1, nan, nan], ALS z =
    [1, 2, nan] -> [1.0, 1.0, nan].
    """
    w = check_weights(weights)
    size = len(normalised[0])
    total = np.zeros(size, dtype=np.float64)
    unscored: np.ndarray | None = np.ones(size, dtype=bool)
    for z, wk in zip(normalised, w, strict=True):
        if wk == 0:
            continue
        nan = np.isnan(z)
        if nan.any():
            total += wk * np.where(nan, 0.0, z)
            if unscored is not None:
                unscored &= nan
        else:
            total += wk * z
            unscored = None  # every candidate scored by this scorer
    total /= sum(w)
    if unscored is not None:
        total[unscored] = np.nan
    return total


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` best finite scores, best first (ties: lower position first)."""
    if n <= 0 or len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    nan = np.isnan(scores)
    s = np.where(nan, -np.inf, scores) if nan.any() else scores
    if len(s) > _SAMPLED_TOP and n * 64 < len(s):
        # a strided sample's best values give a threshold that usually leaves a few hundred
        # candidates; exact whenever at least n pass it (the n-th best is then above it too)
        sample = s[:: len(s) // 4096]
        kth = min(len(sample) - 1, 2 + n * 4096 // len(s))
        threshold = np.partition(sample, len(sample) - 1 - kth)[len(sample) - 1 - kth]
        if np.isfinite(threshold):
            part = np.flatnonzero(s >= threshold)
            if len(part) >= n:
                sub = top_n(s[part], n)
                return part[sub]
    if len(s) > n:
        cut = len(s) - n
        threshold = s[np.argpartition(s, cut)[cut:]].min()
        # every candidate tied with the n-th best competes, so ties resolve by position
        part = np.flatnonzero(s >= threshold) if np.isfinite(threshold) else np.flatnonzero(np.isfinite(s))
    else:
        part = np.flatnonzero(np.isfinite(s))
    order = np.lexsort((part, -s[part]))
    return part[order][:n]


@dataclass
class WeightedHybrid:
    """Content + ALS + popularity, normalised and blended; see the module docstring."""

    content: TfidfScorer = field(default_factory=TfidfScorer)
    als: ALSScorer = field(default_factory=ALSScorer)
    popularity: PopularityScorer = field(default_factory=PopularityScorer)
    config: HybridConfig = field(default_factory=HybridConfig)
    name: str = "hybrid"

    @classmethod
    def from_configs(
        cls,
        tfidf: TfidfConfig | None = None,
        als: ALSConfig | None = None,
        popularity: PopularityConfig | None = None,
        hybrid: HybridConfig | None = None,
    ) -> WeightedHybrid:
        return cls(
            TfidfScorer(tfidf), ALSScorer(als), PopularityScorer(popularity), hybrid or HybridConfig()
        )

    def fit(
        self,
        titles: pl.DataFrame,
        movielens_ratings: pl.DataFrame | None,
        app_interactions: pl.DataFrame | None = None,
        progress: Progress | None = None,
    ) -> Self:
        self.content.fit(titles, progress)
        self.als.fit(movielens_ratings, app_interactions, progress)
        self.popularity.fit(titles, movielens_ratings, app_interactions)
        return self

    @property
    def scorers(self) -> tuple[TfidfScorer, ALSScorer, PopularityScorer]:
        return self.content, self.als, self.popularity

    def components(self, profile: ProfileLike, candidates: Sequence[str]) -> list[np.ndarray]:
        """Raw scores of (content, als, popularity) for the candidates."""
        return [s.score(profile, candidates) for s in self.scorers]

    def combine(self, raw: Sequence[np.ndarray], weights: Sequence[float] | None = None) -> np.ndarray:
        """Normalise raw component scores over the candidates and blend them."""
        w = self.config.weights if weights is None else weights
        return blend([normalise(r, self.config.normalisation) for r in raw], w)

    def score(
        self,
        profile: ProfileLike,
        candidates: Sequence[str],
        weights: Sequence[float] | None = None,
    ) -> np.ndarray:
        """Blended score per candidate (NaN when no positively weighted scorer could score it)."""
        return self.combine(self.components(profile, candidates), weights)

    def candidate_scorer(
        self, candidates: Sequence[str], weights: Sequence[float] | None = None
    ) -> Callable[[ProfileLike], np.ndarray]:
        """``score`` for a fixed candidate list (each scorer prepares its candidates once)."""
        parts = [s.candidate_scorer(candidates) for s in self.scorers]
        return lambda profile: self.combine([p(profile) for p in parts], weights)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for scorer in self.scorers:
            scorer.save(directory / scorer.name)
        write_json(directory / "hybrid.json", config_to_dict(self.config))

    @classmethod
    def load(cls, directory: Path) -> Self:
        require(directory, "hybrid.json")
        return cls(
            TfidfScorer.load(directory / "content"),
            ALSScorer.load(directory / "als"),
            PopularityScorer.load(directory / "popularity"),
            config_from_dict(HybridConfig, read_json(directory / "hybrid.json")),
        )
