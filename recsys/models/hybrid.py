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

**Blend.** ``score_i = sum_k w_k z_ki / sum_k w_k`` over the registered scorers
(:mod:`recsys.models.registry`), with weights a ``{name: weight}`` mapping.

**The NaN rule (one place: :func:`blend`).** A scorer that cannot score a candidate (NaN: an
item it never saw, such as a TV show for ALS trained on MovieLens, or a user it has no signal
for) contributes ``0`` for that candidate *after* normalisation -- for z-scores that is the
candidate-set mean, i.e. "no evidence either way" -- and the weights are **not** renormalised,
so a candidate scored by fewer scorers is not inflated. A candidate that no scorer with a
positive weight could score gets NaN and ranks after every scored candidate (the feed orders
those by popularity, the one signal every catalogue title has).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np

from recsys.errors import ModelError
from recsys.models import registry
from recsys.models.base import (
    Profile,
    ProfileLike,
    Scorer,
    TrainingData,
    config_to_dict,
    read_json,
    require,
    write_json,
)
from recsys.models.registry import Weights, check_weights
from recsys.progress import Progress

log = logging.getLogger(__name__)

Normalisation = Literal["zscore", "minmax", "rank"]
_SAMPLED_TOP = 10_000  # above this many candidates top_n pre-filters with a sampled threshold


@dataclass(frozen=True)
class HybridConfig:
    """Default blend weights ``{scorer name: weight}`` and the normalisation.

    The default weights are the registry's, chosen on validation (``python -m recsys tune``);
    the live weights are a saved setting the evaluation page updates.
    """

    weights: Mapping[str, float] = field(default_factory=registry.default_weights)
    normalisation: Normalisation = "zscore"

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", check_weights(self.weights))


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


def blend(normalised: Mapping[str, np.ndarray], weights: Mapping[str, float]) -> np.ndarray:
    """The weighted blend of normalised scores ``{name: z}``, with the hybrid's single NaN rule.

    NaN contributes 0 (weights not renormalised); a candidate that no positively weighted scorer
    could score is NaN; a scorer missing from ``normalised`` counts as NaN everywhere. Example:
    weights ``{content: 0.5, als: 0.5}``, content z = [1, nan, nan], ALS z = [1, 2, nan] ->
    [1.0, 1.0, nan].
    """
    w = {k: float(v) for k, v in weights.items()}
    total_w = sum(w.values())
    if not normalised or total_w <= 0:
        raise ModelError("Nothing to blend: give at least one scorer a positive weight.")
    size = len(next(iter(normalised.values())))
    total = np.zeros(size, dtype=np.float64)
    unscored: np.ndarray | None = np.ones(size, dtype=bool)
    for name, wk in w.items():
        z = normalised.get(name)
        if wk == 0 or z is None:
            continue
        nan = np.isnan(z)
        if nan.any():
            total += wk * np.where(nan, 0.0, z)
            if unscored is not None:
                unscored &= nan
        else:
            total += wk * z
            unscored = None  # every candidate scored by this scorer
    total /= total_w
    if unscored is not None:
        total[unscored] = np.nan
    return total


