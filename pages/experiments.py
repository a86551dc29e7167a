"""Experiments with testers (analysts and admins): create an A/B test or an interleaving of
hybrid settings, start / pause / stop it, follow its results and ship the winner."""

import streamlit as st

from recsys.access import roles
from recsys.experiments import records
from recsys.experiments.arms import METHODS, SECTIONS
from recsys.models import weights as live_weights
from recsys.ui import auth, demo, lab_experiments, plain, resources

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)

st.title("Experiments")
if demo.active() is not None or not roles.may_apply_weights(user.role):
    st.info("Experiments are run by analysts and admins.")
    st.stop()
st.caption(
    "Compare hybrid settings on the testers' feeds: team-draft interleaving (every feed merges the arms; "
    "a few testers suffice) or an A/B test (each tester one arm). Testers outside an experiment, and "
    "analysts and admins, see the live weights; demo sessions are never logged."
)

model = resources.recommender(cfg)
live = live_weights.current(store, model)
model_stages = dict(model.config.stages) if model is not None else {}
lab_experiments.new_experiment_form(user, dict(live), model_stages)
exp = lab_experiments.picker(records.list_all(store))
if exp is None:
    st.stop()

st.dataframe(lab_experiments.arms_frame(exp), hide_index=True, key="exp-arms")
status = f"{METHODS[exp.method]} on {SECTIONS[exp.section]}, {exp.status}"
if exp.shipped_arm:
    status += f"; arm {exp.shipped_arm} shipped"
st.text(status)


lab_experiments.controls(
    user, exp, lab_experiments.leading(store, exp)
)  # outside the fragment: a click reruns the page


shown_id = exp.id  # the function below cannot see that exp is not None


@auth.fragment(run_every=lab_experiments.REFRESH_S if exp.status == "running" else None)
def live_results() -> None:
    """Refreshes itself while the experiment runs (the running chart keeps moving)."""
    current = records.get(store, shown_id)
    if current is None:
        plain.alert("warning", f"Experiment {shown_id} no longer exists.")
        return
    lab_experiments.results(store, current)


live_results()
