"""The evaluation lab's stored runs (issue 24: out of ``pages/evaluation.py``): choose a run (and
one to compare it with), then every figure of it - exports, the models side by side on
validation and test, the ranking stages, the weight sweep and grid, the segments, the user
inspector, the significance test and "Use for the feed". Every figure comes from a stored run
(the same document ``python -m recsys runs show ID --json`` prints); the tables and lines are
:mod:`recsys.evaluation.report`'s, the run's storage :mod:`recsys.evaluation.runs`.
"""

from __future__ import annotations

import time

import streamlit as st

from recsys.errors import CineBlendError
from recsys.evaluation import metrics, report, run_views, runner, runs
from recsys.evaluation.grid import ALL_USERS, grid_chart
from recsys.evaluation.results import result_from_document
from recsys.evaluation.served import label as stage_label
from recsys.evaluation.sweep import sweep_chart
from recsys.models import weights as live_weights_
from recsys.store import lab as lab_store
from recsys.ui import auth, lab_history, lab_weights, state
from recsys.ui.lab_form import Lab


@auth.checked
def delete_run(lab: Lab, run_id: int) -> None:
    try:
        runs.delete(lab.store, run_id)
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    st.session_state.pop("eval-run", None)
    st.session_state[state.FLASH] = ("success", f"Deleted run {run_id}.")


def render(lab: Lab) -> None:
    """The runs table, the run chooser and the chosen run (nothing more without a stored run)."""
    stored = lab_store.list_runs(lab.store)
    st.subheader("Runs")
    if not stored:
        st.info(
            "No stored run yet. Choose the settings and press **Run evaluation**. On MovieLens ml-latest-small "
            "a full run (validation and test, sweep, grid, segments) takes one to two minutes on a busy 2-core machine."
        )
        return

    lab_history.render_runs_table(lab.store)
    ids = [r.id for r in stored]
    labels = {r.id: f"{run_views.run_label(r)} · {r.dataset}" for r in stored}
    if st.session_state.get("eval-run") not in ids:
        st.session_state["eval-run"] = ids[0]
    h1, h2 = st.columns(2)
    run_id: int = h1.selectbox("Show run", ids, format_func=lambda i: labels.get(i, str(i)), key="eval-run")
    other = h2.selectbox(
        "Compare with",
        [None, *[i for i in ids if i != run_id]],
        format_func=lambda i: "(no comparison)" if i is None else labels[i],
        key=f"eval-compare-{run_id}",
    )
    if other is not None:
        lab_history.render_compare(lab.store, run_id, other)

    render_run(lab, run_id)