def zscore_blend(
    raws: Mapping[str, np.ndarray], weights: Mapping[str, float], removed: np.ndarray | None = None
) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """:func:`normalise` (z-score) and :func:`blend` fused, for the feed: the same numbers and the
    same NaN rule as ``blend({n: normalise(raw with removed set NaN)}, weights)``, in a few passes
    and without a normalised copy per scorer.

    ``removed`` positions (rated or hidden titles) are left out of every scorer's mean and
    standard deviation by subtracting their sums, and are NaN in the result. Returns the blend
    and ``{name: (mean, std)}`` per scorer (std 0 when constant), from which a component's z-score
    at any position is ``(raw - mean) / std``.
    """
    size = len(next(iter(raws.values()))) if raws else 0
    gone = np.unique(removed) if removed is not None and len(removed) else np.zeros(0, dtype=np.int64)
    total_w = sum(float(v) for v in weights.values())
    if total_w <= 0:
        raise ModelError("Nothing to blend: give at least one scorer a positive weight.")
    total = np.zeros(size, dtype=np.float64)
    const = 0.0
    unscored: np.ndarray | None = np.ones(size, dtype=bool)
    stats: dict[str, tuple[float, float]] = {}
    for name, raw in raws.items():
        w = float(weights.get(name, 0.0))
        nan = np.isnan(raw)
        finite: np.ndarray | None = None
        if nan.any():
            finite = ~nan
            vals = np.where(finite, raw, 0.0)
            count = int(finite.sum()) - int(finite[gone].sum())
        else:
            vals = raw
            count = size - len(gone)
        if count <= 0:
            stats[name] = (math.nan, 0.0)
            continue
        s1 = float(vals.sum()) - float(vals[gone].sum())
        s2 = float(np.dot(vals, vals)) - float(np.dot(vals[gone], vals[gone]))
        mean = s1 / count
        std = math.sqrt(max(s2 / count - mean * mean, 0.0))
        if std <= 1e-9 * max(1.0, abs(mean)):
            std = 0.0
        stats[name] = (mean, std)
        if w == 0:
            continue
        if std > 0:
            coef = w / (std * total_w)
            if finite is None:
                total += vals * coef
                const -= mean * coef
            else:
                total += np.where(finite, (vals - mean) * coef, 0.0)
        if finite is None:
            unscored = None  # this scorer scores every candidate
        elif unscored is not None:
            unscored &= nan
    if const:
        total += const
    if unscored is not None:
        total[unscored] = np.nan
    total[gone] = np.nan
    return total, stats


