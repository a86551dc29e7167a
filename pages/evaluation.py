"""Evaluation lab: honest offline evaluation (validation chooses, test reports), segments, the
2-D weight grid, run history with comparison and export, and the live weights (analysts and
admins apply or reset them; every change is kept). Runs and ``tune`` go to the store-backed job
queue (:mod:`recsys.evaluation.jobs`: enqueue / status / cancel, any server) and are stored; every figure shown comes from a stored run
(the same document ``python -m recsys runs show ID --json`` prints). This page only collects
settings and renders."""

import time

import polars as pl
import streamlit as st

from recsys import roles
from recsys import weights as live_weights_
from recsys.catalog.queries import Catalog
from recsys.errors import CineBlendError
from recsys.evaluation import jobs as lab_jobs
from recsys.evaluation import metrics, runner, runs, visitors
from recsys.evaluation.background import EXPENSIVE_S, DataSize, estimate_seconds, human_seconds
from recsys.evaluation.config import MAX_FACTORS, MAX_ITERATIONS, MAX_K, MAX_NEW_USER_DRAWS
from recsys.evaluation.grid import ALL_USERS, grid_chart
from recsys.evaluation.report import result_from_document
from recsys.evaluation.served import label as stage_label
from recsys.evaluation.splits import PROTOCOLS
from recsys.evaluation.sweep import sweep_chart
from recsys.evaluation.tv import MIN_TV_USERS, taste_table, tv_users
from recsys.feed import recommend_profile
from recsys.models import registry
from recsys.models.service import Recommender
from recsys.store import lab
from recsys.ui import auth, demo, lab_history, lab_weights, resources, state

LAST_CONFIG = "cb_eval_last_config"  # the settings of the last run this session submitted
JOB = "cb_eval_job"  # id of this session's queued / running job
SHOW = "cb_eval_show"  # a run to select on the next run (set when a job finishes)
CONFIRMED = "cb_eval_confirmed"  # config key a tester confirmed after the cost warning
SOURCES = {False: "MovieLens ratings", True: "MovieLens + app users' ratings"}
PROTOCOL_LABELS = {
    "temporal": "Temporal: last 20% (default)",
    "loo": "Leave last one out",
    "random": "Random 20% (seeded)",
    "global": "Global time cut (most realistic)",
}
STEPS = (0.05, 0.1, 0.125, 0.2, 0.25, 0.5)
GRID_STEPS = (0.1, 0.2, 0.25, 0.5)

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)
catalog = resources.catalog_or_stop(cfg)
model = resources.recommender(cfg)
is_demo = demo.active() is not None
may_apply = roles.may_apply_weights(user.role) and not is_demo
# a demo visitor is one browser session, not the persona every visitor of it shares (issue 21, N8)
who = f"{user.username} (demo {visitors.session_tag(demo.visitor_id())[:6]})" if is_demo else user.username


@st.cache_data(show_spinner=False, max_entries=8, ttl=3600)
def data_size(build_stamp: str, parquet_dir: str, app_ratings: int, _catalog: Catalog) -> DataSize:
    """What the cost estimate scales with (one read of the ratings per catalogue build)."""
    frame = _catalog.movielens_ratings(in_catalog_only=True)
    users = int(frame["ml_user_id"].n_unique()) if frame.height else 0
    items = int(frame["tconst"].n_unique()) if frame.height else 0
    return DataSize(frame.height + app_ratings, users, max(items, 1))


def size_now() -> DataSize:
    return data_size(runner.catalogue_stamp(cfg.parquet_dir), str(cfg.parquet_dir), 0, catalog)


def model_version() -> str:
    return (model.version or "unsaved") if model is not None else "none"


def start(config: runner.EvaluationConfig) -> None:
    """Queue ``config`` for this user (after the cost warning for testers and demo sessions)."""
    s = st.session_state
    if is_demo:  # cheaper bounds, counted per browser session and per address in the store
        config = visitors.bounded(config)
    estimate = estimate_seconds(size_now(), config)
    if estimate > EXPENSIVE_S and not may_apply and s.get(CONFIRMED) != config.key():
        s[CONFIRMED] = config.key()
        s[state.FLASH] = (
            "warning",
            f"These settings take {human_seconds(estimate)} of the shared server (estimated from the data size). "
            "Press Run evaluation again to run them anyway, or choose a user sample, fewer factors or "
            "iterations, a coarser grid or no segments.",
        )
        return
    try:
        name, notes = lab_history.submitted_name_notes()
        job = lab_jobs.enqueue_evaluation(
            cfg,
            resources.shared_store(cfg),
            who,
            config,
            estimate,
            name=name,
            notes=notes,
            visitor=visitors.visitor_params(demo.visitor_id(), auth.client_id()) if is_demo else None,
        )
    except CineBlendError as exc:
        s[state.FLASH] = ("error", str(exc))
        return
    s.pop(CONFIRMED, None)
    s[JOB] = job.id
    s[LAST_CONFIG] = config.to_dict()


