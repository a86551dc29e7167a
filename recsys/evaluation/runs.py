"""Run history: an evaluation stored with what produced it, listed, shown, compared and deleted
(the page and ``python -m recsys runs ...`` both call these functions, so they show the same
figures for the same stored run).

A stored run keeps the run's document (:meth:`EvaluationResult.to_dict`, exactly what ``evaluate
--json`` prints), who ran it and when, the model version, the catalogue build, the dataset and the
protocol, and the per-user metric vectors of every model on the test split as zstd-compressed
Parquet (a few KB for ml-latest-small's 600 users).

**Comparing two runs** (:func:`compare_runs`): the models in both, their test figures side by side
with the difference B - A; and, for the users both runs tested (same MovieLens / app user ids),
per model a paired Wilcoxon signed-rank test and a paired bootstrap 95% confidence interval of
the mean difference (2,000 seeded resamples of the shared users). Runs on different data or
protocols can share users whose held-out items differ; the comparison then says the protocols
or datasets differ, and the test still pairs per user.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import polars as pl

from recsys.errors import EvaluationError
from recsys.evaluation.config import USER, model_names
from recsys.evaluation.metrics import metric_label, summary_names
from recsys.evaluation.significance import wilcoxon_test
from recsys.store import lab

if TYPE_CHECKING:
    from recsys.evaluation.report import EvaluationResult
    from recsys.store import Store

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 12345


def dataset_label(movielens_url: str, with_app_data: bool, sample_users: int | None = None) -> str:
    """``"ml-latest-small.zip + app ratings, 500-user sample"``: the MovieLens file's name (never
    the URL's credentials or query string)."""
    path = urlsplit(movielens_url).path if "://" in movielens_url else movielens_url
    name = PurePosixPath(path.replace("\\", "/")).name or "MovieLens"
    label = name + (" + app ratings" if with_app_data else "")
    if sample_users:
        label += f", {sample_users:,}-user sample"
    return label


def pack_per_user(result: EvaluationResult) -> bytes:
    """Every model's per-user metrics on the test split, long form ``[model, <user>, metrics...]``,
    as zstd Parquet bytes."""
    frames = [
        frame.with_columns(pl.lit(name).alias("model"))
        for name, frame in result.per_user.items()
        if name in model_names()
    ]
    out = io.BytesIO()
    pl.concat(frames, how="diagonal_relaxed").write_parquet(out, compression="zstd", compression_level=9)
    return out.getvalue()


def unpack_per_user(data: bytes) -> dict[str, pl.DataFrame]:
    """The inverse of :func:`pack_per_user`: ``{model: [<user>, metrics...]}``."""
    if not data:
        return {}
    frame = pl.read_parquet(io.BytesIO(data))
    return {str(name): part.drop("model") for (name,), part in frame.partition_by("model", as_dict=True).items()}


def save(
    store: Store,
    result: EvaluationResult,
    *,
    created_by: str | None,
    model_version: str,
    catalogue_build: str,
    dataset: str,
) -> int:
    """Store ``result``; returns the run's id."""
    doc = json.loads(json.dumps(result.to_dict(), default=str))
    return lab.save_run(
        store,
        created_by=created_by,
        model_version=model_version,
        catalogue_build=catalogue_build,
        dataset=dataset,
        protocol=result.config.protocol,
        config=doc["config"],
        document=doc,
        per_user=pack_per_user(result),
    )


def get(store: Store, run_id: int) -> lab.StoredRun:
    run = lab.get_run(store, run_id)
    if run is None:
        raise EvaluationError(f"No stored run {run_id}; `python -m recsys runs list` shows the stored runs.")
    return run


def run_meta(run: lab.RunInfo) -> dict[str, Any]:
    return {
        "id": run.id,
        "created_at": run.created_at.isoformat(),
        "created_by": run.created_by,
        "model_version": run.model_version,
        "catalogue_build": run.catalogue_build,
        "dataset": run.dataset,
        "protocol": run.protocol,
    }


def run_document(run: lab.RunInfo) -> dict[str, Any]:
    """The stored run as JSON (the page's export and ``runs show --json``): ``{"run": meta,
    **document}`` where ``document`` is what ``evaluate --json`` printed for it."""
    return {"run": run_meta(run), **run.document}


def run_json(run: lab.RunInfo) -> str:
    return json.dumps(run_document(run), indent=2, default=str)


