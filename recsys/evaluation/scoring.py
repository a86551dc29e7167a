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

#: Component scores held at once while a split is scored: the users of a block are as many as
#: this many bytes of float64 scores hold (scorers x items x 8 bytes each). Scoring every user at
#: once held 10k users x 30-40k titles x 4 scorers = 10-13 GB on a 25M-rating sample.
BLOCK_BYTES = 192 * 1024**2


#: A split's users are scored in at least this many blocks (when it has that many users): the lab's
#: progress moves after each block, and one block held every user of the mirror's splits (its bar
#: sat at "0 of 597" for half the run).
PROGRESS_STEPS = 20


def block_size(n_scorers: int, n_items: int, n_users: int = 0) -> int:
    """Users per block (:data:`BLOCK_BYTES`; with ``n_users``, at most 1 / :data:`PROGRESS_STEPS`
    of them), at least 1. Example: 4 scorers, 40k titles -> 157; with 600 users -> 30."""
    size = max(1, BLOCK_BYTES // max(1, n_scorers * n_items * 8))
    return min(size, max(1, -(-n_users // PROGRESS_STEPS))) if n_users else size


def blocks(users: Sequence[int], size: int) -> list[list[int]]:
    """``users`` in consecutive blocks of ``size``. Example: ``([1, 2, 3], 2) -> [[1, 2], [3]]``."""
    return [list(users[i : i + size]) for i in range(0, len(users), size)]


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
    users: Sequence[int] | None = None,
) -> EvalResult:
    """Rank ``split.items`` for every tested user (or ``users``, a subset) with ``score_fn``;
    metrics at ``k``.

    ``genres`` adds the genre diversity, ``taste`` (built once per split) the taste metrics
    (:data:`recsys.evaluation.metrics.TASTE`); a per-user taste value that is undefined is null
    and left out of its mean. ``at_ks``: further cut-offs (e.g. 5, 10, 20) at which every ranking
    metric's mean is also reported (``EvalResult.at_k``): the list is ranked once at the longest
    cut-off and cut, so the figures at ``k`` are exactly those of a run without ``at_ks``.
    Example: the list [a, b, c, ...] with relevant {c}: HitRate@2 = 0, HitRate@5 = 1.
    :class:`Ranking` does the same over blocks of users."""
    index = split if isinstance(split, SplitIndex) else SplitIndex(split)
    ranking = Ranking(index, k, genres=genres, taste=taste, at_ks=at_ks)
    ranking.add(score_fn, index.split.users if users is None else users, progress)
    return ranking.result()


class Ranking:
    """:func:`evaluate` in parts: :meth:`add` ranks a block of users with a score function
    (each block may use its own, e.g. scores computed for that block only), :meth:`result`
    gives the :class:`EvalResult` of every user added, in the split's user order, whatever the
    order of the blocks: one block of every user is exactly :func:`evaluate`. So an evaluation
    never needs every user's scores at once (:func:`component_scores` per block)."""

    def __init__(
        self,
        index: SplitIndex,
        k: int,
        *,
        genres: Mapping[str, Sequence[str]] | None = None,
        taste: TasteContext | None = None,
        at_ks: Sequence[int] = (),
    ) -> None:
        self.index, self.k, self.genres, self.taste = index, k, genres, taste
        self.cutoffs = sorted({int(c) for c in at_ks})
        self.depth = max([k, *self.cutoffs])
        self.rows: dict[int, dict[str, float | None]] = {}
        self.tops: dict[int, list[str]] = {}
        self.longs: dict[int, list[str]] = {}

    def copy(self) -> Ranking:
        """An independent accumulator holding the users added so far (to go on with some blocks
        while this one stops)."""
        out = Ranking(self.index, self.k, genres=self.genres, taste=self.taste, at_ks=self.cutoffs)
        out.rows, out.tops, out.longs = dict(self.rows), dict(self.tops), dict(self.longs)
        return out

    def add(self, score_fn: ScoreFn, users: Sequence[int], progress: Progress | None = None) -> None:
        index, k = self.index, self.k
        sp_ = index.split
        progress = progress or null_progress
        ids = index.items.ids
        ranking = M.ranking_metrics()
        for n, user in enumerate(users):
            history = index.histories[user]
            scores = score_fn(user, history)
            best = top_k(scores, index.positions(history), self.depth)
            ranked = ids[best].tolist()
            rec = ranked[:k]
            self.tops[user] = rec
            if self.cutoffs:
                self.longs[user] = ranked
            rel = index.relevant.get(user, set())
            row: dict[str, float | None] = {sp_.user_col: user}
            for name in ranking:
                row[name] = M.REGISTRY[name].fn(rec, rel, k)
            if self.genres is not None:
                row["diversity"] = M.intra_list_diversity(rec, self.genres, k)
            if self.taste is not None:
                row.update(self.taste.measures(user, rec, k))
            self.rows[user] = row
            if n % 50 == 0:
                progress("evaluate: users", n, len(users))
        progress("evaluate: users", len(users), len(users))

    def result(self) -> EvalResult:
        sp_ = self.index.split
        k = self.k
        users = [u for u in sp_.users if u in self.rows] if len(self.rows) < len(sp_.users) else sp_.users
        ranking = M.ranking_metrics()
        sums = {c: dict.fromkeys(ranking, 0.0) for c in self.cutoffs}
        for user in users:
            if self.cutoffs:
                ranked, rel = self.longs[user], self.index.relevant.get(user, set())
                for c in self.cutoffs:
                    for name in ranking:
                        sums[c][name] += M.REGISTRY[name].fn(ranked, rel, c)
        rows = [self.rows[u] for u in users]
        tops = {u: self.tops[u] for u in users}
        longs = {u: self.longs[u] for u in users} if self.cutoffs else {}
        per_user = pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.exclude(sp_.user_col).cast(pl.Float64))
        means = per_user.select(pl.exclude(sp_.user_col).mean()).row(0, named=True)
        summary = {c: math.nan if v is None else float(v) for c, v in means.items()}
        share = item_share(sp_)
        summary["coverage"] = M.catalogue_coverage(tops.values(), len(sp_.items), k)
        summary["novelty"] = M.novelty(tops.values(), share, k)
        summary["avg_popularity"] = M.average_popularity(tops.values(), share, k)
        summary["users"] = float(len(users))
        n_users = max(len(users), 1)
        at_k = {c: {name: total / n_users for name, total in sums[c].items()} for c in self.cutoffs}
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


def component_scores(
    hybrid: WeightedHybrid,
    index: SplitIndex,
    progress: Progress | None = None,
    users: Sequence[int] | None = None,
) -> Components:
    """Raw scores of every scorer of ``hybrid`` over ``split.items`` per tested user (or per user
    of ``users``) (``{user: {scorer: scores}}``), the user's training items set to NaN (as the
    feed removes rated titles before normalising). Every user's scores at once weigh users x
    items x scorers x 8 bytes (10k users, 40k titles, 4 scorers: 12.8 GB): big runs score a
    block at a time with :class:`ComponentScorer`."""
    return ComponentScorer(hybrid, index)(index.split.users if users is None else users, progress)


class ComponentScorer:
    """:func:`component_scores` for one block of users at a time, each scorer's candidate scorer
    over the split's items prepared once."""

    def __init__(self, hybrid: WeightedHybrid, index: SplitIndex) -> None:
        self.index = index
        self.parts = {name: s.candidate_scorer(index.split.items) for name, s in hybrid.scorers.items()}

    def __call__(self, users: Sequence[int], progress: Progress | None = None) -> Components:
        progress = progress or null_progress
        index = self.index
        out: Components = {}
        for n, user in enumerate(users):
            history = index.histories[user]
            profile = history_profile(history, index.split)
            removed = index.positions(history)
            comps: dict[str, np.ndarray] = {}
            for name, part in self.parts.items():
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
