"""The evaluation lab's run-history sections (issue 19, item 4), each one call from
``pages/evaluation.py``: the runs table with failed and cancelled runs, a run's name and notes,
the comparison with its settings diff, a run's bootstrap intervals and cut-offs, the user
inspector and a metric across runs. The figures come from :mod:`recsys.evaluation.runs` (the same
functions ``python -m recsys runs ...`` prints); this module only renders. Text from data (run
names, notes, failure reasons, titles) is shown with plain-text elements or inside data frames,
never as Markdown.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import streamlit as st

from recsys.columns import Columns as C
from recsys.errors import CineBlendError
from recsys.evaluation import metrics, run_compare, run_settings, run_views, runs
from recsys.evaluation.config import BEST, HYBRID, POPULARITY, model_names
from recsys.evaluation.report import at_k_table
from recsys.store import lab
from recsys.store.schema import RUN_NAME_MAX
from recsys.ui import auth, state

if TYPE_CHECKING:
    from recsys.catalog.queries import Catalog
    from recsys.store import Store

log = logging.getLogger(__name__)

#: Session keys of the name and notes typed in the run form (read when the run is submitted).
NAME_KEY, NOTES_KEY = "eval-run-name", "eval-run-notes"


def render_submit_fields() -> None:
    """Inside the run form: the new run's name and notes (both optional)."""
    n1, n2 = st.columns([1, 2])
    n1.text_input("Run name (optional)", max_chars=RUN_NAME_MAX, key=NAME_KEY)
    n2.text_input("Notes (optional)", key=NOTES_KEY)


def submitted_name_notes() -> tuple[str | None, str | None]:
    """The name and notes typed in the form, ``None`` when left empty (call in the submit
    callback, where the form's values are in the session)."""
    s = st.session_state
    name = str(s.get(NAME_KEY) or "").strip() or None
    notes = str(s.get(NOTES_KEY) or "").strip() or None
    return name, notes


def render_runs_table(store: Store) -> None:
    """Every stored run, newest first, failed and cancelled ones with their reason; the
    ``Settings`` column tells runs with different settings apart."""
    stored = lab.list_runs(store, statuses=None)
    st.dataframe(run_views.runs_table(stored), hide_index=True, key="eval-runs-table")
    failed = sum(1 for r in stored if r.status != "done")
    if failed:
        st.caption(
            f"{failed} run{'s' if failed != 1 else ''} failed or cancelled: kept with the reason, no figures "
            "(they cannot be shown or compared)."
        )


@auth.checked
def _save_notes(store: Store, run_id: int) -> None:
    s = st.session_state
    try:
        runs.annotate(
            store,
            run_id,
            name=str(s.get(f"eval-name-{run_id}") or ""),
            notes=str(s.get(f"eval-notes-{run_id}") or ""),
        )
    except CineBlendError as exc:
        s[state.FLASH] = ("error", str(exc))
        return
    s[state.FLASH] = ("success", f"Saved the name and notes of run {run_id}.")


def render_run_notes(store: Store, run: lab.RunInfo, may_edit: bool = True) -> None:
    """The run's name, notes and settings fingerprint; an editor when ``may_edit`` (analysts,
    admins and the run's author: the page decides)."""
    st.text(
        f"{run_views.run_label(run)} · settings #{run_settings.settings_id(run)}: {run_settings.settings_summary(run)}"
    )
    if run.notes:
        st.text(f"Notes: {run.notes}")
    if not may_edit:
        return
    with st.expander("Name and notes", icon=":material/edit_note:"):
        st.text_input("Name", value=run.name or "", max_chars=RUN_NAME_MAX, key=f"eval-name-{run.id}")
        st.text_area("Notes", value=run.notes or "", key=f"eval-notes-{run.id}")
        st.button("Save", key=f"eval-save-notes-{run.id}", on_click=_save_notes, args=(store, run.id))


def render_compare(store: Store, a: int, b: int) -> None:
    """Runs ``a`` and ``b`` (the older is A): the settings that differ, the identical ones
    collapsed, then the test figures and the paired tests."""
    first, second = sorted((runs.get(store, a), runs.get(store, b)), key=lambda r: r.id)
    cmp = run_compare.compare_runs(first, second)
    st.markdown(f"**Run {first.id} (A) vs run {second.id} (B)** on the test split: B - A.")
    for note in cmp.notes:
        st.text(note)
    if cmp.settings.height:
        st.markdown("**Settings that differ**")
        st.dataframe(cmp.settings, hide_index=True, key="eval-compare-settings")
    with st.expander(f"Settings both runs share ({cmp.same_settings.height})"):
        st.dataframe(cmp.same_settings, hide_index=True, key="eval-compare-same")
    st.dataframe(cmp.table, hide_index=True, key="eval-compare-table")
    if cmp.tests.height:
        k = int(first.document.get("config", {}).get("k", 10))
        st.markdown(
            f"Paired on {cmp.shared_users:,} shared user{'s' if cmp.shared_users != 1 else ''} "
            f"({metrics.metric_label(cmp.metric, k)}): Wilcoxon signed-rank p and a paired bootstrap 95% "
            f"confidence interval of the mean delta ({run_compare.BOOTSTRAP_RESAMPLES:,} resamples)."
        )
        st.dataframe(cmp.tests, hide_index=True, key="eval-compare-tests")


