"""The lab's live-weight sections: the banner that says which weights every feed uses and where
they come from, the history of changes, and "Use for the feed": choose any sweep step, grid cell
or hand-set weights, see what changes on validation and test (accuracy and taste) next to the
live weights, confirm with a reason. Every write goes through :func:`recsys.models.weights.apply` /
:func:`recsys.models.weights.reset` (the role is checked there, against the store, whatever the page
showed). One notation: raw weights (:func:`recsys.models.weights.text`).

What is preselected follows :func:`recsys.evaluation.sweep.recommend`: the best sweep step only
when it beats the live weights on validation by more than the noise, else the live weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import streamlit as st

from recsys.errors import CineBlendError
from recsys.evaluation import metrics, report
from recsys.evaluation.config import HYBRID, weight_column
from recsys.evaluation.results import EvaluationResult
from recsys.models import registry, weights
from recsys.store import Store
from recsys.ui import auth, plain, state

if TYPE_CHECKING:
    from recsys.models.service import Recommender

PENDING = "cb_lab_apply"  # the Candidate the confirmation dialog is about


@dataclass(frozen=True)
class Candidate:
    """Weights someone may apply, with the run's figures for them where the run measured them
    (``validation`` / ``test``: ``{metric: value}``; empty when not measured)."""

    label: str
    weights: dict[str, float]
    validation: dict[str, float]
    test: dict[str, float]
    run_id: int | None


def _row_figures(frame: pl.DataFrame | None, i: int, names: list[str]) -> dict[str, float]:
    if frame is None or i >= frame.height:
        return {}
    row = frame.row(i, named=True)
    return {m: float(row[m]) for m in names if m in row and row[m] is not None}


def _model_figures(frame: pl.DataFrame | None, model: str, names: list[str]) -> dict[str, float]:
    if frame is None:
        return {}
    rows = frame.filter(pl.col("model") == model)
    return _row_figures(rows, 0, names) if rows.height else {}


def _weights_of(row: dict[str, Any]) -> dict[str, float]:
    return {n: float(row.get(weight_column(n)) or 0.0) for n in registry.names()}


def candidates(result: EvaluationResult, run_id: int) -> list[Candidate]:
    """The live weights, every sweep step and every grid cell of ``result``, with their figures."""
    shown = [result.config.metric, *metrics.TASTE]
    val = result.validation
    out = [
        Candidate(
            "Live weights at run time",
            dict(result.weights),
            _model_figures(val.models if val else None, HYBRID, shown),
            _model_figures(result.models, HYBRID, shown),
            run_id,
        )
    ]
    rec = result.recommendation or {}
    for i in range(result.sweep.height):
        w = _weights_of(result.sweep.row(i, named=True))
        tag = " (the live point)" if i == rec.get("live") else " (best on validation)" if i == result.best else ""
        out.append(
            Candidate(
                f"Sweep step {i + 1}: {weights.text(w)}{tag}",
                w,
                _row_figures(val.sweep if val else None, i, shown),
                _row_figures(result.sweep, i, shown),
                run_id,
            )
        )
    if result.grid is not None:
        for i in range(result.grid.height):
            w = _weights_of(result.grid.row(i, named=True))
            figures = _row_figures(result.grid, i, shown)
            out.append(
                Candidate(
                    f"Grid cell: {weights.text(w)}",
                    w,
                    figures if result.grid_on == "validation" else {},
                    figures if result.grid_on == "test" else {},
                    run_id,
                )
            )
    return out


def preselected(result: EvaluationResult) -> int:
    """Index into :func:`candidates`: the recommended sweep step, else the live weights (0)."""
    rec = result.recommendation or {}
    if rec.get("beats_live") and rec.get("step") is not None:
        return 1 + int(rec["step"])
    return 0


def deltas(new: Candidate, live: Candidate, k: int) -> pl.DataFrame:
    """``[Figure, Split, Live, New, Change]`` for the main metric and the taste metrics."""
    rows = []
    for split, a, b in (("validation", live.validation, new.validation), ("test", live.test, new.test)):
        for m, old in a.items():
            value = b.get(m)
            rows.append(
                {
                    "Figure": metrics.metric_label(m, k),
                    "Split": split,
                    "Live": round(old, 4),
                    "New": None if value is None else round(value, 4),
                    "Change": None if value is None or math.isnan(value) else round(value - old, 4),
                }
            )
    schema = {"Figure": pl.String, "Split": pl.String, "Live": pl.Float64, "New": pl.Float64, "Change": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def render_banner(store: Store, model: Recommender | None) -> weights.Resolved:
    """Which weights every feed uses now, and where they come from; returns them."""
    resolved = weights.resolve(store, model)
    plain.alert("info", f"Every feed uses: {resolved.describe()}.", icon=":material/tune:")
    return resolved


def render_history(
    store: Store, model: Recommender | None, resolved: weights.Resolved, may_apply: bool, who: str
) -> None:
    with st.expander("Live-weight changes"):
        changes = weights.history(store)
        if changes:
            st.dataframe(history_table(changes), hide_index=True)
        else:
            st.caption("No change yet.")
        if may_apply:
            st.button(
                "Reset (drop the live weights)",
                key="eval-reset-weights",
                icon=":material/restart_alt:",
                on_click=_reset,
                args=(store, model, who),
                disabled=resolved.source != "live",
                help="Feeds fall back to the model's tuned weights, else the defaults.",
            )
        else:
            st.caption("Analysts and admins apply and reset the live weights.")


def history_table(changes: list[Any]) -> pl.DataFrame:
    """The changes as shown: when, who, what, old and new raw weights, why, the run."""
    rows = [
        {
            "When (UTC)": c.changed_at.strftime("%Y-%m-%d %H:%M:%S"),
            "By": c.changed_by or "",
            "Action": c.action,
            "Old": weights.text(c.old) if c.old else "(none applied)",
            "New": weights.text(c.new),
            "Why": c.reason or "",
            "Run": None if c.run_id is None else int(c.run_id),
        }
        for c in changes
    ]
    schema = dict.fromkeys(("When (UTC)", "By", "Action", "Old", "New", "Why"), pl.String) | {"Run": pl.Int64}
    return pl.DataFrame(rows, schema=schema)


@auth.checked
def _reset(store: Store, model: Recommender | None, who: str) -> None:
    try:
        weights.reset(store, by=who, recommender=model, reason="reset in the lab")
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    now = weights.resolve(store, model)
    st.session_state[state.FLASH] = ("success", f"Live weights dropped: every feed now uses {now.describe()}.")


def render_use(
    store: Store, model: Recommender | None, result: EvaluationResult, run_id: int, may_apply: bool, who: str
) -> None:
    """The "Use for the feed" section of a shown run."""
    st.markdown(report.advice_line(result))
    options = candidates(result, run_id)
    index = st.selectbox(
        "Weights to use",
        range(len(options) + 1),
        index=preselected(result),
        format_func=lambda i: options[i].label if i < len(options) else "Set each weight by hand",
        key=f"eval-use-choice-{run_id}",
        help="Any sweep step or grid cell of this run, the live weights, or weights you set by hand. "
        "The run's validation and test figures are shown before anything is applied.",
    )
    if index < len(options):
        chosen = options[index]
    else:
        cols = st.columns(len(registry.names()))
        hand = {
            name: float(
                col.number_input(
                    registry.SCORERS[name].label,
                    0.0,
                    10.0,
                    float(result.weights.get(name, 0.0)),
                    0.05,
                    key=f"eval-hand-{name}",
                )
            )
            for col, name in zip(cols, registry.names(), strict=True)
        }
        chosen = Candidate("Weights set by hand", hand, {}, {}, None)
    table = deltas(chosen, options[0], result.config.k)
    if table.height:
        st.dataframe(table, hide_index=True, key=f"eval-use-deltas-{run_id}")
    if not chosen.validation and not chosen.test:
        st.warning(
            "This run did not measure these weights: run an evaluation with them before applying.",
            icon=":material/warning:",
        )
    if may_apply:
        if st.button("Apply to every feed…", key="eval-use", type="primary", icon=":material/check:"):
            st.session_state[PENDING] = chosen
        pending = st.session_state.get(PENDING)
        if isinstance(pending, Candidate):
            _confirm(store, pending, options[0], result.config.k, result.config.metric, who)
    else:
        st.caption("Only analysts and admins apply live weights; ask an admin for the analyst role.")


@st.dialog("Apply these weights to every feed?", width="large", dismissible=False)
def _confirm(store: Store, chosen: Candidate, live: Candidate, k: int, metric: str, who: str) -> None:
    if auth.revoked():  # a dialog reruns alone, like a fragment: the session check first
        st.session_state.pop(PENDING, None)
        st.rerun(scope="app")
    current = weights.resolve(store)
    st.markdown(f"**Now:** {plain.md_escape(current.describe())}")
    st.markdown(f"**New:** {weights.text(chosen.weights)}")
    table = deltas(chosen, live, k)
    if table.height:
        st.dataframe(table, hide_index=True)
    worse = table.filter((pl.col("Figure") == metrics.metric_label(metric, k)) & (pl.col("Change") < 0))
    if worse.height or not (chosen.validation or chosen.test):
        st.warning(
            "These weights score worse than the live ones, or were not measured in this run.",
            icon=":material/warning:",
        )
    same = all(abs(chosen.weights.get(n, 0.0) - v) <= 1e-9 for n, v in current.weights.items())
    if same and current.source == "live":
        st.info("These are the live weights already: applying would change nothing.", icon=":material/info:")
    elif same:
        st.caption(
            f"The same weights as now ({current.source}): applying pins them as live, so a later "
            "`tune` and `train` no longer changes what the feed uses."
        )
    reason = st.text_input("Why (kept in the history)", key="eval-apply-reason", max_chars=weights.MAX_REASON)
    c1, c2 = st.columns(2)
    if c1.button("Apply", type="primary", key="eval-apply-confirm", disabled=same and current.source == "live"):
        st.session_state.pop(PENDING, None)
        try:
            change = weights.apply(store, chosen.weights, by=who, reason=reason, run_id=chosen.run_id)
        except CineBlendError as exc:
            st.session_state[state.FLASH] = ("error", str(exc))
        else:
            st.session_state[state.FLASH] = (
                "success",
                f"Every feed now uses {weights.text(change.new)} (from its next render; change {change.id}).",
            )
        st.rerun()
    if c2.button("Cancel", key="eval-apply-cancel"):
        st.session_state.pop(PENDING, None)
        st.rerun()
