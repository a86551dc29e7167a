"""Evaluation lab: honest offline evaluation, a hybrid weight sweep, significance, and the button
that makes the chosen weights the feed's. Every figure comes from ``recsys.evaluation.runner``
(the same result ``python -m recsys evaluate`` prints); this page only collects settings and
renders."""

import hashlib
import json
import time

import streamlit as st

from recsys.errors import CineBlendError
from recsys.evaluation import metrics, runner
from recsys.evaluation.splits import PROTOCOLS
from recsys.evaluation.sweep import content_weights, step_weights, sweep_chart
from recsys.feed import LIVE_WEIGHTS, live_weights
from recsys.models import registry
from recsys.ui import auth, resources, state
from recsys.ui.jobs import ProgressBars

LAST_RUN = "cb_eval_last_run"  # {"config": ..., "stamps": ...} of the last run this session asked for
SOURCES = {False: "MovieLens ratings", True: "MovieLens + app users' ratings"}
PROTOCOL_LABELS = {
    "temporal": "Temporal: last 20% (default)",
    "loo": "Leave last one out",
    "random": "Random 20% (seeded)",
    "global": "Global time cut (most realistic)",
}
STEPS = (0.05, 0.1, 0.125, 0.2, 0.25, 0.5)

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)
catalog = resources.catalog_or_stop(cfg)
model = resources.recommender(cfg)


def fmt_weights(w: dict[str, float]) -> str:
    return registry.format_weights(w)


@st.cache_data(show_spinner=False, max_entries=16, ttl=6 * 3600)
def run_cached(
    config_key: str,
    parquet_dir: str,
    build_stamp: str,
    model_version: str,
    app_stamp: str,
    store_url: str,
    _catalog: object,
    _store: object,
    _model: object,
) -> runner.EvaluationResult:
    """One evaluation per distinct settings + catalogue build + model version (+ app data)."""
    bar = st.progress(0.0, text="Starting the evaluation…")
    result = runner.evaluate_catalogue(
        runner.EvaluationConfig.from_dict(json.loads(config_key)),
        catalog=_catalog,  # type: ignore[arg-type]
        store=_store,  # type: ignore[arg-type]
        recommender=_model,  # type: ignore[arg-type]
        progress=ProgressBars(bar),
    )
    bar.empty()
    return result


def stamps(with_app_data: bool) -> dict[str, str]:
    """What the figures depend on besides the settings."""
    return {
        "parquet_dir": str(cfg.parquet_dir.resolve()),
        "build_stamp": runner.catalogue_stamp(cfg.parquet_dir),
        "model_version": (model.version or "unsaved") if model is not None else "none",
        "app_stamp": runner.app_data_stamp(store) if with_app_data else "",
        "store_url": cfg.store_url,
    }


def submit() -> None:
    """The form's on_click: record the settings to run with (the run happens in the page body)."""
    s = st.session_state
    start, stop = s["eval-sweep-range"]
    try:
        config = runner.EvaluationConfig(
            protocol=s["eval-protocol"],
            k=int(s["eval-k"]),
            metric=s["eval-metric"],
            sweep=(float(start), float(stop), float(s["eval-sweep-step"])),
            popularity_weight=float(s["eval-pop"]),
            weights=live_weights(store),
            with_app_data=bool(s["eval-source"]),
            factors=int(s["eval-factors"]),
            regularization=float(s["eval-reg"]),
            alpha=float(s["eval-alpha"]),
            iterations=int(s["eval-iterations"]),
            seed=int(s["eval-seed"]),
        )
    except CineBlendError as exc:
        s[state.FLASH] = ("error", str(exc))
        return
    s[LAST_RUN] = {"config": config.to_dict(), "stamps": stamps(config.with_app_data)}


def use_weights(weights: dict[str, float]) -> None:
    """on_click of "Use these weights for the feed"."""
    try:
        store.set_setting(LIVE_WEIGHTS, dict(weights), updated_by=user.username)
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    message = f"The feed now uses {fmt_weights(weights)} (from its next render)."
    st.session_state[state.FLASH] = ("success", message)


st.title("Evaluation lab")
st.caption(
    "Offline evaluation on MovieLens (optionally plus this app's ratings): each user's held-out "
    "likes are ranked against every title seen in training. Compare the models, sweep how much "
    "the hybrid trusts content versus ALS, and choose the weights the feed uses. "
    "The same figures as `python -m recsys evaluate`. MAP@K divides by min(|relevant|, K)."
)

info = store.setting_info(LIVE_WEIGHTS)
live = live_weights(store)
if info is None:
    st.info(f"Live weights: {fmt_weights(live)} (the defaults; never changed).", icon=":material/tune:")
else:
    _, when, by = info
    st.info(
        f"Live weights: {fmt_weights(live)}, set by {by or 'unknown'} on {when:%Y-%m-%d %H:%M} UTC.",
        icon=":material/tune:",
    )

last = st.session_state.get(LAST_RUN)
shown = runner.EvaluationConfig.from_dict(last["config"]) if last else runner.EvaluationConfig()