def zscores_at(
    raw: np.ndarray, stat: tuple[float, float], positions: np.ndarray, removed: np.ndarray | None = None
) -> np.ndarray:
    """The z-scores of ``raw`` at ``positions`` under ``stat`` = (mean, std) from
    :func:`zscore_blend` (0 for a constant scorer; NaN where ``raw`` is NaN or removed)."""
    mean, std = stat
    values = raw[positions]
    z = (values - mean) / std if std > 0 else np.where(np.isnan(values), np.nan, 0.0)
    if removed is not None and len(removed):
        z[np.isin(positions, removed, assume_unique=False, kind="sort")] = np.nan
    return z


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` best finite scores, best first (ties: lower position first)."""
    if n <= 0 or len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    if len(scores) > _SAMPLED_TOP and n * 64 < len(scores):
        # a strided sample's best values give a threshold that usually leaves a few hundred
        # candidates; exact whenever at least n pass it (the n-th best is then above it too).
        # NaN never passes a comparison, so the full array is read once, never copied. Twice the
        # expected share plus 8: with just the expected share, 152 of 400 mirror feed pools (200)
        # had fewer than n above it and fell back to the full argpartition (0.10 -> 0.06 ms a call)
        sample = scores[:: len(scores) // 4096]
        sample = np.where(np.isnan(sample), -np.inf, sample)
        kth = min(len(sample) - 1, 8 + 2 * n * 4096 // len(scores))
        threshold = np.partition(sample, len(sample) - 1 - kth)[len(sample) - 1 - kth]
        if np.isfinite(threshold):
            part = np.flatnonzero(scores >= threshold)
            if len(part) >= n:
                sub = top_n(scores[part], n)
                found: np.ndarray = part[sub]
                return found
    nan = np.isnan(scores)
    s = np.where(nan, -np.inf, scores) if nan.any() else scores
    if len(s) > n:
        cut = len(s) - n
        threshold = s[np.argpartition(s, cut)[cut:]].min()
        # every candidate tied with the n-th best competes, so ties resolve by position
        part = np.flatnonzero(s >= threshold) if np.isfinite(threshold) else np.flatnonzero(np.isfinite(s))
    else:
        part = np.flatnonzero(np.isfinite(s))
    order = np.lexsort((part, -s[part]))
    return part[order][:n]


class WeightedHybrid:
    """The registered scorers, normalised and blended; see the module docstring.

    ``scorers``: ``{name: scorer}`` (every name registered); ``config``: default weights and
    normalisation. ``score`` / ``candidate_scorer`` take optional weights (a mapping).
    """

    name = "hybrid"

    def __init__(self, scorers: Mapping[str, Scorer], config: HybridConfig | None = None) -> None:
        unknown = [n for n in scorers if n not in registry.SCORERS]
        if unknown:
            raise ModelError(f"Unregistered scorer(s) {unknown}; register them in recsys.models.registry.")
        self.scorers: dict[str, Scorer] = dict(scorers)
        self.config = config or HybridConfig()

    @classmethod
    def from_configs(
        cls, configs: Mapping[str, Any] | None = None, hybrid: HybridConfig | None = None
    ) -> WeightedHybrid:
        """Unfitted scorers for every registered name (``configs[name]`` or the defaults)."""
        configs = configs or {}
        return cls(
            {name: spec.build(configs.get(name)) for name, spec in registry.SCORERS.items()},
            hybrid or HybridConfig(),
        )

    def __getitem__(self, name: str) -> Scorer:
        return self.scorers[name]

    def fit(self, data: TrainingData, progress: Progress | None = None) -> Self:
        for scorer in self.scorers.values():
            scorer.fit(data, progress)
        return self

    def weights(self, weights: Mapping[str, float] | Sequence[float] | None = None) -> Weights:
        """Checked weights (the config's when None)."""
        return check_weights(self.config.weights if weights is None else weights)

    def components(self, profile: ProfileLike, candidates: Sequence[str]) -> dict[str, np.ndarray]:
        """Raw scores per scorer for the candidates."""
        return {name: s.score(profile, candidates) for name, s in self.scorers.items()}

    def combine(
        self, raw: Mapping[str, np.ndarray], weights: Mapping[str, float] | Sequence[float] | None = None
    ) -> np.ndarray:
        """Normalise raw component scores over the candidates and blend them."""
        w = self.weights(weights)
        return blend({n: normalise(r, self.config.normalisation) for n, r in raw.items() if w.get(n)}, w)

    def score(
        self,
        profile: ProfileLike,
        candidates: Sequence[str],
        weights: Mapping[str, float] | Sequence[float] | None = None,
    ) -> np.ndarray:
        """Blended score per candidate (NaN when no positively weighted scorer could score it)."""
        return self.combine(self.components(profile, candidates), weights)

    def candidate_scorer(
        self, candidates: Sequence[str], weights: Mapping[str, float] | Sequence[float] | None = None
    ) -> Callable[[ProfileLike], np.ndarray]:
        """``score`` for a fixed candidate list (each scorer prepares its candidates once)."""
        parts = {n: s.candidate_scorer(candidates) for n, s in self.scorers.items()}
        return lambda profile: self.combine({n: p(Profile.of(profile)) for n, p in parts.items()}, weights)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for name, scorer in self.scorers.items():
            scorer.save(directory / name)
        write_json(directory / "hybrid.json", {**config_to_dict(self.config), "scorers": list(self.scorers)})

    @classmethod
    def load(cls, directory: Path) -> WeightedHybrid:
        require(directory, "hybrid.json")
        meta = read_json(directory / "hybrid.json")
        if not isinstance(meta, dict):
            raise ModelError(f"{directory / 'hybrid.json'} is damaged; run `python -m recsys train`.")
        saved = meta.get("scorers") or list(registry.LEGACY_ORDER)
        missing = [n for n in saved if n not in registry.SCORERS]
        if missing:
            raise ModelError(
                f"The saved model uses scorers this version does not know ({', '.join(missing)}); "
                "run `python -m recsys train`."
            )
        if set(saved) != set(registry.SCORERS):
            raise ModelError("The saved model predates the current scorers; run `python -m recsys train`.")
        weights = meta.get("weights")
        try:
            config = HybridConfig(
                weights=check_weights(weights) if weights is not None else registry.default_weights(),
                normalisation=meta.get("normalisation", "zscore"),
            )
        except ModelError as exc:
            raise ModelError(f"{directory / 'hybrid.json'}: {exc} Run `python -m recsys train`.") from None
        return cls({n: registry.SCORERS[n].load(directory / n) for n in saved}, config)