def render_run(lab: Lab, run_id: int) -> None:
    """Every figure of stored run ``run_id``."""
    run = runs.get(lab.store, run_id)
    started = time.perf_counter()
    result = result_from_document(run.document, runs.unpack_per_user(run.per_user))
    config = result.config
    label = runner.metric_label(config.metric, config.k)
    e1, e2, e3, e4 = st.columns(4)
    e1.download_button(
        "Export run (JSON)",
        lambda: runs.run_json(runs.get(lab.store, run_id)),
        file_name=f"cineblend-run-{run_id}.json",
        mime="application/json",
        key="eval-export-json",
        icon=":material/download:",
        on_click="ignore",
    )
    e2.download_button(
        "Models, test (CSV)",
        lambda: run_views.models_csv(runs.get(lab.store, run_id), "test"),
        file_name=f"cineblend-run-{run_id}-test.csv",
        mime="text/csv",
        key="eval-export-test",
        icon=":material/table:",
        on_click="ignore",
    )
    e3.download_button(
        "Models, validation (CSV)",
        lambda: run_views.models_csv(runs.get(lab.store, run_id), "validation"),
        file_name=f"cineblend-run-{run_id}-validation.csv",
        mime="text/csv",
        key="eval-export-validation",
        icon=":material/table:",
        on_click="ignore",
    )
    if lab.may_apply or run.created_by == lab.who:
        e4.button("Delete run", key="eval-delete", icon=":material/delete:", on_click=delete_run, args=(lab, run_id))

    st.subheader(f"Run {run_id}: models side by side")
    lab_history.render_run_notes(lab.store, run, lab.may_apply or run.created_by == lab.who)
    if run.catalogue_build != runner.catalogue_stamp(lab.cfg.parquet_dir) or run.model_version != lab.model_version:
        st.caption("The catalogue or the model changed since this run: run again for current figures.")
    st.caption(
        f"{report.headline(result)} Hybrid (current) = the live weights at run time ({live_weights_.text(result.weights)}); "
        f"content model {result.content_source}. {report.timing_line(result)} Run by {run.created_by or 'the CLI'} on "
        f"{run.created_at:%Y-%m-%d %H:%M} UTC; {run.dataset}; model {run.model_version}."
    )
    st.markdown("**Validation and test**: the validation split chooses, the test split reports.")
    st.dataframe(report.comparison_table(result), hide_index=True)
    tab_test, tab_val = st.tabs(["Test split (every figure)", "Validation split (every figure)"])
    with tab_test:
        st.dataframe(report.models_table(result), hide_index=True)
        lab_history.render_run_figures(run)
    with tab_val:
        if result.validation is None:
            st.info("The validation split had no user with enough ratings to test.")
        else:
            st.dataframe(report.models_table(result, "validation"), hide_index=True)
    with st.expander("What the columns mean", icon=":material/help:"):
        before = [m for m in metrics.list_measures() if m not in metrics.TASTE]
        st.markdown(
            f"**Shown before** ({', '.join(metrics.metric_label(m, config.k) for m in before)}), next to the accuracy "
            f"metrics at K:"
        )
        for line in metrics.definitions(before):
            st.caption(line)
        st.markdown("**Taste**: each user's list against that user's own likes (means over tested users):")
        for line in metrics.definitions(metrics.TASTE):
            st.caption(line)
        st.caption(
            "Old runs stored before these columns existed show them empty. The tail here is not the 'tail' band "
            "of the segments below (the titles holding the last 20% of training ratings)."
        )

    if result.stage_grid is not None and result.stage_grid.height:
        st.subheader("Ranking stages (after the blend)")
        st.caption(
            f"The served row is what the feed ranks: the live weights, then the ranking stages with "
            f"{stage_label(result.stages)}, the strongest setting (calibration first) whose {label} on "
            f"{result.stages_on} stays within 2% of the best setting's. Every setting tried on {result.stages_on}:"
        )
        stage_columns = [
            c for c in ("stages", config.metric, *metrics.TASTE, "coverage") if c in result.stage_grid.columns
        ]
        st.dataframe(
            result.stage_grid.select(stage_columns).rename(
                {c: metrics.metric_label(c, config.k) for c in stage_columns if c != "stages"} | {"stages": "Stages"}
            ),
            hide_index=True,
        )

    st.subheader(f"{label} along the weight sweep")
    st.altair_chart(sweep_chart(result), width="stretch")
    st.markdown(report.best_line(result))
    if result.chosen_on == "validation":
        st.caption(
            "The best step is chosen on the validation split (carved from training by the same rule) and "
            "its test figure is reported: an honest estimate. Check a small lead with the significance test."
        )
    else:
        st.caption(
            "The validation split had no user to test, so this step was picked on the test users "
            "themselves: its lead is optimistic."
        )
    sampled = report.sample_line(result)
    if sampled:
        st.caption(sampled)
    with st.expander("Every sweep step"):
        st.dataframe(report.sweep_table(result), hide_index=True)

    if result.grid is not None and config.grid is not None:
        st.subheader("Weights in two dimensions")
        st.altair_chart(
            grid_chart(result.grid, config.grid, config.metric, config.k, result.weights, config.grid_step),
            width="stretch",
        )
        doc_grid = result.to_dict()["grid"]
        st.caption(
            f"Every cell re-blends the {result.grid_on} scores (nothing refitted). Optimum: "
            f"{live_weights_.text(doc_grid['best']['weights'])} -> {doc_grid['best']['value']:.4f}; the orange ring marks the live "
            "weights at run time."
        )
        if ALL_USERS in result.grid.columns:
            everyone = result.grid[ALL_USERS].drop_nulls()
            if everyone.len():
                st.caption(
                    f"The cells scored a seeded sample of {config.sweep_users:,} validation users; the optimum "
                    f"on every validation user: {float(everyone[0]):.4f}."
                )

    if result.segments is not None:
        st.subheader("Segments")
        activity = report.activity_table(result)
        if activity.height:
            st.markdown(f"**By user activity** (training ratings per tested user; {label}, test split)")
            st.dataframe(activity, hide_index=True)
        popularity = report.popularity_table(result)
        if popularity.height:
            st.markdown(
                "**By item popularity**: head = the most rated titles holding the first 50% of training ratings, "
                "torso the next 30%, tail the last 20%; share of each model's recommendations and of its hits."
            )
            st.dataframe(popularity, hide_index=True)
        newuser = report.new_user_table(result)
        if newuser.height:
            nu = result.segments["new_user"]
            st.markdown(
                f"**A new user after onboarding**: {nu['likes']} liked films + {nu['genres']} favourite genres, "
                f"left out of training and folded in; mean over {nu['draws']} seeded draws of up to {nu['users']} users."
            )
            st.dataframe(newuser, hide_index=True)

    lab_history.render_user_inspector(lab.store, run, lab.catalog)
    lab_history.render_metric_chart(lab.store)

    st.subheader("Significance")
    choices = [m for m in runner.model_names() if m in result.per_user]
    if len(choices) >= 2:
        q1, q2, q3 = st.columns(3)
        first_c = q1.selectbox("Configuration A", choices, index=choices.index(runner.BEST), key=f"eval-sig-a-{run_id}")
        second_c = q2.selectbox(
            "Configuration B", choices, index=choices.index(runner.HYBRID), key=f"eval-sig-b-{run_id}"
        )
        metric = q3.selectbox(
            "Per-user metric",
            metrics.ranking_metrics(),
            index=metrics.ranking_metrics().index(config.metric),
            format_func=lambda m: metrics.metric_label(m, config.k),
            key="eval-sig-metric",
        )
        st.markdown(result.compare(first_c, second_c, metric).summary())
        st.caption(
            "Wilcoxon signed-rank test on each tested user's pair of values; users with equal values are left out."
        )
    else:
        st.markdown(result.significance.summary())

    st.subheader("Use for the feed")
    lab_weights.render_use(lab.store, lab.model, result, run_id, lab.may_apply, lab.user.username)
    st.caption(f"Shown in {time.perf_counter() - started:.2f} s.")
