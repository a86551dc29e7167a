"""The statistics of stored runs: a run's figures with bootstrap 95% intervals
(:func:`figure_intervals`) and two runs compared (:func:`compare_runs`: the figures side by side,
and per model a paired Wilcoxon signed-rank test and a paired bootstrap interval on the users both
runs tested).

**Comparing two runs** (:func:`compare_runs`): the models in both, their test figures side by side
with the difference B - A; and, for the users both runs tested (same MovieLens / app user ids),
per model a paired Wilcoxon signed-rank test and a paired bootstrap 95% confidence interval of
the mean difference (2,000 seeded resamples of the shared users). Runs on different data or
protocols can share users whose held-out items differ; the comparison then says the protocols
or datasets differ, and the test still pairs per user. Above the figures, the **settings diff**
(:func:`recsys.evaluation.run_settings.settings_diff`): every setting of both runs, the differing
ones as a table "Setting, Run A, Run B", the identical ones apart.

**A run's own figures** come with bootstrap 95% intervals (:func:`figure_intervals`: per model,
the main metric and the taste metrics, from the per-user vectors; 2,000 seeded resamples of the
tested users, the same resamples for every model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from recsys.evaluation.config import USER, model_names
from recsys.evaluation.metrics import TASTE, metric_label, summary_names
from recsys.evaluation.run_settings import settings_diff
from recsys.evaluation.runs import unpack_per_user
from recsys.evaluation.significance import wilcoxon_test
from recsys.store import lab

if TYPE_CHECKING:
    pass


BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 12345


def figure_intervals(
    run: lab.StoredRun,
    metrics: Sequence[str] | None = None,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> pl.DataFrame:
    """Bootstrap 95% intervals of a run's own test figures: one row per model, for each metric
    (default the run's metric and the taste metrics) its mean over tested users and the interval
    as text ``"0.1210 to 0.1460"`` in a column ``"<label> 95% CI"``. The users are resampled
    with replacement ``resamples`` times with ``seed``, the same draws for every model and
    metric; a user whose taste value is undefined is left out of that mean. Example: per-user
    values [0.1] * 10 -> "0.1000 to 0.1000". Measured: 2,000 resamples of 610 users, 10 models x 4
    metrics, 0.3 to 0.7 s on a busy 2-core machine."""
    cfg = run.document.get("config", {})
    k = int(cfg.get("k", 10))
    metrics = list(metrics or (cfg.get("metric", "ndcg"), *TASTE))
    per_user = unpack_per_user(run.per_user)
    models = [m for m in model_names() if m in per_user]
    columns = ["Model"]
    for m in metrics:
        columns += [metric_label(m, k), f"{metric_label(m, k)} 95% CI"]
    schema = {c: (pl.Float64 if i and i % 2 == 1 else pl.String) for i, c in enumerate(columns)}
    if not models:
        return pl.DataFrame(schema=schema)
    rows = []
    draws_of: dict[int, np.ndarray] = {}
    for model in models:
        aligned = per_user[model].sort(USER)
        users = aligned[USER].to_numpy()
        if users.size not in draws_of:  # the same draws for every model of the same users
            rng = np.random.default_rng(seed)
            draws_of[users.size] = rng.integers(0, max(users.size, 1), size=(resamples, users.size))
        draws = draws_of[users.size]
        row: dict[str, Any] = {"Model": model}
        for m in metrics:
            label = metric_label(m, k)
            if m not in aligned.columns or users.size == 0:
                row[label], row[f"{label} 95% CI"] = None, ""
                continue
            values = aligned[m].cast(pl.Float64).fill_null(np.nan).to_numpy()
            if np.isnan(values).all():
                row[label], row[f"{label} 95% CI"] = None, ""
                continue
            sample = values[draws]
            counts = (~np.isnan(sample)).sum(axis=1)
            means = np.nansum(sample, axis=1)[counts > 0] / counts[counts > 0]
            low, high = np.quantile(means, [0.025, 0.975])
            row[label] = round(float(np.nanmean(values)), 4)
            row[f"{label} 95% CI"] = f"{low:.4f} to {high:.4f}"
        rows.append(row)
    return pl.DataFrame(rows, schema=schema)


@dataclass(frozen=True)
class RunComparison:
    """Two stored runs side by side: ``table`` per model and metric A, B and B - A (test);
    ``tests`` per model the paired test on shared users; ``notes`` what differs between them."""

    a: int
    b: int
    metric: str
    table: pl.DataFrame
    tests: pl.DataFrame
    shared_users: int
    notes: list[str]
    #: the settings that differ ("Setting, Run A, Run B") and those both runs share
    settings: pl.DataFrame = field(default_factory=pl.DataFrame)
    same_settings: pl.DataFrame = field(default_factory=pl.DataFrame)

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "metric": self.metric,
            "shared_users": self.shared_users,
            "notes": list(self.notes),
            "settings": self.settings.to_dicts(),
            "same_settings": self.same_settings.to_dicts(),
            "table": _finite(self.table.to_dicts()),
            "tests": _finite(self.tests.to_dicts()),
        }


def _finite(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                row[key] = None
    return rows


def bootstrap_ci(
    diff: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES, seed: int = BOOTSTRAP_SEED, level: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean of paired differences ``diff``
    (resampling users with replacement, seeded). Example: ``diff = [0.1] * 10`` -> (0.1, 0.1)."""
    diff = np.asarray(diff, dtype=np.float64)
    if diff.size == 0:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for start in range(0, resamples, 500):
        stop = min(start + 500, resamples)
        idx = rng.integers(0, diff.size, size=(stop - start, diff.size))
        means[start:stop] = diff[idx].mean(axis=1)
    tail = (1 - level) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))


