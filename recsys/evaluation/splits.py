"""Train / test splits of rating data for offline evaluation.

All three protocols share these rules (issue 4):

- *positives* are ratings ``>= positive_rating`` (default 4.0);
- a user with fewer than ``min_positives`` (default 5) positives is not tested: all of their
  ratings stay in training;
- for a tested user, the held-out positives go to ``test`` and **every other rating of theirs (any
  value)** stays in ``train``; at ranking time all of the user's training items are excluded;
- items are ranked over the whole catalogue of items seen in training (``Split.items``), with no
  sampled negatives. A held-out item never seen in training cannot be recommended but still
  counts as relevant (recall's denominator), so the figures are not flattered.

Protocols:

``temporal`` (the default)
    per user, positives sorted by time (ties by item id), the last ``floor(0.2 n)`` (at least 1)
    held out. E.g. 7 positives -> 1 held out; 10 -> 2; 14 -> 2.
``loo``
    leave-last-one-out: the single latest positive held out.
``random``
    seeded per-user random holdout: ``floor(0.2 n)`` (at least 1) positives drawn uniformly with
    ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from recsys.errors import CineBlendError

log = logging.getLogger(__name__)

Protocol = Literal["temporal", "loo", "random"]
PROTOCOLS: tuple[Protocol, ...] = ("temporal", "loo", "random")


class SplitError(CineBlendError, ValueError):
    """Ratings that cannot be split (missing columns, unknown protocol)."""


@dataclass(frozen=True)
class Split:
    """A train / test split.

    ``train``: every training rating (the input's columns). ``test``: ``[user, item]`` held-out
    positives of the tested users. ``users``: tested users, sorted. ``items``: the ranking
    catalogue (every item in ``train``), sorted.
    """

    train: pl.DataFrame
    test: pl.DataFrame
    users: list[int]
    items: list[str]
    protocol: str
    user_col: str = "ml_user_id"
    item_col: str = "tconst"
    rating_col: str = "rating"
    time_col: str = "timestamp"

    def relevant(self) -> dict[int, set[str]]:
        """Held-out items per tested user."""
        grouped = self.test.group_by(self.user_col).agg(pl.col(self.item_col))
        return {u: set(items) for u, items in zip(grouped[self.user_col], grouped[self.item_col], strict=True)}

    def history(self) -> dict[int, pl.DataFrame]:
        """Training ratings per tested user (sorted by time)."""
        tested = self.train.filter(pl.col(self.user_col).is_in(self.users)).sort(self.user_col, self.time_col)
        return {key[0]: frame for key, frame in tested.group_by(self.user_col, maintain_order=True)}


def split(
    ratings: pl.DataFrame,
    protocol: Protocol = "temporal",
    *,
    test_fraction: float = 0.2,
    positive_rating: float = 4.0,
    min_positives: int = 5,
    seed: int = 42,
    user_col: str = "ml_user_id",
    item_col: str = "tconst",
    rating_col: str = "rating",
    time_col: str = "timestamp",
) -> Split:
    """Split ``ratings`` with one of :data:`PROTOCOLS`; see the module docstring."""
    missing = {user_col, item_col, rating_col, time_col} - set(ratings.columns)
    if missing:
        raise SplitError(f"Ratings need the columns {sorted(missing)}; pass the right column names.")
    if protocol not in PROTOCOLS:
        raise SplitError(f"Unknown protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}.")
    if not 0 < test_fraction < 1:
        raise SplitError(f"test_fraction must be between 0 and 1, got {test_fraction}.")
    frame = ratings.with_row_index("_row")
    pos = frame.filter(pl.col(rating_col) >= positive_rating)
    if protocol == "random":
        rng = np.random.default_rng(seed)
        pos = pos.sort(user_col, item_col, time_col).with_columns(
            pl.Series("_order", rng.random(pos.height))
        )
    else:
        pos = pos.with_columns(pl.col(time_col).alias("_order"))
    pos = pos.sort(user_col, "_order", item_col).with_columns(
        pl.int_range(pl.len()).over(user_col).alias("_i"), pl.len().over(user_col).alias("_n")
    )
    n = pl.col("_n")
    if protocol == "loo":
        n_test = pl.lit(1)
    else:
        n_test = pl.max_horizontal((n * test_fraction).floor().cast(pl.Int64), pl.lit(1))
    held = pos.filter(n >= min_positives, pl.col("_i") >= n - n_test)
    test = held.select(user_col, item_col).sort(user_col, item_col)
    train = frame.join(held.select("_row"), on="_row", how="anti").sort("_row").drop("_row")
    users = sorted(test[user_col].unique().to_list())
    items = sorted(train[item_col].unique().to_list())
    log.info(
        "%s split: %d train ratings, %d test positives, %d tested users, %d items",
        protocol, train.height, test.height, len(users), len(items),
    )
    return Split(train, test, users, items, protocol, user_col, item_col, rating_col, time_col)
