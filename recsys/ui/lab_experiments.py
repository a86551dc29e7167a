"""The Experiments page's controller: the new-experiment form, the status buttons, ship the
winner and the results (table, running chart, verdict, exports). Every click callback goes
through :func:`recsys.ui.auth.checked`; errors become a plain-text flash; every change goes
through :mod:`recsys.experiments.manage` (role checked in the store, as on the CLI)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from recsys.errors import CineBlendError
from recsys.experiments import analysis, manage, records
from recsys.experiments.arms import METHODS, SECTIONS, Experiment
from recsys.models import registry
from recsys.models.rerank import registry as stages
from recsys.store import Store, User
from recsys.ui import auth, plain, resources, state

FORM = "exp-new"
ARMS_KEY = "exp-arm-count"
SELECTED = "exp-selected"
MAX_ARMS = 4
#: Seconds between refreshes of a running experiment's results.
REFRESH_S = 10.0


def _flash(kind: str, text: str) -> None:
    st.session_state[state.FLASH] = (kind, text)


@auth.checked
def create(username: str, defaults: dict[str, float]) -> None:
    """on_click of "Create": the arms as typed in the form."""
    s = st.session_state
    arms = []
    for i in range(int(s.get(ARMS_KEY, 2))):
        w = {name: float(s.get(f"{FORM}-w-{i}-{name}", 0.0)) for name in registry.names()}
        strengths = {
            name: float(s[f"{FORM}-s-{i}-{name}"])
            for name in stages.names()
            if f"{FORM}-s-{i}-{name}" in s and float(s[f"{FORM}-s-{i}-{name}"]) != defaults.get(name)
        }
        arms.append({"name": str(s.get(f"{FORM}-name-{i}", "")), "weights": w, "stages": strengths})
    try:
        exp = manage.create(
            resources.store(),
            by=username,
            name=str(s.get(f"{FORM}-title", "")),
            section=str(s.get(f"{FORM}-section", "movie")),
            method=str(s.get(f"{FORM}-method", "interleave")),
            arms=arms,
        )
    except CineBlendError as exc:
        _flash("error", str(exc))
        return
    s[SELECTED] = exp.id
    _flash("success", f"Created {exp.describe()}. Start it when ready.")


@auth.checked
def set_status(username: str, experiment_id: int, action: str) -> None:
    fn = {"start": manage.start, "pause": manage.pause, "stop": manage.stop}[action]
    try:
        exp = fn(resources.store(), experiment_id, by=username)
    except CineBlendError as exc:
        _flash("error", str(exc))
        return
    _flash("success", f"{exp.describe()}." + (" Every log is kept." if action == "stop" else ""))


@auth.checked
def ship(username: str, experiment_id: int) -> None:
    arm = str(st.session_state.get(f"exp-ship-arm-{experiment_id}", ""))
    try:
        change = manage.ship(resources.store(), experiment_id, arm, by=username)
    except CineBlendError as exc:
        _flash("error", str(exc))
        return
    _flash(
        "success", f"Arm {arm} shipped: live weights now {registry.format_weights(change.new)} (change {change.id})."
    )


def new_experiment_form(user: User, live: dict[str, float], model_stages: dict[str, float]) -> None:
    """Name, section, method and two to four arms (weights of every registered scorer, the
    ranking stages' strengths). Arm A starts at the live weights, B at popularity alone."""
    with st.expander("New experiment", icon=":material/add:", expanded=False):
        st.number_input("Arms", min_value=2, max_value=MAX_ARMS, value=2, step=1, key=ARMS_KEY)
        with st.form(FORM, border=False):
            st.text_input("Name", key=f"{FORM}-title", max_chars=120, placeholder="e.g. Taste stage vs blend")
            cols = st.columns(2)
            cols[0].radio("Section", list(SECTIONS), format_func=SECTIONS.get, key=f"{FORM}-section", horizontal=True)
            cols[1].radio(
                "Method",
                ["interleave", "ab"],
                format_func=METHODS.get,
                key=f"{FORM}-method",
                horizontal=True,
                help="Interleaving merges the arms in every feed and needs far fewer testers; "
                "A/B gives each tester one arm (sticky across sessions and servers).",
            )
            arm_cols = st.columns(int(st.session_state.get(ARMS_KEY, 2)))
            for i, col in enumerate(arm_cols):
                with col:
                    st.text_input("Arm name", value=chr(ord("A") + i), key=f"{FORM}-name-{i}", max_chars=40)
                    base = live if i == 0 else {n: (1.0 if n == "popularity" else 0.0) for n in registry.names()}
                    for name in registry.names():
                        st.number_input(
                            registry.SCORERS[name].label,
                            min_value=0.0,
                            max_value=1.0,
                            value=float(base.get(name, 0.0)),
                            step=0.05,
                            key=f"{FORM}-w-{i}-{name}",
                        )
                    for name in stages.names():
                        st.number_input(
                            f"Stage: {stages.STAGES[name].label}",
                            min_value=0.0,
                            max_value=1.0,
                            value=float(model_stages.get(name, stages.STAGES[name].default)),
                            step=0.05,
                            key=f"{FORM}-s-{i}-{name}",
                        )
            st.form_submit_button(
                "Create", icon=":material/add:", on_click=create, args=(user.username, dict(model_stages))
            )


def picker(found: list[Experiment]) -> Experiment | None:
    if not found:
        st.info("No experiment yet: create one above. Testers see the live weights until one runs.")
        return None
    ids = [e.id for e in found]
    chosen = st.session_state.get(SELECTED)
    index = ids.index(chosen) if chosen in ids else 0
    exp_id = st.selectbox(
        "Experiment",
        ids,
        index=index,
        # no status in the label: a widget keeps showing the label it had when the status changes
        format_func=lambda i: next(
            f"#{e.id} {e.name} ({METHODS[e.method]}, {SECTIONS[e.section]})" for e in found if e.id == i
        ),
        key="exp-pick",
    )
    st.session_state[SELECTED] = exp_id
    return next(e for e in found if e.id == exp_id)


def controls(user: User, exp: Experiment, winner: str | None) -> None:
    """Start / pause / stop as the status allows, and ship an arm (the winner, else the arm ahead,
    offered first)."""
    with st.container(horizontal=True, key=f"exp-controls-{exp.id}"):
        for action, label, icon in (
            ("start", "Resume" if exp.status == "paused" else "Start", ":material/play_arrow:"),
            ("pause", "Pause", ":material/pause:"),
            ("stop", "Stop", ":material/stop:"),
        ):
            target = {"start": "running", "pause": "paused", "stop": "stopped"}[action]
            allowed = target in records.TRANSITIONS[exp.status]
            st.button(
                label,
                key=f"exp-{action}-{exp.id}",
                icon=icon,
                disabled=not allowed,
                on_click=set_status,
                args=(user.username, exp.id, action),
            )
    names = [a.name for a in exp.arms]
    order = ([winner] if winner in names else []) + [n for n in names if n != winner]
    with st.container(horizontal=True, vertical_alignment="bottom", key=f"exp-ship-{exp.id}"):
        st.selectbox("Arm to ship", order, key=f"exp-ship-arm-{exp.id}")
        st.button(
            "Ship the winner",
            key=f"exp-ship-button-{exp.id}",
            icon=":material/rocket_launch:",
            on_click=ship,
            args=(user.username, exp.id),
            help="Makes the arm's weights live for every feed (an audited change linked to this experiment) "
            "and stops the experiment.",
        )


def leading(store: Store, exp: Experiment) -> str | None:
    """The arm "Ship the winner" offers first (:meth:`recsys.experiments.analysis.Results.leading`)."""
    return analysis.analyse(store, exp, offline=False).leading()


def results(store: Store, exp: Experiment) -> analysis.Results:
    """Verdict, per-arm table, running chart, exports."""
    result = analysis.analyse(store, exp)
    plain.alert("success" if result.verdict.decided else "info", result.verdict.text)
    table = result.arms_table()
    shown = ["arm", "setting", "exposures", "cards", "sessions", "testers"]
    for name in ("like", "superlike", "dislike", "hide"):
        shown += [f"{name} rate", f"{name} 95% low", f"{name} 95% high"]
    if result.preference is not None:
        shown.append("sessions preferring")
    shown += [c for c in table.columns if c.startswith("offline")]
    st.dataframe(table.select([c for c in shown if c in table.columns]), hide_index=True, key=f"exp-table-{exp.id}")
    if not any(c.startswith("offline") for c in table.columns):
        st.caption(
            "Offline figures: no stored evaluation run has swept these weights yet (Evaluation lab, "
            "or python -m recsys evaluate --save --sweep ...)."
        )
    if result.timeline.height:
        label = "share of likes credited (cumulative)" if exp.method == "interleave" else "positive rate (cumulative)"
        wide = result.timeline.pivot(on="arm", index="at", values="value").sort("at")
        st.caption(f"Running chart: each arm's {label}.")
        st.line_chart(wide.to_pandas().set_index("at"))
    else:
        st.caption("No card shown under this experiment yet.")
    with st.container(horizontal=True):
        st.download_button(
            "Per-arm table (CSV)", result.to_csv(), f"experiment-{exp.id}.csv", "text/csv", key=f"exp-csv-{exp.id}"
        )
        st.download_button(
            "Everything (JSON)",
            result.to_json(),
            f"experiment-{exp.id}.json",
            "application/json",
            key=f"exp-json-{exp.id}",
        )
    return result


def arms_frame(exp: Experiment) -> pl.DataFrame:
    return pl.DataFrame({"arm": [a.name for a in exp.arms], "setting": [a.describe() for a in exp.arms]})
