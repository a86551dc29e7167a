"""Train / test (and validation) splits of rating data for offline evaluation.

Every protocol shares these rules (issue 4):

- *positives* are ratings ``>= positive_rating`` (default 4.0);
- a user with fewer than ``min_positives`` (default 5) positives is not tested: all of their
  ratings stay in training (``global``: all of their ratings *before the cut* do);
- **no tested user's future in training** (every protocol but ``random``): a tested user's
  ratings at or after the time of their first held-out positive are removed from ``train``. The
  held-out positives go to ``test``; the user's other "future" ratings (any value, including
  positives tied with the first held-out one) are dropped entirely, neither train nor test.
  ``Split.dropped`` counts them, so ``train.height + test.height + dropped`` is the input's height;
- at ranking time all of the user's training items are excluded;
- items are ranked over the whole catalogue of items seen in training (``Split.items``), with no
  sampled negatives. A held-out item never seen in training cannot be recommended but still
  counts as relevant (recall's denominator), so the figures are not flattered.

Protocols (:data:`PROTOCOLS`). The examples use one user with positives ``p1 .. p10`` at times
``t = 1 .. 10``, a 1.0 ``z`` at ``t = 3``, a 2.0 ``x`` at ``t = 9`` and a 3.0 ``y`` at ``t = 12``:

``temporal`` (the default)
    per user, positives sorted by time (ties by item id), the last ``floor(test_fraction * n)``
    (at least 1) held out; then the user's future is dropped. E.g. 7 positives -> 1 held out; 10
    -> 2; 14 -> 2. Example: test ``{p9, p10}``; the first held-out time is 9, so ``x`` and ``y``
    are dropped; train ``p1 .. p8, z``; ``dropped = 2``.
``loo``
    leave-last-one-out: the single latest positive held out, then the same future rule. Example:
    test ``{p10}``; ``y`` (t=12) dropped, ``x`` (t=9 < 10) stays; train ``p1 .. p9, x, z``.
``random``
    the **non-temporal reference**: a seeded per-user random holdout of ``floor(test_fraction *
    n)`` (at least 1) positives drawn uniformly with ``numpy.random.default_rng(seed)``; every
    other rating stays in training whatever its time (``dropped = 0``). It lets the model see the
    user's future, so its figures are optimistic; use it only to compare with the others. Example:
    two of ``p1 .. p10`` in test, the other 11 ratings in train.
``global``
    the **most realistic** setting: one cut time ``T`` for everyone, so no model sees any user's
    future, nor any other user's. ``T`` is the ``1 - test_fraction`` quantile of all rating times
    (linear interpolation: times ``1 .. 10`` and ``test_fraction=0.2`` give ``T = 8.2``), or
    ``cutoff=``. Train: every rating before ``T``. Test: the positives at or after ``T`` of users
    with at least ``min_positives`` positives in all and at least one rating before ``T`` (a
    history to rank from). Every other rating at or after ``T`` is dropped. Example with ``cutoff=9``: train
    ``p1 .. p8, z``; test ``{p9, p10}``; ``x`` and ``y`` dropped; a user whose ratings all come
    at ``t >= 9`` is not tested and all their ratings are dropped. MovieLens users mostly rate in
    a few sessions, so few of them straddle the cut: expect far fewer tested users than with
    ``temporal`` (ml-latest-small: 27 instead of 603).

**Validation** (:func:`validation_split`): the same protocol applied to an outer split's
``train``. Its ``test`` is the validation holdout, its ``train`` is the outer train minus the
validation positives and the validation users' future (``global``: the cut is the same quantile
of the *training* times). Tune hyperparameters and blend weights on the validation split (fit on
``val.train``, score on ``val.test``), then fit on the outer ``train`` and report on the outer
``test`` only; choosing anything on the test users makes the test figures optimistic. Example
(temporal, on the train ``p1 .. p8, z`` above): 8 positives -> 1 held out, validation test
``{p8}``, validation train ``p1 .. p7, z``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from recsys.columns import Columns as C
from recsys.errors import CineBlendError

log = logging.getLogger(__name__)

Protocol = Literal["temporal", "loo", "random", "global"]
PROTOCOLS: tuple[Protocol, ...] = ("temporal", "loo", "random", "global")


class SplitError(CineBlendError, ValueError):
    """Ratings that cannot be split (missing columns, unknown protocol)."""


@dataclass(frozen=True)
class Split:
    """A train / test split.

    ``train``: every training rating (the input's columns). ``test``: ``[user, item]`` held-out
    positives of the tested users. ``users``: tested users, sorted. ``items``: the ranking
    catalogue (every item in ``train``), sorted. ``dropped``: input ratings in neither ``train``
    nor ``test`` (the tested users' future; ``global``: everything at or after the cut that is not
    a test positive). ``cutoff``: the ``global`` cut time ``T`` (``None`` otherwise).
    ``test_fraction`` .. ``seed``: the options the split was made with (:func:`validation_split`
    reuses them).
    """

    train: pl.DataFrame
    test: pl.DataFrame
    users: list[int]
    items: list[str]
    protocol: str
    user_col: str = C.ML_USER_ID
    item_col: str = "tconst"
    rating_col: str = "rating"
    time_col: str = "timestamp"
    dropped: int = 0
    cutoff: float | None = None
    test_fraction: float = 0.2
    positive_rating: float = 4.0
    min_positives: int = 5
    seed: int = 42

    def relevant(self) -> dict[int, set[str]]:
        """Held-out items per tested user."""
        grouped = self.test.group_by(self.user_col).agg(pl.col(self.item_col))
        return {u: set(items) for u, items in zip(grouped[self.user_col], grouped[self.item_col], strict=True)}

    def history(self) -> dict[int, pl.DataFrame]:
        """Training ratings per tested user (sorted by time)."""
        tested = self.train.filter(pl.col(self.user_col).is_in(self.users)).sort(self.user_col, self.time_col)
        return {key[0]: frame for key, frame in tested.group_by(self.user_col, maintain_order=True)}

    def describe(self) -> str:
        """One line for reports: sizes, and how many future ratings were dropped."""
        cut = f", cut at t={self.cutoff:g}" if self.cutoff is not None else ""
        return (
            f"{self.protocol} split{cut}: {self.train.height:,} training ratings, {self.test.height:,} "
            f"held-out positives of {len(self.users):,} users, {self.dropped:,} future ratings dropped"
        )


def split(
    ratings: pl.DataFrame,
    protocol: Protocol = "temporal",
    *,
    test_fraction: float = 0.2,
    positive_rating: float = 4.0,
    min_positives: int = 5,
    seed: int = 42,
    cutoff: float | None = None,
    user_col: str = C.ML_USER_ID,
    item_col: str = "tconst",
    rating_col: str = "rating",
    time_col: str = "timestamp",
) -> Split:
    """Split ``ratings`` with one of :data:`PROTOCOLS`; see the module docstring. ``cutoff``: the
    ``global`` cut time (default: the ``1 - test_fraction`` quantile of the rating times); the
    other protocols refuse it."""
    missing = {user_col, item_col, rating_col, time_col} - set(ratings.columns)
    if missing:
        raise SplitError(f"Ratings need the columns {sorted(missing)}; pass the right column names.")
    if protocol not in PROTOCOLS:
        raise SplitError(f"Unknown protocol {protocol!r}; use one of {', '.join(PROTOCOLS)}.")
    if not 0 < test_fraction < 1:
        raise SplitError(f"test_fraction must be between 0 and 1, got {test_fraction}.")
    if cutoff is not None and protocol != "global":
        raise SplitError(f"cutoff= applies to the global protocol only, not {protocol!r}.")
    frame = ratings.with_row_index("_row")
    positive = pl.col(rating_col) >= positive_rating
    if protocol == "global":
        held, removed, cutoff = _global_cut(frame, positive, test_fraction, min_positives, cutoff, user_col, time_col)
    else:
        held, removed = _per_user(
            frame, positive, protocol, test_fraction, min_positives, seed, user_col, item_col, time_col
        )
    test = held.select(user_col, item_col).sort(user_col, item_col)
    train = frame.join(removed, on="_row", how="anti").sort("_row").drop("_row")
    dropped = removed.height - held.height
    users = sorted(test[user_col].unique().to_list())
    items = sorted(train[item_col].unique().to_list())
    sp = Split(
        train,
        test,
        users,
        items,
        protocol,
        user_col,
        item_col,
        rating_col,
        time_col,
        dropped=dropped,
        cutoff=cutoff,
        test_fraction=test_fraction,
        positive_rating=positive_rating,
        min_positives=min_positives,
        seed=seed,
    )
    log.info("%s, %d items", sp.describe(), len(items))
    return sp


def _per_user(
    frame: pl.DataFrame,
    positive: pl.Expr,
    protocol: Protocol,
    test_fraction: float,
    min_positives: int,
    seed: int,
    user_col: str,
    item_col: str,
    time_col: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``temporal`` / ``loo`` / ``random``: (held-out rows, every row removed from training)."""
    pos = frame.filter(positive)
    if protocol == "random":
        rng = np.random.default_rng(seed)
        pos = pos.sort(user_col, item_col, time_col).with_columns(pl.Series("_order", rng.random(pos.height)))
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
    if protocol == "random":  # the non-temporal reference: no time rule
        return held, held.select("_row")
    first = held.group_by(user_col).agg(pl.col(time_col).min().alias("_first"))
    removed = frame.join(first, on=user_col, how="inner").filter(pl.col(time_col) >= pl.col("_first")).select("_row")
    return held, removed


def _global_cut(
    frame: pl.DataFrame,
    positive: pl.Expr,
    test_fraction: float,
    min_positives: int,
    cutoff: float | None,
    user_col: str,
    time_col: str,
) -> tuple[pl.DataFrame, pl.DataFrame, float | None]:
    """``global``: (held-out rows, every row at or after the cut, the cut time)."""
    if cutoff is None:
        q = frame[time_col].quantile(1 - test_fraction, "linear")
        if q is None:  # no ratings: nothing to cut
            return frame.clear(), frame.clear().select("_row"), None
        cutoff = float(q)
    after = pl.col(time_col) >= cutoff
    enough = frame.filter(positive).group_by(user_col).len().filter(pl.col("len") >= min_positives)
    with_history = frame.filter(~after).select(user_col).unique()
    eligible = enough.select(user_col).join(with_history, on=user_col, how="semi")
    held = frame.filter(after & positive).join(eligible, on=user_col, how="semi")
    return held, frame.filter(after).select("_row"), cutoff


def validation_split(
    sp: Split,
    *,
    test_fraction: float | None = None,
    positive_rating: float | None = None,
    min_positives: int | None = None,
    seed: int | None = None,
    cutoff: float | None = None,
) -> Split:
    """The validation split of ``sp``: ``sp.protocol`` applied to ``sp.train`` with ``sp``'s options
    (each overridable here). Its ``test`` is the validation holdout (disjoint from ``sp.test``),
    its ``train`` the outer train minus that holdout and the validation users' future, its
    ``dropped`` the rows of ``sp.train`` in neither. ``global``: the cut is the ``1 -
    test_fraction`` quantile of the training times, or ``cutoff=`` (which must fall before the
    outer cut). Tune on it, report on ``sp``; see the module docstring."""
    if sp.protocol not in PROTOCOLS:
        raise SplitError(
            f"Cannot carve a validation split from a {sp.protocol!r} split; use one of {', '.join(PROTOCOLS)}."
        )
    if cutoff is not None and sp.cutoff is not None and cutoff >= sp.cutoff:
        raise SplitError(f"The validation cutoff {cutoff:g} must come before the test cutoff {sp.cutoff:g}.")
    return split(
        sp.train,
        sp.protocol,
        test_fraction=sp.test_fraction if test_fraction is None else test_fraction,
        positive_rating=sp.positive_rating if positive_rating is None else positive_rating,
        min_positives=sp.min_positives if min_positives is None else min_positives,
        seed=sp.seed if seed is None else seed,
        cutoff=cutoff,
        user_col=sp.user_col,
        item_col=sp.item_col,
        rating_col=sp.rating_col,
        time_col=sp.time_col,
    )