@st.cache_data(show_spinner=False, max_entries=16, ttl=3600)
def _intervals(run_id: int, _run: lab.StoredRun) -> Any:
    return run_compare.figure_intervals(_run)


def render_run_figures(run: lab.StoredRun) -> None:
    """A run's own uncertainty and cut-offs: bootstrap 95% intervals per model (main metric and
    the taste metrics) and every model at K = 5, 10, 20."""
    intervals = _intervals(run.id, run)
    if intervals.height:
        st.markdown(
            f"**Bootstrap 95% intervals** of this run's test figures ({run_compare.BOOTSTRAP_RESAMPLES:,} seeded "
            "resamples of the tested users): how much each figure would move with other users."
        )
        st.dataframe(intervals, hide_index=True, key=f"eval-intervals-{run.id}")
    at_k = at_k_table(run.document)
    if at_k.height:
        st.markdown("**Every model at several cut-offs** (test split; the run's own K chooses the weights)")
        st.dataframe(at_k, hide_index=True, key=f"eval-at-k-{run.id}")
    else:
        st.caption("This run was stored before the extra cut-offs existed: run it again for K = 5, 10, 20.")


@st.cache_data(show_spinner=False, max_entries=4, ttl=3600)
def _lists(run_id: int, _run: lab.StoredRun) -> Any:
    return runs.unpack_lists(_run.lists)


def _title_names(catalog: Catalog | None, ids: list[str]) -> dict[str, str]:
    if catalog is None or not ids:
        return {}
    try:
        frame = catalog.titles(ids)
    except CineBlendError as exc:  # a missing catalogue: show the ids
        log.info("no title names for the inspector: %s", exc)
        return {}
    year: Callable[[Any], str] = lambda y: f" ({y})" if y else ""  # noqa: E731
    return {
        t: f"{name}{year(y)}"
        for t, name, y in zip(
            frame[C.TCONST].to_list(), frame[C.TITLE].to_list(), frame[C.START_YEAR].to_list(), strict=True
        )
    }


def render_user_inspector(store: Store, run: lab.StoredRun, catalog: Catalog | None = None) -> None:
    """Choose a tested user of ``run``: their training history, the held-out titles and each
    model's top 10 with hits marked (from the run's stored lists)."""
    st.subheader("User inspector")
    frame = _lists(run.id, run)
    users = sorted(frame.filter(frame["part"] == runs.HELD_OUT_PART)["user"].unique().to_list())
    if not users:
        st.info("This run stored no per-user lists (stored before the inspector existed): run it again.")
        return
    user = st.selectbox(
        f"Tested user ({len(users):,}; app users have negative ids)", users, key=f"eval-inspect-{run.id}"
    )
    view = runs.inspect_user(run, int(user), frame)
    names = _title_names(
        catalog, [*view.history["tconst"].to_list(), *view.held_out, *(t for top in view.tops.values() for t in top)]
    )
    hits = ", ".join(f"{m} {len(view.hits(m))}" for m in view.tops)
    st.text(f"{view.history.height} training ratings, {len(view.held_out)} held out. Hits in the top 10: {hits}.")
    tops = view.tops_table(names)
    st.dataframe(tops, hide_index=True, key=f"eval-inspect-tops-{run.id}")
    c1, c2 = st.columns(2)
    c1.markdown("**Held out** (the titles the lists should find)")
    c1.dataframe(
        {"Title": [names.get(t, t) for t in view.held_out], "tconst": view.held_out},
        hide_index=True,
        key=f"eval-inspect-held-{run.id}",
    )
    c2.markdown("**Training history** (oldest first)")
    history = view.history.with_columns(
        view.history["tconst"].replace_strict(names, default=view.history["tconst"]).alias("Title")
    ).select("Title", "rating", "tconst")
    c2.dataframe(history, hide_index=True, key=f"eval-inspect-history-{run.id}")


def render_metric_chart(store: Store) -> None:
    """A metric across the stored runs (test figures at each run's own K), one line per model."""
    stored = lab.list_runs(store)
    if len(stored) < 2:
        return
    st.subheader("A metric across runs")
    m1, m2 = st.columns([1, 2])
    metric = m1.selectbox(
        "Metric",
        metrics.summary_names(),
        format_func=lambda m: metrics.REGISTRY[m].label,
        key="eval-history-metric",
    )
    models = m2.multiselect(
        "Models", list(model_names()), default=[BEST, HYBRID, POPULARITY], key="eval-history-models"
    )
    history = run_views.metric_history(stored, metric, models)
    if history.height == 0:
        st.caption("No stored run reports this metric for these models.")
        return
    st.altair_chart(run_views.metric_chart(history, metric), width="stretch")
    ks = sorted(set(history["k"].to_list()))
    if len(ks) > 1:
        st.caption(f"The runs use different K ({', '.join(str(k) for k in ks)}): compare runs of one K.")