def headline_value(run: lab.RunInfo, model: str) -> float | None:
    metric = run.document.get("config", {}).get("metric", "ndcg")
    for row in run.document.get("models", []):
        if row.get("model") == model:
            value = row.get(metric)
            return None if value is None else float(value)
    return None


def runs_table(runs: Sequence[lab.RunInfo]) -> pl.DataFrame:
    """One row per stored run (newest first): what the list on the page and ``runs list`` show."""
    rows = []
    for run in runs:
        cfg = run.document.get("config", {})
        label = metric_label(cfg.get("metric", "ndcg"), int(cfg.get("k", 10)))
        best = headline_value(run, "hybrid (best sweep step)")
        rows.append(
            {
                "Run": run.id,
                "When (UTC)": run.created_at.strftime("%Y-%m-%d %H:%M"),
                "By": run.created_by or "CLI",
                "Dataset": run.dataset,
                "Protocol": run.protocol,
                "K": int(cfg.get("k", 10)),
                "Metric": label,
                "Best hybrid (test)": None if best is None else round(best, 4),
                "Tested users": int(run.document.get("counts", {}).get("users", 0)),
                "Model": run.model_version,
            }
        )
    schema = {
        "Run": pl.Int64,
        "When (UTC)": pl.String,
        "By": pl.String,
        "Dataset": pl.String,
        "Protocol": pl.String,
        "K": pl.Int64,
        "Metric": pl.String,
        "Best hybrid (test)": pl.Float64,
        "Tested users": pl.Int64,
        "Model": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def stored_models_table(run: lab.RunInfo, stage: str = "test") -> pl.DataFrame:
    """A stored run's models table as shown (the same columns as ``EvaluationResult.models_table``)."""
    from recsys.evaluation.report import models_display

    doc = run.document
    rows = doc.get("models", []) if stage == "test" else (doc.get("validation") or {}).get("models", [])
    if not rows:
        return pl.DataFrame()
    cfg = doc.get("config", {})
    return models_display(rows, int(cfg.get("k", 10)), list(doc.get("weights", {})))


def models_csv(run: lab.RunInfo, stage: str = "test") -> str:
    """The per-model table of a stored run (one split) as CSV."""
    rows = (
        run.document.get("models", []) if stage == "test" else (run.document.get("validation") or {}).get("models", [])
    )
    if not rows:
        return ""
    return pl.DataFrame(rows, infer_schema_length=None).write_csv()


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "metric": self.metric,
            "shared_users": self.shared_users,
            "notes": list(self.notes),
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
    return RunComparison(a.id, b.id, metric, table, tests, shared, notes)


def compare_text(cmp: RunComparison, k: int = 10) -> str:
    from recsys.evaluation.report import _text_table

    lines = [f"Run {cmp.a} vs run {cmp.b}", *cmp.notes, "", _text_table(cmp.table)]
    if cmp.tests.height:
        lines += [
            "",
            f"Paired on {cmp.shared_users:,} shared users ({metric_label(cmp.metric, k)}; Wilcoxon signed-rank, "
            f"paired bootstrap 95% CI of the mean delta, {BOOTSTRAP_RESAMPLES:,} resamples):",
            _text_table(cmp.tests),
        ]
    return "\n".join(lines)


def delete(store: Store, run_id: int) -> None:
    if not lab.delete_run(store, run_id):
        raise EvaluationError(f"No stored run {run_id} to delete; `python -m recsys runs list` shows the stored runs.")


def weights_table(changes: Sequence[lab.WeightChange], names: Sequence[str]) -> pl.DataFrame:
    """The live-weight changes as shown: when, who, what, old and new shares."""
    from recsys.models.registry import format_weights

    def fmt(w: Mapping[str, float] | None) -> str:
        return "defaults" if not w else format_weights(shares(w))

    rows = [
        {
            "When (UTC)": c.changed_at.strftime("%Y-%m-%d %H:%M:%S"),
            "By": c.changed_by or "",
            "Action": c.action,
            "Old": fmt(c.old),
            "New": fmt(c.new),
        }
        for c in changes
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(("When (UTC)", "By", "Action", "Old", "New"), pl.String))


def shares(weights: Mapping[str, float]) -> dict[str, float]:
    """The weights as the blend's shares (each / their sum): the blend ranks the same for any
    positive multiple, so ``{content: 1, als: 1}`` is content 0.50, ALS 0.50."""
    total = sum(float(v) for v in weights.values())
    return {n: (float(v) / total if total > 0 else 0.0) for n, v in weights.items()}