@auth.checked
def submit() -> None:
    """The form's on_click: build the settings (bounded) and queue the run."""
    s = st.session_state
    start_c, stop_c = s["eval-sweep-range"]
    pair = (s["eval-grid-x"], s["eval-grid-y"])
    try:
        config = runner.EvaluationConfig(
            protocol=s["eval-protocol"],
            k=int(s["eval-k"]),
            metric=s["eval-metric"],
            sweep=(float(start_c), float(stop_c), float(s["eval-sweep-step"])),
            sweep_pair=(s["eval-sweep-x"], s["eval-sweep-y"]),
            weights=live_weights_.current(store, model),
            with_app_data=bool(s["eval-source"]),
            factors=int(s["eval-factors"]),
            regularization=float(s["eval-reg"]),
            alpha=float(s["eval-alpha"]),
            iterations=int(s["eval-iterations"]),
            seed=int(s["eval-seed"]),
            sample_users=int(s["eval-sample"]) or None,
            sweep_users=int(s["eval-sweep-users"]) or None,
            grid=pair if s["eval-grid-on"] else None,
            grid_step=float(s["eval-grid-step"]),
            segments=bool(s["eval-segments"]),
            new_user_draws=int(s["eval-draws"]) if s["eval-segments"] else 0,
        )
    except CineBlendError as exc:
        s[state.FLASH] = ("error", str(exc))
        return
    start(config)


@auth.checked
def start_tv() -> None:
    try:
        config = runner.EvaluationConfig(
            with_app_data=True, tv_only=True, weights=live_weights_.current(store, model), grid=None, new_user_draws=0
        )
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    start(config)


@auth.checked
def start_tune() -> None:
    """on_click of "Run tune": analysts and admins (checked in the store again when it starts)."""
    try:
        job = lab_jobs.enqueue_tune(cfg, resources.shared_store(cfg), user.username)
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    st.session_state[JOB] = job.id


@auth.checked
def cancel(job_id: int) -> None:
    if lab_jobs.cancel(cfg, resources.shared_store(cfg), job_id, who, any_job=user.role == roles.ADMIN and not is_demo):
        st.session_state[state.FLASH] = ("info", "Cancelling the evaluation; nothing of it will be stored.")


@auth.checked
def delete_run(run_id: int) -> None:
    try:
        runs.delete(store, run_id)
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    st.session_state.pop("eval-run", None)
    st.session_state[state.FLASH] = ("success", f"Deleted run {run_id}.")


if SHOW in st.session_state:  # a job finished: show its run (set before the selectbox exists)
    st.session_state["eval-run"] = st.session_state.pop(SHOW)

st.title("Evaluation lab")
st.caption(
    "Offline evaluation on MovieLens (optionally plus this app's ratings): each user's held-out "
    "likes are ranked against every title seen in training. A validation split carved from training "
    "chooses the weights; the test split reports. Every run is stored: compare any two, export them. "
    "The same figures as `python -m recsys evaluate` / `runs show`. MAP@K divides by min(|relevant|, K)."
)

# --- live weights -------------------------------------------------------------------------------
live_now = lab_weights.render_banner(store, model)
lab_weights.render_history(store, model, live_now, may_apply, user.username)
live = live_now.weights

# --- settings -----------------------------------------------------------------------------------
last = st.session_state.get(LAST_CONFIG)
shown = runner.EvaluationConfig.from_dict(last) if last else runner.EvaluationConfig()
names = list(registry.names())

