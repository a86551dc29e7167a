"""Per-user paired significance between two configurations: the Wilcoxon signed-rank test.

Both configurations rank for the same tested users, so each user gives a pair ``(a_u, b_u)`` of
metric values (e.g. NDCG@10). The test asks whether the differences ``d_u = a_u - b_u`` are
symmetric around 0. Users with ``d_u = 0`` (both lists equally good, common for HitRate and for
users neither configuration helps) carry no information and are dropped (``zero_method="wilcox"``);
the remaining ``n`` differences are ranked by ``|d_u|`` and ``W = min(W+, W-)``, the smaller sum
of the ranks of positive and of negative differences. scipy (``method="auto"``) computes the
two-sided p-value exactly for ``n <= 50`` without ties, by enumerating all ``2^n`` sign patterns
for ``n <= 13`` with ties, and with the tie-corrected normal approximation otherwise.

Worked example: six users, ``d = [1, 2, 3, 4, 5, 6]`` -> ``W- = 0``; of the ``2^6 = 64`` equally
likely sign patterns under the null only "all +" and "all -" are as extreme, so
``p = 2 / 64 = 0.03125``. With ``d = [1, -2, 3, 4, 5, 6]``: ``W = W- = 2``; the patterns with a
negative rank sum <= 2 are {}, {1}, {2}, so ``p = 2 * 3 / 64 = 0.09375``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from recsys.errors import EvaluationError

log = logging.getLogger(__name__)

ALPHA = 0.05


@dataclass(frozen=True)
class Significance:
    """The outcome of :func:`wilcoxon_test` for configurations ``a`` and ``b``.

    ``n_users``: paired users; ``n_differ``: users whose values differ (the test's sample);
    ``mean_a`` / ``mean_b``: the metric's means over all paired users; ``p_value``: two-sided
    (1.0 when no user differs); ``statistic``: scipy's ``W``.
    """

    a: str
    b: str
    metric: str
    label: str
    n_users: int
    n_differ: int
    mean_a: float
    mean_b: float
    statistic: float
    p_value: float

    @property
    def significant(self) -> bool:
        return self.n_differ > 0 and self.p_value < ALPHA

    def summary(self) -> str:
        """One line, the same on the page and in the CLI."""
        head = f"{self.label}: {self.a} {self.mean_a:.4f} vs {self.b} {self.mean_b:.4f} over {self.n_users} user{'' if self.n_users == 1 else 's'}"
        if self.n_differ == 0:
            return f"{head}: identical for every user (no difference to test)."
        better = self.a if self.mean_a > self.mean_b else self.b
        verdict = (
            f"significant at {ALPHA:g}, {better} is better" if self.significant else f"not significant at {ALPHA:g}"
        )
        return f"{head} ({self.n_differ} differ{'s' if self.n_differ == 1 else ''}): Wilcoxon signed-rank p = {self.p_value:.4g}, {verdict}."

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "significant": self.significant}


def wilcoxon_test(
    a_values: Sequence[float] | np.ndarray,
    b_values: Sequence[float] | np.ndarray,
    *,
    a: str = "A",
    b: str = "B",
    metric: str = "ndcg",
    label: str | None = None,
) -> Significance:
    """Paired two-sided Wilcoxon signed-rank test of per-user values (same user order)."""
    from scipy.stats import wilcoxon

    x = np.asarray(a_values, dtype=np.float64)
    y = np.asarray(b_values, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise EvaluationError("Paired values need one value per user for both configurations.")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise EvaluationError("Per-user metric values must be finite to test them.")
    diff = x - y
    n_differ = int(np.count_nonzero(diff))
    if n_differ == 0:
        statistic, p_value = 0.0, 1.0
    else:
        res = wilcoxon(x, y, zero_method="wilcox", alternative="two-sided")
        statistic, p_value = float(res.statistic), float(res.pvalue)
        if not math.isfinite(p_value):
            p_value = 1.0
    return Significance(
        a=a,
        b=b,
        metric=metric,
        label=label or metric,
        n_users=len(x),
        n_differ=n_differ,
        mean_a=float(x.mean()) if len(x) else math.nan,
        mean_b=float(y.mean()) if len(y) else math.nan,
        statistic=statistic,
        p_value=p_value,
    )


def compare(
    per_user: Mapping[str, pl.DataFrame],
    a: str,
    b: str,
    metric: str,
    *,
    user_col: str,
    label: str | None = None,
) -> Significance:
    """:func:`wilcoxon_test` of configurations ``a`` and ``b`` from their per-user frames
    ``[user_col, metric, ...]``, paired on the user."""
    for name in (a, b):
        if name not in per_user:
            choices = ", ".join(per_user)
            raise EvaluationError(f"Unknown configuration {name!r}; choose one of: {choices}.")
    left, right = per_user[a], per_user[b]
    if metric not in left.columns:
        raise EvaluationError(f"No per-user values for {metric!r}; choose a ranking metric such as ndcg.")
    joined = left.select(user_col, pl.col(metric).alias("_a")).join(
        right.select(user_col, pl.col(metric).alias("_b")), on=user_col, how="inner"
    )
    return wilcoxon_test(joined["_a"].to_numpy(), joined["_b"].to_numpy(), a=a, b=b, metric=metric, label=label)
