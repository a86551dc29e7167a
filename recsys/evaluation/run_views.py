"""Stored runs as the lab page and ``python -m recsys runs ...`` show them: the runs table, a run's
label, a metric across runs (table and chart), a run's models table and CSV, the text of a
comparison. The runs themselves are :mod:`recsys.evaluation.runs`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from recsys.csvsafe import safe_csv
from recsys.evaluation.config import BEST, HYBRID, POPULARITY
from recsys.evaluation.metrics import metric_label
from recsys.evaluation.run_compare import BOOTSTRAP_RESAMPLES, RunComparison
from recsys.evaluation.run_settings import settings_id, settings_summary
from recsys.store import lab

if TYPE_CHECKING:
    pass


def headline_value(run: lab.RunInfo, model: str) -> float | None:
    metric = run.document.get("config", {}).get("metric", "ndcg")
    for row in run.document.get("models", []):
        if row.get("model") == model:
            value = row.get(metric)
            return None if value is None else float(value)
    return None


def runs_table(runs: Sequence[lab.RunInfo]) -> pl.DataFrame:
    """One row per stored run (newest first): what the list on the page and ``runs list`` show.
    ``Settings`` is the settings fingerprint (:func:`settings_id`) and what differs from the
    defaults, so two runs with different settings never show the same row; a failed or cancelled
    run shows its status and reason and no figures."""
    rows = []
    for run in runs:
        cfg = run.document.get("config", {})
        label = metric_label(cfg.get("metric", "ndcg"), int(cfg.get("k", 10)))
        best = headline_value(run, BEST)
        status = run.status if run.status == "done" else f"{run.status}: {run.reason or 'no reason given'}"
        rows.append(
            {
                "Run": run.id,
                "Name": run.name or "",
                "Status": status,
                "When (UTC)": run.created_at.strftime("%Y-%m-%d %H:%M"),
                "By": run.created_by or "CLI",
                "Dataset": run.dataset,
                "Protocol": run.protocol,
                "K": int(cfg.get("k", 10)),
                "Metric": label,
                "Best hybrid (test)": None if best is None else round(best, 4),
                "Tested users": int(run.document.get("counts", {}).get("users", 0)),
                "Model": run.model_version,
                "Settings": f"#{settings_id(run)} {settings_summary(run)}",
                "Notes": run.notes or "",
            }
        )
    schema = {
        "Run": pl.Int64,
        "Name": pl.String,
        "Status": pl.String,
        "When (UTC)": pl.String,
        "By": pl.String,
        "Dataset": pl.String,
        "Protocol": pl.String,
        "K": pl.Int64,
        "Metric": pl.String,
        "Best hybrid (test)": pl.Float64,
        "Tested users": pl.Int64,
        "Model": pl.String,
        "Settings": pl.String,
        "Notes": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def run_label(run: lab.RunInfo) -> str:
    """How a run is named in choosers: ``"Run 3 · ALS 128 · 2026-12-05 10:00 · ada"``."""
    name = f" · {run.name}" if run.name else ""
    status = "" if run.status == "done" else f" · {run.status}"
    return f"Run {run.id}{name}{status} · {run.created_at:%Y-%m-%d %H:%M} · {run.created_by or 'CLI'}"


def metric_history(
    runs: Sequence[lab.RunInfo], metric: str = "ndcg", models: Sequence[str] = (BEST, HYBRID, POPULARITY)
) -> pl.DataFrame:
    """One row per stored run (with figures) and model: ``[run, label, model, value, k,
    dataset, settings]``, oldest first, ``value`` the test figure of ``metric`` at the run's own K
    (the chart across runs; a run that did not report ``metric`` is left out)."""
    rows = []
    for run in sorted(runs, key=lambda r: r.id):
        if run.status != "done":
            continue
        cfg = run.document.get("config", {})
        for row in run.document.get("models", []):
            model = row.get("model")
            if model not in models or row.get(metric) is None:
                continue
            rows.append(
                {
                    "run": run.id,
                    "label": run_label(run),
                    "model": model,
                    "value": float(row[metric]),
                    "k": int(cfg.get("k", 10)),
                    "dataset": run.dataset,
                    "settings": f"#{settings_id(run)}",
                }
            )
    schema = {
        "run": pl.Int64,
        "label": pl.String,
        "model": pl.String,
        "value": pl.Float64,
        "k": pl.Int64,
        "dataset": pl.String,
        "settings": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def metric_chart(history: pl.DataFrame, metric: str = "ndcg") -> Any:
    """An altair line chart of :func:`metric_history`: run id across, the metric up, one line
    per model; the tooltip names the run, its K, dataset and settings fingerprint."""
    import altair as alt

    from recsys.evaluation.metrics import REGISTRY

    spec = REGISTRY.get(metric)
    title = f"{spec.label}@K (each run's own K)" if spec is not None and spec.at_k else metric_label(metric, 10)
    frame = history.rename({"value": title}).to_pandas()
    tooltip = [
        alt.Tooltip("label:N", title="Run"),
        alt.Tooltip("model:N", title="Model"),
        alt.Tooltip(f"{title}:Q", format=".4f"),
        alt.Tooltip("k:Q", title="K"),
        alt.Tooltip("dataset:N", title="Dataset"),
        alt.Tooltip("settings:N", title="Settings"),
    ]
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("run:O", title="Run"),
            y=alt.Y(f"{title}:Q", title=title, scale=alt.Scale(zero=False)),
            color=alt.Color("model:N", title="Model"),
            tooltip=tooltip,
        )
    )


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
    """The per-model table of a stored run (one split) as CSV (formula cells neutralised:
    :mod:`recsys.csvsafe`)."""
    rows = (
        run.document.get("models", []) if stage == "test" else (run.document.get("validation") or {}).get("models", [])
    )
    if not rows:
        return ""
    return safe_csv(pl.DataFrame(rows, infer_schema_length=None))


def compare_text(cmp: RunComparison, k: int = 10) -> str:
    from recsys.evaluation.report import text_table

    lines = [f"Run {cmp.a} vs run {cmp.b}", *cmp.notes]
    if cmp.settings.height:
        lines += [
            "",
            f"Settings that differ ({cmp.same_settings.height} more are the same):",
            text_table(cmp.settings),
        ]
    lines += ["", text_table(cmp.table)]
    if cmp.tests.height:
        lines += [
            "",
            f"Paired on {cmp.shared_users:,} shared users ({metric_label(cmp.metric, k)}; Wilcoxon signed-rank, "
            f"paired bootstrap 95% CI of the mean delta, {BOOTSTRAP_RESAMPLES:,} resamples):",
            text_table(cmp.tests),
        ]
    return "\n".join(lines)
