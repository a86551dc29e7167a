"""Evaluate a scoring function over a split (the minimal runner the evaluation page builds on).

A *score function* maps ``(user, training history)`` to one score per item of ``split.items``
(the full ranking catalogue; NaN ranks last). :func:`evaluate` removes the user's training items,
takes the top K and computes every metric of :mod:`recsys.evaluation.metrics`.

Adapters turn the recommender's scorers into score functions. MovieLens ratings become app
clicks for the content profile with :func:`history_profile` (rating >= 4 like, 5 superlike,
<= 2 dislike, others dropped); the profile carries ``user_key = "ml:<id>"`` so the ALS scorer uses
the user's trained factors. :func:`component_scores` computes each scorer's raw scores once per
user so that a weight sweep only re-blends (:func:`hybrid_fn`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from recsys.columns import click_values
from recsys.evaluation import metrics as M
from recsys.evaluation.splits import Split
from recsys.models.als import movielens_user_key
from recsys.models.base import ItemIndex, Profile, Scorer
from recsys.models.hybrid import Normalisation, WeightedHybrid, blend, normalise
from recsys.progress import Progress, null_progress

if TYPE_CHECKING:
    from recsys.evaluation.taste import TasteContext

log = logging.getLogger(__name__)

ScoreFn = Callable[[int, pl.DataFrame], np.ndarray]


@dataclass
class EvalResult:
    """Per-user metrics, their means plus list-level measures, and each user's top K. With
    extra cut-offs (:func:`evaluate`'s ``at_ks``): ``at_k`` the mean of every ranking metric at
    each cut-off, ``top_long`` each user's list at the longest one."""

    k: int
    per_user: pl.DataFrame
    summary: dict[str, float]
    top: dict[int, list[str]] = field(repr=False)
    at_k: dict[int, dict[str, float]] = field(default_factory=dict)
    top_long: dict[int, list[str]] = field(default_factory=dict, repr=False)


class SplitIndex:
    """Precomputed lookups of a split: item positions and per-user histories."""

    def __init__(self, split: Split) -> None:
        self.split = split
        self.items = ItemIndex(split.items)
        histories = split.history()
        empty = split.train.clear()
        # a tested user may have no training rating left (every rating at the time of the first
        # held-out one): ranked from nothing, like a brand-new user
        self.histories = {u: histories.get(u, empty) for u in split.users}
        self.relevant = split.relevant()

    def positions(self, history: pl.DataFrame) -> np.ndarray:
        return self.items.lookup(history[self.split.item_col].to_list())


def top_k(scores: np.ndarray, exclude: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best scores, best first, skipping ``exclude`` and NaN; equal scores
    in position order, so a shorter list is always a prefix of a longer one (``top_k(s, e, 20)[:10]
    == top_k(s, e, 10)``: the extra cut-offs rank once at the longest and cut). Example: scores
    [1, 3, 3, 2], k=2 -> [1, 2]; k=1 -> [1] (argpartition alone may pick either tied item)."""
    s = np.where(np.isfinite(scores), scores, -np.inf).astype(np.float64)
    s[exclude] = -np.inf
    k = min(k, len(s))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    part = np.argpartition(-s, k - 1)[:k]
    part = np.flatnonzero(s >= s[part].min())  # every item tied with the k-th joins the ordering
    order = np.lexsort((part, -s[part]))
    best = part[order][:k]
    return best[np.isfinite(s[best])]


def evaluate(
    split: Split | SplitIndex,
    score_fn: ScoreFn,
    k: int = 10,
    *,
    genres: Mapping[str, Sequence[str]] | None = None,
    progress: Progress | None = None,
    taste: TasteContext | None = None,
    at_ks: Sequence[int] = (),
) -> EvalResult:
    """Rank ``split.items`` for every tested user with ``score_fn``; metrics at ``k``.

    ``genres`` adds the genre diversity, ``taste`` (built once per split) the taste metrics
    (:data:`recsys.evaluation.metrics.TASTE`); a per-user taste value that is undefined is null
    and left out of its mean. ``at_ks``: further cut-offs (e.g. 5, 10, 20) at which every ranking
    metric's mean is also reported (``EvalResult.at_k``): the list is ranked once at the longest
    cut-off and cut, so the figures at ``k`` are exactly those of a run without ``at_ks``.
    Example: the list [a, b, c, ...] with relevant {c}: HitRate@2 = 0, HitRate@5 = 1."""
    index = split if isinstance(split, SplitIndex) else SplitIndex(split)
    sp_ = index.split
    progress = progress or null_progress
    rows: list[dict[str, float | None]] = []
    tops: dict[int, list[str]] = {}
    longs: dict[int, list[str]] = {}
    ids = index.items.ids
    ranking = M.ranking_metrics()
    cutoffs = sorted({int(c) for c in at_ks})
    depth = max([k, *cutoffs])
    sums = {c: dict.fromkeys(ranking, 0.0) for c in cutoffs}
    for n, user in enumerate(sp_.users):
        history = index.histories[user]
        scores = score_fn(user, history)
        best = top_k(scores, index.positions(history), depth)
        ranked = ids[best].tolist()
        rec = ranked[:k]
        tops[user] = rec
        rel = index.relevant.get(user, set())
        if cutoffs:
            longs[user] = ranked
            for c in cutoffs:
                for name in ranking:
                    sums[c][name] += M.REGISTRY[name].fn(ranked, rel, c)
        row: dict[str, float | None] = {sp_.user_col: user}
        for name in ranking:
            row[name] = M.REGISTRY[name].fn(rec, rel, k)
        if genres is not None:
            row["diversity"] = M.intra_list_diversity(rec, genres, k)
        if taste is not None:
            row.update(taste.measures(user, rec, k))
        rows.append(row)
        if n % 50 == 0:
            progress("evaluate: users", n, len(sp_.users))
    progress("evaluate: users", len(sp_.users), len(sp_.users))
    per_user = pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.exclude(sp_.user_col).cast(pl.Float64))
    means = per_user.select(pl.exclude(sp_.user_col).mean()).row(0, named=True)
    summary = {c: math.nan if v is None else float(v) for c, v in means.items()}
    share = item_share(sp_)
    summary["coverage"] = M.catalogue_coverage(tops.values(), len(sp_.items), k)
    summary["novelty"] = M.novelty(tops.values(), share, k)
    summary["avg_popularity"] = M.average_popularity(tops.values(), share, k)
    summary["users"] = float(len(sp_.users))
    n_users = max(len(sp_.users), 1)
    at_k = {c: {name: total / n_users for name, total in sums[c].items()} for c in cutoffs}
    return EvalResult(k, per_user, summary, tops, at_k, longs)


def item_share(split: Split) -> dict[str, float]:
    """Share of training users who rated each item (for novelty / popularity bias)."""
    n_users = split.train[split.user_col].n_unique()
    counts = split.train.group_by(split.item_col).agg(pl.col(split.user_col).n_unique().alias("n"))
    return {t: c / n_users for t, c in zip(counts[split.item_col], counts["n"], strict=True)}


def history_profile(
    history: pl.DataFrame,
    split: Split,
    *,
    positive_rating: float = 4.0,
    superlike_rating: float = 5.0,
    negative_rating: float = 2.0,
) -> Profile:
    """A user's training ratings as app clicks: like / superlike / dislike; user_key "ml:<id>"."""
    values = click_values(
        history[split.rating_col].to_numpy(),
        positive_rating=positive_rating,
        superlike_rating=superlike_rating,
        negative_rating=negative_rating,
    )
    user = history[split.user_col][0] if history.height else None
    keep = values != 0
    tconsts = [t for t, k_ in zip(history[split.item_col].to_list(), keep, strict=True) if k_]
    return Profile(
        tuple(tconsts),
        values[keep],
        movielens_user_key(int(user)) if user is not None else None,
    )


def scorer_fn(scorer: Scorer | WeightedHybrid, index: SplitIndex) -> ScoreFn:
    """Score function of one scorer (any registered scorer, or the hybrid) over ``index``.

    For the hybrid, the user's training items are set to NaN before normalising, as the feed
    does with rated titles (:func:`component_scores` does the same for sweeps).
    """
    items = index.split.items
    if isinstance(scorer, WeightedHybrid):
        parts = {name: s.candidate_scorer(items) for name, s in scorer.scorers.items()}

        def blended(user: int, history: pl.DataFrame) -> np.ndarray:
            profile = history_profile(history, index.split)
            removed = index.positions(history)
            raw = {name: part(profile) for name, part in parts.items()}
            for r in raw.values():
                r[removed] = np.nan
            return scorer.combine(raw)

        return blended
    score = scorer.candidate_scorer(items)

    def fn(user: int, history: pl.DataFrame) -> np.ndarray:
        return score(history_profile(history, index.split))

    return fn


Components = dict[int, dict[str, np.ndarray]]


def component_scores(hybrid: WeightedHybrid, index: SplitIndex, progress: Progress | None = None) -> Components:
    """Raw scores of every scorer of ``hybrid`` over ``split.items`` per tested user
    (``{user: {scorer: scores}}``), the user's training items set to NaN (as the feed removes
    rated titles before normalising)."""
    progress = progress or null_progress
    items = index.split.items
    parts = {name: s.candidate_scorer(items) for name, s in hybrid.scorers.items()}
    out: Components = {}
    users = index.split.users
    for n, user in enumerate(users):
        history = index.histories[user]
        profile = history_profile(history, index.split)
        removed = index.positions(history)
        comps: dict[str, np.ndarray] = {}
        for name, part in parts.items():
            raw = part(profile)
            raw[removed] = np.nan
            comps[name] = raw
        out[user] = comps
        if n % 50 == 0:
            progress("evaluate: scoring", n, len(users))
    progress("evaluate: scoring", len(users), len(users))
    return out


def normalise_components(
    components: Mapping[int, Mapping[str, np.ndarray]], normalisation: Normalisation = "zscore"
) -> Components:
    """Each user's components normalised over their candidates (once per sweep)."""
    return {u: {name: normalise(c, normalisation) for name, c in comps.items()} for u, comps in components.items()}


def hybrid_fn(normalised: Mapping[int, Mapping[str, np.ndarray]], weights: Mapping[str, float]) -> ScoreFn:
    """Score function blending normalised components with ``weights`` (the hybrid's NaN rule)."""

    def fn(user: int, history: pl.DataFrame) -> np.ndarray:
        return blend(normalised[user], weights)

    return fn


def component_fn(components: Mapping[int, Mapping[str, np.ndarray]], name: str) -> ScoreFn:
    """Score function ranking one scorer's precomputed scores."""

    def fn(user: int, history: pl.DataFrame) -> np.ndarray:
        return components[user][name]

    return fn


def summary_table(results: Mapping[str, EvalResult]) -> pl.DataFrame:
    """One row per model, one column per summary figure."""
    rows = [
        {"model": name, **{k: (None if math.isnan(v) else v) for k, v in r.summary.items()}}
        for name, r in results.items()
    ]
    return pl.DataFrame(rows)
