"""The data page's scheduled-retraining block (:mod:`recsys.jobs.retrain`): when the next retraining
is due, how many ratings the live model has not seen, and, for admins, the schedule's form.

Example of what everyone reads::

    Scheduled retraining: after 50 new ratings, or every 1 d (set by ada on 7 Dec 2026, 05:10 UTC).
    The live model has not seen 12 ratings. Next: when 38 more ratings arrive, at the latest 8 Dec 2026, 05:00 UTC.
"""

from __future__ import annotations

import streamlit as st

from recsys.config import Settings
from recsys.errors import CineBlendError
from recsys.jobs import retrain
from recsys.jobs.runner import when
from recsys.ui import auth, jobs, plain, resources, state

AFTER_KEY = "data-retrain-after"
EVERY_KEY = "data-retrain-every"


def summary(s: retrain.Status) -> list[str]:
    """The lines everyone reads (plain text)."""
    sched = s.schedule
    if sched.off:
        head = f"Scheduled retraining is off ({sched.source})."
    else:
        parts = []
        if sched.after_ratings:
            parts.append(f"after {sched.after_ratings:,} new ratings")
        if sched.every_s:
            parts.append(f"every {retrain.human_every(sched.every_s)}")
        head = f"Scheduled retraining: {', or '.join(parts)} ({sched.source})."
    if s.version is None:
        return [head, "No trained model yet."]
    unseen = f"The live model has not seen {s.unseen:,} rating{'s' if s.unseen != 1 else ''}."
    if sched.off:
        return [head, unseen]
    if s.active is not None:
        nxt = "Next: a training is queued or running now."
    elif s.due:
        nxt = "Next: due now; a worker queues it within a minute."
    else:
        options = []
        if sched.after_ratings:
            more = sched.after_ratings - s.unseen
            options.append(f"when {more:,} more rating{'s arrive' if more != 1 else ' arrives'}")
        if s.next_due is not None:
            options.append(f"{'at the latest ' if options else 'at '}{when(s.next_due)}")
        nxt = f"Next: {', '.join(options)}."
    return [head, unseen, nxt]


def show(cfg: Settings, may_run: bool) -> None:
    store = resources.shared_store(cfg)
    try:
        current = retrain.status(cfg, store)
    except CineBlendError as exc:
        plain.alert("error", exc)
        return
    for line in summary(current):
        st.caption(plain.md_escape(line))
    if not may_run:
        return
    with st.expander("Retraining schedule"):
        sched = current.schedule
        st.number_input(
            "Retrain after this many new ratings (0: off)",
            min_value=0,
            step=10,
            value=int(sched.after_ratings or 0),
            key=AFTER_KEY,
        )
        st.text_input(
            "Retrain when the model is older than (e.g. 6h, 1d; empty: off)",
            value=retrain.human_every(sched.every_s).replace(" ", "").replace("min", "m") if sched.every_s else "",
            key=EVERY_KEY,
        )
        st.button("Save the schedule", key="data-retrain-save", on_click=save, args=(cfg,))


@auth.checked
def save(cfg: Settings) -> None:
    """on_click of "Save the schedule": admins only (checked against the store now)."""
    if not jobs.may_start(cfg):
        st.session_state[state.FLASH] = ("error", jobs.NOT_ALLOWED)
        return
    s = st.session_state
    try:
        every = retrain.parse_every(s.get(EVERY_KEY))
        saved = retrain.save_schedule(
            resources.shared_store(cfg), int(s.get(AFTER_KEY) or 0) or None, every, s.get(state.USERNAME) or "admin"
        )
    except CineBlendError as exc:
        s[state.FLASH] = ("error", str(exc))
        return
    s[state.FLASH] = (
        "success",
        "Schedule saved; every worker uses it from its next check."
        if not saved.off
        else "Scheduled retraining is off.",
    )