with st.form("eval-form"):
    c1, c2, c3 = st.columns(3)
    c1.radio("Data", list(SOURCES), format_func=SOURCES.get, index=int(shown.with_app_data), key="eval-source")
    c1.selectbox(
        "Protocol",
        PROTOCOLS,
        index=PROTOCOLS.index(shown.protocol),
        format_func=lambda protocol: PROTOCOL_LABELS.get(protocol, protocol),
        key="eval-protocol",
        help="Positives are ratings of 4 or more. Per user with at least 5 positives, the last 20% of "
        "positives by time (at least one) are held out and every rating of that user from the first "
        "held-out one on leaves training; leave-last-one-out holds out the latest one (same rule); "
        "random holds out a seeded random 20%; the global time cut splits everyone at one moment. "
        "A validation split is carved from training by the same rule: the sweep and the grid choose "
        "there; the test split reports. Every title seen in training is ranked.",
    )
    c1.number_input("Seed", 0, 2**31 - 1, shown.seed, key="eval-seed")
    c1.number_input(
        "Sample of users (0 = all)",
        0,
        10_000_000,
        shown.sample_users or 0,
        key="eval-sample",
        help="Evaluate on a seeded sample of this many testable users: quick runs on big datasets.",
    )
    c1.number_input(
        "Users the sweep and grid score (0 = all)",
        0,
        10_000_000,
        shown.sweep_users or 0,
        key="eval-sweep-users",
        help="With more validation users than this, the sweep steps, the grid cells and the ranking stages' "
        "settings score a seeded sample of this many; the step, cell and setting chosen there are then "
        "reported on every validation user. The test split is never sampled.",
    )
    c2.number_input(f"K (list length, at most {MAX_K})", 1, MAX_K, shown.k, key="eval-k")
    c2.selectbox(
        "Metric that picks the best weights",
        metrics.ranking_metrics(),
        index=metrics.ranking_metrics().index(shown.metric),
        format_func=lambda m: metrics.REGISTRY[m].label,
        key="eval-metric",
    )
    sp1, sp2 = c2.columns(2)
    sp1.selectbox("Sweep: share of", names, index=names.index(shown.sweep_pair[0]), key="eval-sweep-x")
    sp2.selectbox("against", names, index=names.index(shown.sweep_pair[1]), key="eval-sweep-y")
    c3.slider(
        "Shares to sweep (the pair keeps its live total; the live point is always added)",
        0.0,
        1.0,
        (shown.sweep[0], shown.sweep[1]),
        0.05,
        key="eval-sweep-range",
    )
    c3.select_slider(
        "Sweep step", STEPS, value=shown.sweep[2] if shown.sweep[2] in STEPS else 0.1, key="eval-sweep-step"
    )
    with st.expander("Weight grid, segments"):
        g1, g2, g3, g4 = st.columns(4)
        pair = shown.grid or ("content", "als")
        g1.checkbox("2-D weight grid", shown.grid is not None, key="eval-grid-on")
        g2.selectbox("Grid x", names, index=names.index(pair[0]), key="eval-grid-x")
        g3.selectbox("Grid y", names, index=names.index(pair[1]), key="eval-grid-y")
        g4.select_slider(
            "Grid step",
            GRID_STEPS,
            value=shown.grid_step if shown.grid_step in GRID_STEPS else 0.25,
            key="eval-grid-step",
        )
        s1, s2 = st.columns(2)
        s1.checkbox("Segments (activity, popularity, new user)", shown.segments, key="eval-segments")
        s2.number_input("New-user draws (0 = none)", 0, MAX_NEW_USER_DRAWS, shown.new_user_draws, key="eval-draws")
    with st.expander("ALS hyperparameters"):
        a1, a2, a3, a4 = st.columns(4)
        a1.number_input(f"Factors (at most {MAX_FACTORS})", 1, MAX_FACTORS, shown.factors, key="eval-factors")
        a2.number_input("Regularisation", 0.0, 1000.0, float(shown.regularization), key="eval-reg")
        a3.number_input("Alpha", 0.01, 1000.0, float(shown.alpha), key="eval-alpha")
        a4.number_input(
            f"Iterations (at most {MAX_ITERATIONS})", 1, MAX_ITERATIONS, shown.iterations, key="eval-iterations"
        )
    lab_history.render_submit_fields()
    st.form_submit_button("Run evaluation", type="primary", icon=":material/play_arrow:", on_click=submit)

estimate = estimate_seconds(size_now(), shown)
st.caption(
    f"Cost estimate for {'these' if last else 'the default'} settings: {human_seconds(estimate)} on this server "
    f"(from the data size: {size_now().ratings:,} ratings, {size_now().users:,} users). Runs go to the server's "
    "queue one at a time; the page stays usable and you can cancel."
)
if is_demo:
    st.caption(
        f"Demo runs use a sample of {visitors.SAMPLE_USERS} users, no grid or segments, and at most "
        f"{visitors.RUNS_PER_SESSION} runs per 10 minutes. {visitors.SIGN_UP}"
    )
if may_apply:
    st.button(
        "Run tune (quick grid)",
        key="eval-tune",
        icon=":material/tune:",
        on_click=start_tune,
        help="Chooses ALS settings and blend weights on validation; the next training uses them.",
    )