def compare_runs(a: lab.StoredRun, b: lab.StoredRun, metric: str | None = None) -> RunComparison:
    """Runs ``a`` and ``b`` side by side (module docstring)."""
    cfg_a, cfg_b = a.document.get("config", {}), b.document.get("config", {})
    metric = metric or cfg_a.get("metric", "ndcg")
    k = int(cfg_a.get("k", 10))
    notes = []
    for key, what in (("protocol", "protocol"), ("k", "K"), ("with_app_data", "data source")):
        if cfg_a.get(key) != cfg_b.get(key):
            notes.append(f"The runs differ in {what}: {cfg_a.get(key)} vs {cfg_b.get(key)}.")
    if a.dataset != b.dataset:
        notes.append(f"The runs use different datasets: {a.dataset} vs {b.dataset}.")
    if a.catalogue_build != b.catalogue_build:
        notes.append("The catalogue was rebuilt between the runs.")
    rows_a = {r["model"]: r for r in a.document.get("models", [])}
    rows_b = {r["model"]: r for r in b.document.get("models", [])}
    models = [m for m in rows_a if m in rows_b]
    table_rows = []
    for model in models:
        for m in summary_names():
            va, vb = rows_a[model].get(m), rows_b[model].get(m)
            if va is None and vb is None:
                continue
            table_rows.append(
                {
                    "Model": model,
                    "Metric": metric_label(m, k),
                    f"Run {a.id}": va,
                    f"Run {b.id}": vb,
                    "Delta (B - A)": None if va is None or vb is None else vb - va,
                }
            )
    schema = {"Model": pl.String, "Metric": pl.String, f"Run {a.id}": pl.Float64, f"Run {b.id}": pl.Float64}
    schema["Delta (B - A)"] = pl.Float64
    table = pl.DataFrame(table_rows, schema=schema)
    pa, pb = unpack_per_user(a.per_user), unpack_per_user(b.per_user)
    test_rows = []
    shared = 0
    for model in models:
        if model not in pa or model not in pb or metric not in pa[model].columns or metric not in pb[model].columns:
            continue
        joined = (
            pa[model]
            .select(USER, pl.col(metric).alias("_a"))
            .join(pb[model].select(USER, pl.col(metric).alias("_b")), on=USER, how="inner")
        )
        shared = max(shared, joined.height)
        if joined.height == 0:
            continue
        x, y = joined["_a"].to_numpy(), joined["_b"].to_numpy()
        sig = wilcoxon_test(x, y, a=f"run {a.id}", b=f"run {b.id}", metric=metric)
        low, high = bootstrap_ci(y - x)
        test_rows.append(
            {
                "Model": model,
                "Shared users": joined.height,
                "Users that differ": sig.n_differ,
                f"Run {a.id} mean": float(x.mean()),
                f"Run {b.id} mean": float(y.mean()),
                "Mean delta (B - A)": float((y - x).mean()),
                "95% CI low": low,
                "95% CI high": high,
                "Wilcoxon p": sig.p_value,
            }
        )
    tests_schema: dict[str, pl.DataType] = {
        "Model": pl.String(),
        "Shared users": pl.Int64(),
        "Users that differ": pl.Int64(),
    }
    for col in (
        f"Run {a.id} mean",
        f"Run {b.id} mean",
        "Mean delta (B - A)",
        "95% CI low",
        "95% CI high",
        "Wilcoxon p",
    ):
        tests_schema[col] = pl.Float64()
    tests = pl.DataFrame(test_rows, schema=tests_schema)
    if shared == 0:
        notes.append("The runs share no tested user: no paired test.")
    different, same = settings_diff(a, b)
    if different.height == 0:
        notes.insert(0, "The runs have the same settings (any difference is the data or chance).")
    return RunComparison(a.id, b.id, metric, table, tests, shared, notes, different, same)
