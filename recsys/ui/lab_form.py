"""The evaluation lab's controllers for what a visitor starts (issue 24: out of
``pages/evaluation.py``): the lab's context (:class:`Lab`: the settings, the store, the user and
what they may do), the settings form and its cost estimate, the queued job's panel, ``tune`` and
the TV section. Runs go to the store-backed job queue (:mod:`recsys.evaluation.jobs`: enqueue /
status / cancel, any server); the form keeps the settings of this session's last run.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import streamlit as st

from recsys.access import roles
from recsys.app.feed import recommend_profile
from recsys.catalog.queries import Catalog
from recsys.config import Settings
from recsys.errors import CineBlendError
from recsys.evaluation import background, metrics, runner, visitors
from recsys.evaluation import jobs as lab_jobs
from recsys.evaluation.background import EXPENSIVE_S, DataSize, human_seconds
from recsys.evaluation.config import MAX_FACTORS, MAX_ITERATIONS, MAX_K, MAX_NEW_USER_DRAWS
from recsys.evaluation.splits import PROTOCOLS
from recsys.evaluation.tv import MIN_TV_USERS, taste_table, tv_users
from recsys.models import registry
from recsys.models import weights as live_weights_
from recsys.models.registry import Weights
from recsys.models.service import Recommender
from recsys.store import Store, User
from recsys.ui import auth, demo, lab_history, resources, state

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


@dataclass(frozen=True)
class Lab:
    """One run of the lab page: the settings, the store, the signed-in user, the catalogue and
    the model; ``who`` is what the job queue counts runs by (a demo visitor is one browser
    session, not the persona every visitor of it shares: issue 21, N8)."""

    cfg: Settings
    store: Store
    user: User
    catalog: Catalog
    model: Recommender | None
    is_demo: bool
    may_apply: bool
    who: str

    @property
    def model_version(self) -> str:
        return (self.model.version or "unsaved") if self.model is not None else "none"

    def size(self) -> DataSize:
        return data_size(runner.catalogue_stamp(self.cfg.parquet_dir), str(self.cfg.parquet_dir), 0, self.catalog)

    def jobs_store(self) -> Store:
        return resources.shared_store(self.cfg)


def open_lab() -> Lab:
    """The page's context; stops the page for a visitor who is not signed in or without a
    catalogue (as every page does)."""
    cfg = resources.settings()
    store = resources.store(cfg)
    user = auth.require_user(store)
    catalog = resources.catalog_or_stop(cfg)
    is_demo = demo.active() is not None
    who = f"{user.username} (demo {visitors.session_tag(demo.visitor_id())[:6]})" if is_demo else user.username
    may_apply = roles.may_apply_weights(user.role) and not is_demo
    lab = Lab(cfg, store, user, catalog, resources.recommender(cfg), is_demo, may_apply, who)
    if SHOW in st.session_state:  # a job finished: show its run (set before the selectbox exists)
        st.session_state["eval-run"] = st.session_state.pop(SHOW)
    return lab


@st.cache_data(show_spinner=False, max_entries=8, ttl=3600)
def data_size(build_stamp: str, parquet_dir: str, app_ratings: int, _catalog: Catalog) -> DataSize:
    """What the cost estimate scales with (one read of the ratings per catalogue build)."""
    frame = _catalog.movielens_ratings(in_catalog_only=True)
    users = int(frame["ml_user_id"].n_unique()) if frame.height else 0
    items = int(frame["tconst"].n_unique()) if frame.height else 0
    return DataSize(frame.height + app_ratings, users, max(items, 1))


def start(lab: Lab, config: runner.EvaluationConfig) -> None:
    """Queue ``config`` for this user (after the cost warning for testers and demo sessions)."""
    s = st.session_state
    if lab.is_demo:  # cheaper bounds, counted per browser session and per address in the store
        config = visitors.bounded(config)
    estimate = background.estimate_seconds(lab.size(), config)
    if estimate > EXPENSIVE_S and not lab.may_apply and s.get(CONFIRMED) != config.key():
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
            lab.cfg,
            lab.jobs_store(),
            lab.who,
            config,
            estimate,
            name=name,
            notes=notes,
            visitor=visitors.visitor_params(demo.visitor_id(), auth.client_id()) if lab.is_demo else None,
        )
    except CineBlendError as exc:
        s[state.FLASH] = ("error", str(exc))
        return
    s.pop(CONFIRMED, None)
    s[JOB] = job.id
    s[LAST_CONFIG] = config.to_dict()


@auth.checked
def submit(lab: Lab) -> None:
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
            weights=live_weights_.current(lab.store, lab.model),
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
    start(lab, config)


@auth.checked
def start_tv(lab: Lab) -> None:
    try:
        config = runner.EvaluationConfig(
            with_app_data=True,
            tv_only=True,
            weights=live_weights_.current(lab.store, lab.model),
            grid=None,
            new_user_draws=0,
        )
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    start(lab, config)


@auth.checked
def start_tune(lab: Lab) -> None:
    """on_click of "Run tune": analysts and admins (checked in the store again when it starts)."""
    try:
        job = lab_jobs.enqueue_tune(lab.cfg, lab.jobs_store(), lab.user.username)
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    st.session_state[JOB] = job.id


@auth.checked
def cancel(lab: Lab, job_id: int) -> None:
    any_job = lab.user.role == roles.ADMIN and not lab.is_demo
    if lab_jobs.cancel(lab.cfg, lab.jobs_store(), job_id, lab.who, any_job=any_job):
        st.session_state[state.FLASH] = ("info", "Cancelling the evaluation; nothing of it will be stored.")


def render_form(lab: Lab) -> None:
    """The settings form (the last run's settings of this session, else the defaults), the cost
    estimate, the demo's limits and, for analysts and admins, "Run tune"."""
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
        st.form_submit_button(
            "Run evaluation", type="primary", icon=":material/play_arrow:", on_click=submit, args=(lab,)
        )

    estimate = background.estimate_seconds(lab.size(), shown)
    st.caption(
        f"Cost estimate for {'these' if last else 'the default'} settings: {human_seconds(estimate)} on this server "
        f"(from the data size: {lab.size().ratings:,} ratings, {lab.size().users:,} users). Runs go to the server's "
        "queue one at a time; the page stays usable and you can cancel."
    )
    if lab.is_demo:
        st.caption(
            f"Demo runs use a sample of {visitors.SAMPLE_USERS} users, no grid or segments, and at most "
            f"{visitors.RUNS_PER_SESSION} runs per 10 minutes. {visitors.SIGN_UP}"
        )
    if lab.may_apply:
        st.button(
            "Run tune (quick grid)",
            key="eval-tune",
            icon=":material/tune:",
            on_click=start_tune,
            args=(lab,),
            help="Chooses ALS settings and blend weights on validation; the next training uses them.",
        )


def render_job_panel(lab: Lab) -> None:
    """This session's queued or running job (also one queued from another server or an earlier
    session): its progress, refreshed every second, and Cancel; a finished job's run is shown
    next."""
    if JOB not in st.session_state and (yours := lab_jobs.mine(lab.jobs_store(), lab.who)) is not None:
        st.session_state[JOB] = yours.id  # queued from another server or an earlier session
    job = lab_jobs.status(lab.jobs_store(), st.session_state[JOB]) if JOB in st.session_state else None

    @auth.fragment(run_every=1.0 if job is not None and job.job.active else None)
    def job_panel() -> None:
        current = lab_jobs.status(lab.jobs_store(), st.session_state[JOB]) if JOB in st.session_state else None
        if current is None:
            return
        if current.job.active:
            if current.job.state == "queued":
                st.info(current.text, icon=":material/schedule:")
            else:
                st.progress(current.fraction, text=current.text)
            st.button("Cancel", key="eval-cancel", icon=":material/stop:", on_click=cancel, args=(lab, current.job.id))
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


@st.cache_data(show_spinner=False, max_entries=4, ttl=3600)
def tv_checks(
    version: str, weights_key: str, _catalog: Catalog, _model: Recommender | None, _weights: Weights
) -> tuple[pl.DataFrame, float]:
    """The TV taste checks with the live weights (cached per model version and weights)."""

    def recommend(profile: pl.DataFrame, n: int) -> dict[str, pl.DataFrame]:
        return recommend_profile(profile, n, catalog=_catalog, recommender=_model, weights=_weights)

    return taste_table(recommend, _catalog)


def render_tv(lab: Lab, live: Weights) -> None:
    """TV: evaluated on the app's own ratings when enough app users liked shows, else the taste
    checks of what the feed serves."""
    with st.expander("TV"):
        n_tv = tv_users(lab.store.all_interactions(), lab.catalog.all_titles())
        if n_tv >= MIN_TV_USERS:
            st.markdown(
                f"{n_tv} app users have liked TV shows: TV can be evaluated on the app's own ratings "
                "(TV titles only; MovieLens has none)."
            )
            st.button("Evaluate TV on app ratings", key="eval-tv", on_click=start_tv, args=(lab,))
            return
        st.warning(
            f"TV is not covered by the offline evaluation: MovieLens has no TV shows and only {n_tv} app "
            f"user{'s' if n_tv != 1 else ''} {'have' if n_tv != 1 else 'has'} liked one ({MIN_TV_USERS} needed). "
            "The TV taste checks below show what the feed serves instead.",
            icon=":material/tv_off:",
        )
        table, overlap = tv_checks(lab.model_version, repr(sorted(live.items())), lab.catalog, lab.model, live)
        st.dataframe(table, hide_index=True)
        st.caption(
            f"TV top 10 for fans of five famous films of one genre, with the live weights. Largest overlap "
            f"between two fans' lists (Jaccard): {overlap:.2f} (low: different tastes get different lists)."
        )