# --- the running job ----------------------------------------------------------------------------
if JOB not in st.session_state and (yours := lab_jobs.mine(resources.shared_store(cfg), who)) is not None:
    st.session_state[JOB] = yours.id  # queued from another server or an earlier session
job = lab_jobs.status(resources.shared_store(cfg), st.session_state[JOB]) if JOB in st.session_state else None


@auth.fragment(run_every=1.0 if job is not None and job.job.active else None)
def job_panel() -> None:
    current = lab_jobs.status(resources.shared_store(cfg), st.session_state[JOB]) if JOB in st.session_state else None
    if current is None:
        return
    if current.job.active:
        if current.job.state == "queued":
            st.info(current.text, icon=":material/schedule:")
        else:
            st.progress(current.fraction, text=current.text)
        st.button("Cancel", key="eval-cancel", icon=":material/stop:", on_click=cancel, args=(current.job.id,))
        return
    st.session_state.pop(JOB, None)
    if current.job.state == "done":
        if current.run_id is not None:
            st.session_state[SHOW] = current.run_id
        st.session_state[state.FLASH] = ("success", current.text)
    elif current.job.cancelled:
        st.session_state[state.FLASH] = ("info", current.text)
    else:
        st.session_state[state.FLASH] = ("error", current.text)
    st.rerun()


job_panel()

# --- TV -----------------------------------------------------------------------------------------
with st.expander("TV"):
    n_tv = tv_users(store.all_interactions(), catalog.all_titles())
    if n_tv >= MIN_TV_USERS:
        st.markdown(
            f"{n_tv} app users have liked TV shows: TV can be evaluated on the app's own ratings "
            "(TV titles only; MovieLens has none)."
        )
        st.button("Evaluate TV on app ratings", key="eval-tv", on_click=start_tv)
    else:
        st.warning(
            f"TV is not covered by the offline evaluation: MovieLens has no TV shows and only {n_tv} app "
            f"user{'s' if n_tv != 1 else ''} {'have' if n_tv != 1 else 'has'} liked one ({MIN_TV_USERS} needed). "
            "The TV taste checks below show what the feed serves instead.",
            icon=":material/tv_off:",
        )

        @st.cache_data(show_spinner=False, max_entries=4, ttl=3600)
        def tv_checks(
            version: str, weights_key: str, _catalog: Catalog, _model: Recommender | None
        ) -> tuple[pl.DataFrame, float]:
            def recommend(profile: pl.DataFrame, n: int) -> dict[str, pl.DataFrame]:
                return recommend_profile(profile, n, catalog=_catalog, recommender=_model, weights=live)

            return taste_table(recommend, _catalog)

        table, overlap = tv_checks(model_version(), repr(sorted(live.items())), catalog, model)
        st.dataframe(table, hide_index=True)
        st.caption(
            f"TV top 10 for fans of five famous films of one genre, with the live weights. Largest overlap "
            f"between two fans' lists (Jaccard): {overlap:.2f} (low: different tastes get different lists)."
        )

# --- run history --------------------------------------------------------------------------------
stored = lab.list_runs(store)
st.subheader("Runs")
if not stored:
    st.info(
        "No stored run yet. Choose the settings and press **Run evaluation**. On MovieLens ml-latest-small "
        "a full run (validation and test, sweep, grid, segments) takes one to two minutes on a busy 2-core machine."
    )
    st.stop()

lab_history.render_runs_table(store)
ids = [r.id for r in stored]
labels = {r.id: f"{runs.run_label(r)} · {r.dataset}" for r in stored}
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
run = runs.get(store, run_id)

if other is not None:
    lab_history.render_compare(store, run_id, other)

started = time.perf_counter()
result = result_from_document(run.document, runs.unpack_per_user(run.per_user))
config = result.config
label = runner.metric_label(config.metric, config.k)
e1, e2, e3, e4 = st.columns(4)
e1.download_button(
    "Export run (JSON)",
    lambda: runs.run_json(runs.get(store, run_id)),
    file_name=f"cineblend-run-{run_id}.json",
    mime="application/json",
    key="eval-export-json",
    icon=":material/download:",
    on_click="ignore",
)
e2.download_button(
    "Models, test (CSV)",
    lambda: runs.models_csv(runs.get(store, run_id), "test"),
    file_name=f"cineblend-run-{run_id}-test.csv",
    mime="text/csv",
    key="eval-export-test",
    icon=":material/table:",
    on_click="ignore",
)
e3.download_button(
    "Models, validation (CSV)",
    lambda: runs.models_csv(runs.get(store, run_id), "validation"),
    file_name=f"cineblend-run-{run_id}-validation.csv",
    mime="text/csv",
    key="eval-export-validation",
    icon=":material/table:",
    on_click="ignore",
)
if may_apply or run.created_by == who:
    e4.button("Delete run", key="eval-delete", icon=":material/delete:", on_click=delete_run, args=(run_id,))