with st.form("eval-form"):
    c1, c2, c3 = st.columns(3)
    c1.radio("Data", list(SOURCES), format_func=SOURCES.get, index=int(shown.with_app_data), key="eval-source")
    c1.selectbox(
        "Protocol",
        PROTOCOLS,
        index=PROTOCOLS.index(shown.protocol),
        format_func=PROTOCOL_LABELS.get,
        key="eval-protocol",
        help="Positives are ratings of 4 or more. Per user with at least 5 positives, the last 20% of "
        "positives by time (at least one) are held out and every rating of that user from the first "
        "held-out one on leaves training; leave-last-one-out holds out the latest one (same rule); "
        "random holds out a seeded random 20%; the global time cut splits everyone at one moment "
        "(no user's future, nor anyone else's). A validation split is carved from training by the "
        "same rule: the sweep chooses there and reports on test. Every title seen in training is "
        "ranked (no sampled negatives).",
    )
    c1.number_input("Seed (random protocol)", 0, 2**31 - 1, shown.seed, key="eval-seed")
    c2.number_input("K (list length)", 1, 100, shown.k, key="eval-k")
    c2.selectbox(
        "Metric that picks the best weights",
        metrics.ranking_metrics(),
        index=metrics.ranking_metrics().index(shown.metric),
        format_func=lambda m: metrics.REGISTRY[m].label,
        key="eval-metric",
    )
    c2.slider("Popularity weight during the sweep", 0.0, 1.0, shown.popularity_weight, 0.05, key="eval-pop")
    c3.slider(
        "Content weights to sweep (ALS = 1 - content)",
        0.0,
        1.0,
        (shown.sweep[0], shown.sweep[1]),
        0.05,
        key="eval-sweep-range",
    )
    c3.select_slider(
        "Sweep step", STEPS, value=shown.sweep[2] if shown.sweep[2] in STEPS else 0.1, key="eval-sweep-step"
    )
    with st.expander("ALS hyperparameters"):
        a1, a2, a3, a4 = st.columns(4)
        a1.number_input("Factors", 1, 512, shown.factors, key="eval-factors")
        a2.number_input("Regularisation", 0.0, 1000.0, float(shown.regularization), key="eval-reg")
        a3.number_input("Alpha", 0.01, 1000.0, float(shown.alpha), key="eval-alpha")
        a4.number_input("Iterations", 1, 200, shown.iterations, key="eval-iterations")
    st.form_submit_button("Run evaluation", type="primary", icon=":material/play_arrow:", on_click=submit)

if not last:
    st.info(
        "Choose the settings and press **Run evaluation**. On MovieLens ml-latest-small a run (validation "
        "and test, each fitted and swept) takes about fifteen seconds on an idle 2-core machine."
    )
    st.stop()

config = runner.EvaluationConfig.from_dict(last["config"])
now = stamps(config.with_app_data)
if now != last["stamps"]:
    st.warning(
        "The catalogue, the model or the app's ratings changed since this run: press **Run evaluation** to update."
    )
    st.stop()

started = time.perf_counter()
try:
    result = run_cached(config.key(), **now, _catalog=catalog, _store=store, _model=model)
except CineBlendError as exc:
    st.error(str(exc))
    st.stop()

label = runner.metric_label(config.metric, config.k)
run_id = hashlib.sha1(config.key().encode()).hexdigest()[:8]  # widgets whose options depend on the run
st.subheader("Models side by side")
st.caption(
    f"{result.headline()} Hybrid (current) = the live weights at run time ({fmt_weights(result.weights)}); "
    f"content model {result.content_source}. {result.timing_line()} "
    f"Shown in {time.perf_counter() - started:.1f} s."
)
st.markdown("**Validation and test**: the validation split chooses, the test split reports.")
st.dataframe(result.comparison_table(), hide_index=True)
tab_test, tab_val = st.tabs(["Test split (every figure)", "Validation split (every figure)"])
with tab_test:
    st.dataframe(result.models_table(), hide_index=True)
with tab_val:
    if result.validation is None:
        st.info("The validation split had no user with enough ratings to test.")
    else:
        st.dataframe(result.models_table("validation"), hide_index=True)

st.subheader(f"{label} by content weight")
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
with st.expander("Every sweep step"):
    st.dataframe(result.sweep_table(), hide_index=True)

st.subheader("Significance")
names = result.configurations
s1, s2, s3 = st.columns(3)
first = s1.selectbox("Configuration A", names, index=names.index(runner.BEST), key=f"eval-sig-a-{run_id}")
second = s2.selectbox("Configuration B", names, index=names.index(runner.HYBRID), key=f"eval-sig-b-{run_id}")
metric = s3.selectbox(
    "Per-user metric",
    metrics.ranking_metrics(),
    index=metrics.ranking_metrics().index(config.metric),
    format_func=lambda m: metrics.metric_label(m, config.k),
    key="eval-sig-metric",
)
sig = result.compare(first, second, metric)
st.markdown(sig.summary())
st.caption("Wilcoxon signed-rank test on each tested user's pair of values; users with equal values are left out.")

st.subheader("Use for the feed")
options = content_weights(*config.sweep)
best_c = result.best_weights["content"]
if len(options) > 1:
    chosen_c = st.select_slider(
        "Content weight (ALS = 1 - content)",
        options,
        value=best_c if best_c in options else options[0],
        format_func=lambda c: f"{c:.2f}" + (" (best)" if c == best_c else ""),
        key=f"eval-use-content-{run_id}",
    )
else:
    chosen_c = options[0]
chosen = step_weights(chosen_c, config.popularity_weight, result.weights)
st.button(
    "Use these weights for the feed",
    key="eval-use",
    type="primary",
    icon=":material/check:",
    on_click=use_weights,
    args=(chosen,),
    help=f"Save {fmt_weights(chosen)} as the live weights; every feed uses them from its next render.",
)
