"""Evaluation lab: honest offline evaluation (validation chooses, test reports), segments, the
2-D weight grid, run history with comparison and export, and the live weights (analysts and
admins apply or reset them; every change is kept). Runs and ``tune`` go to the store-backed job
queue and are stored; every figure shown comes from a stored run. This page only lays out the
sections: the controllers are ``recsys.ui.lab_form`` (the settings form, the job, TV),
``recsys.ui.lab_results`` (a stored run's figures), ``recsys.ui.lab_history`` and
``recsys.ui.lab_weights``."""

import streamlit as st

from recsys.ui import lab_form, lab_results, lab_weights

lab = lab_form.open_lab()

st.title("Evaluation lab")
st.caption(
    "Offline evaluation on MovieLens (optionally plus this app's ratings): each user's held-out "
    "likes are ranked against every title seen in training. A validation split carved from training "
    "chooses the weights; the test split reports. Every run is stored: compare any two, export them. "
    "The same figures as `python -m recsys evaluate` / `runs show`. MAP@K divides by min(|relevant|, K)."
)

# --- live weights -------------------------------------------------------------------------------
live_now = lab_weights.render_banner(lab.store, lab.model)
lab_weights.render_history(lab.store, lab.model, live_now, lab.may_apply, lab.user.username)

# --- settings, the running job, TV --------------------------------------------------------------
lab_form.render_form(lab)
lab_form.render_job_panel(lab)
lab_form.render_tv(lab, live_now.weights)

# --- run history and the chosen run -------------------------------------------------------------
lab_results.render(lab)