st.subheader(f"Run {run_id}: models side by side")
lab_history.render_run_notes(store, run, may_apply or run.created_by == who)
if run.catalogue_build != runner.catalogue_stamp(cfg.parquet_dir) or run.model_version != model_version():
    st.caption("The catalogue or the model changed since this run: run again for current figures.")
st.caption(
    f"{result.headline()} Hybrid (current) = the live weights at run time ({live_weights_.text(result.weights)}); "
    f"content model {result.content_source}. {result.timing_line()} Run by {run.created_by or 'the CLI'} on "
    f"{run.created_at:%Y-%m-%d %H:%M} UTC; {run.dataset}; model {run.model_version}."
)
st.markdown("**Validation and test**: the validation split chooses, the test split reports.")
st.dataframe(result.comparison_table(), hide_index=True)
tab_test, tab_val = st.tabs(["Test split (every figure)", "Validation split (every figure)"])
with tab_test:
    st.dataframe(result.models_table(), hide_index=True)
    lab_history.render_run_figures(run)
with tab_val:
    if result.validation is None:
        st.info("The validation split had no user with enough ratings to test.")
    else:
        st.dataframe(result.models_table("validation"), hide_index=True)
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
    stage_columns = [c for c in ("stages", config.metric, *metrics.TASTE, "coverage") if c in result.stage_grid.columns]
    st.dataframe(
        result.stage_grid.select(stage_columns).rename(
            {c: metrics.metric_label(c, config.k) for c in stage_columns if c != "stages"} | {"stages": "Stages"}
        ),
        hide_index=True,
    )

st.subheader(f"{label} along the weight sweep")
st.altair_chart(sweep_chart(result), width="stretch")
st.markdown(result.best_line())
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
swept_on = result.validation.counts.get("sweep_users") if result.validation is not None else None
if swept_on:
    st.caption(
        f"On validation the sweep steps, the grid cells and the ranking-stage settings scored a seeded sample of "
        f"{swept_on:,} of the {result.counts['validation_users']:,} users; the chosen ones are reported on all of them."
    )
with st.expander("Every sweep step"):
    st.dataframe(result.sweep_table(), hide_index=True)

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
    activity = result.activity_table()
    if activity.height:
        st.markdown(f"**By user activity** (training ratings per tested user; {label}, test split)")
        st.dataframe(activity, hide_index=True)
    popularity = result.popularity_table()
    if popularity.height:
        st.markdown(
            "**By item popularity**: head = the most rated titles holding the first 50% of training ratings, "
            "torso the next 30%, tail the last 20%; share of each model's recommendations and of its hits."
        )
        st.dataframe(popularity, hide_index=True)
    newuser = result.new_user_table()
    if newuser.height:
        nu = result.segments["new_user"]
        st.markdown(
            f"**A new user after onboarding**: {nu['likes']} liked films + {nu['genres']} favourite genres, "
            f"left out of training and folded in; mean over {nu['draws']} seeded draws of up to {nu['users']} users."
        )
        st.dataframe(newuser, hide_index=True)

lab_history.render_user_inspector(store, run, catalog)
lab_history.render_metric_chart(store)

st.subheader("Significance")
choices = [m for m in runner.model_names() if m in result.per_user]
if len(choices) >= 2:
    q1, q2, q3 = st.columns(3)
    first_c = q1.selectbox("Configuration A", choices, index=choices.index(runner.BEST), key=f"eval-sig-a-{run_id}")
    second_c = q2.selectbox("Configuration B", choices, index=choices.index(runner.HYBRID), key=f"eval-sig-b-{run_id}")
    metric = q3.selectbox(
        "Per-user metric",
        metrics.ranking_metrics(),
        index=metrics.ranking_metrics().index(config.metric),
        format_func=lambda m: metrics.metric_label(m, config.k),
        key="eval-sig-metric",
    )
    st.markdown(result.compare(first_c, second_c, metric).summary())
    st.caption("Wilcoxon signed-rank test on each tested user's pair of values; users with equal values are left out.")
else:
    st.markdown(result.significance.summary())

st.subheader("Use for the feed")
lab_weights.render_use(store, model, result, run_id, may_apply, user.username)
st.caption(f"Shown in {time.perf_counter() - started:.2f} s.")
