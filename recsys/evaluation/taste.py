"""What the taste metrics need of a split, built once per split (:class:`TasteContext`), so the
many :func:`~recsys.evaluation.scoring.evaluate` calls of a run (every model, every sweep step)
only look things up.

Per tested user, from the split's **training likes** (ratings ``>= split.positive_rating``, 4.0;
sorted by time, ties by title id):

- ``history``: their genre distribution (Steck 2018, eq. 1), each like weighted ``0.95 ** age``
  (:func:`recsys.models.rerank.distribution.recency_weights`: the newest like 1, the one before
  0.95, ...), the ``p`` of :func:`recsys.evaluation.metrics.miscalibration`. Example: likes x
  {Drama} then y {Horror} -> weights 0.95, 1 -> p = {Drama: 0.95 / 1.95 = 0.4872, Horror: 0.5128};
- ``history_log_votes``: the mean ``ln(1 + IMDb votes)`` of those likes (popularity lift).

A user with no training like (every rating at or after their first held-out one) has neither:
their miscalibration and popularity lift are undefined (left out of the means).

Per title: ``log_votes`` ``ln(1 + num_votes)`` (``Columns.VOTES`` of the catalogue) and ``tail``,
every title of the ranking catalogue outside the short head (:func:`head_items`).

On ml-latest-small (temporal test split: 7,903 ranked titles) the head is 1,581 titles, each
with 12 or more training ratings, holding 76% of the training ratings.

Cost, measured on ml-latest-small (603 tested users; CPU time, 2 shared cores): building takes
0.07 s per split; the three metrics add about 47 microseconds per user and evaluation (the
11-step sweep: 1.05 -> 1.36 s). A default run evaluates 17 configurations per split (6 models, 11
sweep steps; the grid reports accuracy only and gets no taste metrics): 2 x 17 x 600 users x 47
us, about 1 s of CPU on a run of 11-12 s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from recsys.columns import Columns as C
from recsys.evaluation import metrics as M
from recsys.evaluation.splits import Split
from recsys.models.rerank.distribution import distribution, recency_weights

#: Share of the catalogue's titles that make the short head (Abdollahpouri et al. 2019: "the top
#: 20% of items by popularity"); the rest is the long tail.
HEAD_SHARE = 0.2


def head_items(counts: Mapping[str, int], share: float = HEAD_SHARE) -> frozenset[str]:
    """The short head: the ``ceil(share * n)`` titles with the most training ratings (ties by
    title id), ``n`` the number of titles in ``counts`` (Abdollahpouri, Burke and Mobasher,
    "Managing popularity bias in recommender systems with personalized re-ranking", FLAIRS 2019:
    the head is the top 20% of items by number of ratings).

    Example: counts a 5, b 3, c 3, d 1, e 1, f 1, g 1 (7 titles) -> ceil(1.4) = 2 head titles:
    {a, b} (b before c on the tie); the tail is {c, d, e, f, g}.
    """
    if not counts:
        return frozenset()
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    n_head = math.ceil(share * len(ordered) - 1e-9)
    return frozenset(t for t, _ in ordered[:n_head])


@dataclass(frozen=True)
class TasteContext:
    """Lookups for the taste metrics of one split (module docstring)."""

    genres: Mapping[str, Sequence[str]]
    log_votes: Mapping[str, float]
    tail: frozenset[str]
    history: Mapping[int, Mapping[str, float]]
    history_log_votes: Mapping[int, float]

    @classmethod
    def build(cls, split: Split, titles: pl.DataFrame) -> TasteContext:
        """From ``split`` (its training ratings, tested users and ranking catalogue) and the
        catalogue ``titles`` (``tconst``, ``genres``, ``num_votes``)."""
        items = pl.DataFrame({C.TCONST: split.items}, schema={C.TCONST: pl.String})
        cols = [c for c in (C.TCONST, C.GENRES, C.VOTES) if c in titles.columns]
        known = items.join(titles.select(cols), on=C.TCONST, how="left")
        genres: dict[str, list[str]] = {}
        if C.GENRES in known.columns:
            genres = {
                t: list(g or ()) for t, g in zip(known[C.TCONST].to_list(), known[C.GENRES].to_list(), strict=True)
            }
        log_votes: dict[str, float] = {}
        if C.VOTES in known.columns:
            log_votes = {
                t: math.log1p(max(float(v), 0.0)) if v is not None else 0.0
                for t, v in zip(known[C.TCONST].to_list(), known[C.VOTES].to_list(), strict=True)
            }
        train = split.train
        counts = train.group_by(split.item_col).len()
        head = head_items(dict(zip(counts[split.item_col].to_list(), counts["len"].to_list(), strict=True)))
        tail = frozenset(split.items) - head
        likes = (
            train.filter(
                pl.col(split.user_col).is_in(split.users) & (pl.col(split.rating_col) >= split.positive_rating)
            )
            .sort(split.user_col, split.time_col, split.item_col)
            .group_by(split.user_col, maintain_order=True)
            .agg(pl.col(split.item_col))
        )
        history: dict[int, dict[str, float]] = {}
        history_votes: dict[int, float] = {}
        for user, liked in zip(likes[split.user_col].to_list(), likes[split.item_col].to_list(), strict=True):
            history[user] = distribution([genres.get(t, []) for t in liked], recency_weights(len(liked)))
            history_votes[user] = sum(log_votes.get(t, 0.0) for t in liked) / len(liked)
        return cls(genres, log_votes, tail, history, history_votes)

    def measures(self, user: int, recommended: Sequence[str], k: int) -> dict[str, float | None]:
        """``{miscalibration, popularity_lift, tail_share}`` of ``user``'s list (None where
        undefined: no training like with a genre, no like, an empty list)."""
        p = self.history.get(user)
        votes = self.history_log_votes.get(user)
        values = {
            "miscalibration": M.miscalibration(recommended, p, self.genres, k) if p else None,
            "popularity_lift": M.popularity_lift(recommended, votes, self.log_votes, k) if votes is not None else None,
            "tail_share": M.tail_share(recommended, self.tail, k),
        }
        return {name: None if v is None or math.isnan(v) else float(v) for name, v in values.items()}
