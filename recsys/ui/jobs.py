"""The data page's background jobs (download and build, retrain): request buttons' callbacks and
one overall progress bar per job kind, with the stage as text.

A button's ``on_click`` asks this server's :class:`recsys.jobs.runner.JobRunner` for the job (refused
with one line when one of that kind runs on any server); the job then runs on the server's worker
thread, whatever happens to the session, and writes its progress to the store. The panel reads the
store (so it shows a job started on another server too) in a fragment that refreshes itself every
second while a job is active and every few seconds otherwise, and reruns the whole page when a job
it showed running has finished (new catalogue figures, new model version).
Only a signed-in admin may start one: :func:`may_start` is checked against the store when the
request is made (a forged or replayed click from any other session starts nothing).

Nothing private for anyone else (issue 20, item 6): who asked for a job, the server's host name
and pid, and a failed job's message (paths, addresses) are shown to admins only; others read
what state the data is in. When the download and build this session asked for is done, the
admin is offered the next step as a button (onboarding, or the feed once onboarded).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from recsys.access.roles import may_run_jobs
from recsys.config import Settings
from recsys.errors import CineBlendError
from recsys.jobs import runner as jobs
from recsys.progress import plain_stage, short_count
from recsys.store import jobs as rows
from recsys.ui import auth, plain, resources, state

NOT_ALLOWED = "Only a signed-in admin can download, build or retrain; sign in with an admin account."

_MINE = "cb_jobs_mine"  # ids of the jobs this session requested
_SEEN_ACTIVE = "cb_jobs_seen_active"  # ids shown running / queued by the panel's last run
_REFUSED = "cb_jobs_refused"  # the last refusal line, shown once
#: Panel refresh (s) while a job is queued or running, and otherwise.
POLL_ACTIVE_S = 1.0
POLL_IDLE_S = 5.0


def runner(cfg: Settings | None = None) -> jobs.JobRunner:
    cfg = cfg or resources.settings()
    return jobs.runner(cfg, resources.shared_store(cfg))


def may_start(cfg: Settings | None = None) -> bool:
    """True if this session's user, checked against the store now, is an admin (not a demo)."""
    return may_run_jobs(auth.role(auth.current_user(resources.store(cfg))))


@auth.checked
def request(kind: str) -> None:
    """``on_click`` of a job button: for admins only, queue the job, or keep the refusal line."""
    if not may_start():
        st.session_state[state.FLASH] = ("error", NOT_ALLOWED)
        return
    try:
        job = runner().submit(kind, st.session_state.get(state.USERNAME))
    except CineBlendError as exc:
        st.session_state[_REFUSED] = str(exc)
        return
    st.session_state.setdefault(_MINE, set()).add(job.id)


def panel(cfg: Settings, kinds: tuple[str, ...] = jobs.DATA_JOBS) -> None:
    """One line or bar per job kind: running / queued (bar + stage), or the last outcome (with
    who, where and why only for an admin)."""
    refused = st.session_state.pop(_REFUSED, None)
    if refused:
        plain.alert("warning", refused)
    try:
        active = _active(cfg, kinds)
    except CineBlendError as exc:
        plain.alert("error", exc)
        return
    interval = POLL_ACTIVE_S if active else POLL_IDLE_S
    auth.fragment(_panel_body, run_every=interval)(cfg, kinds, bool(active))


def _latest(cfg: Settings, kinds: tuple[str, ...]) -> dict[str, rows.Job | None]:
    store = resources.shared_store(cfg)
    return {kind: rows.latest(store, kind) for kind in kinds}


def _active(cfg: Settings, kinds: tuple[str, ...]) -> set[int]:
    return {job.id for job in _latest(cfg, kinds).values() if job is not None and job.active}


def _panel_body(cfg: Settings, kinds: tuple[str, ...], was_active: bool) -> None:
    try:
        latest = _latest(cfg, kinds)
    except CineBlendError as exc:
        plain.alert("error", exc)
        return
    active_now = {job.id for job in latest.values() if job is not None and job.active}
    seen = st.session_state.get(_SEEN_ACTIVE, set())
    st.session_state[_SEEN_ACTIVE] = active_now
    if (seen - active_now) or (bool(active_now) != was_active):
        st.rerun()  # a job ended or started elsewhere: refresh the page (figures, polling rate)
    mine = st.session_state.get(_MINE, set())
    privileged = may_start(cfg)
    for _kind, job in latest.items():
        if job is not None:
            _show(job, mine, privileged=privileged)


def _show(job: rows.Job, mine: set[int], *, privileged: bool) -> None:
    spec = jobs.KINDS.get(job.kind)
    label = spec.label if spec else job.kind
    where = f" on {jobs.server_label(job.server)}" if privileged else ""
    who = f" by {job.requested_by}" if job.requested_by and privileged else ""
    if (job.params or {}).get("scheduled"):
        who = " by the retraining schedule"
    if job.state == rows.RUNNING:
        st.progress(job.fraction, text=f"{label}: {plain_stage(job.stage)} ({job.fraction:.0%})")
        st.caption(f"Started{who} at {jobs.when(job.started_at)}{where}.")
    elif job.state == rows.QUEUED:
        st.progress(0.0, text=f"{label}: queued behind this server's running job")
        st.caption(f"Requested{who} at {jobs.when(job.requested_at)}{where}.")
    elif job.state == rows.FAILED:
        why = f": {job.error}" if privileged else "; an admin sees the reason here."
        plain.alert("error", f"{label} failed at {jobs.when(job.finished_at)}{why}")
    elif job.id in mine and spec is not None:
        plain.alert("success", spec.done)
        if job.kind == "fetch_build":
            next_step()
    else:
        st.caption(f"Last {label.lower()}: finished {jobs.when(job.finished_at)}{where}{who}.")


def next_step() -> None:
    """The button after the catalogue is ready: onboarding for someone who has not rated yet
    (offered to an admin, who may skip it), else the feed."""
    user = auth.current_user(resources.store())
    if user is None:
        return
    if user.onboarding_step != "done":
        st.page_link("pages/onboarding.py", label="Next: pick your genres and titles", icon=":material/arrow_forward:")
    else:
        st.page_link("pages/feed.py", label="Next: open your feed", icon=":material/arrow_forward:")


def admin_only_note(has_catalog: bool) -> None:
    """What a visitor who may not start jobs is told in place of the buttons."""
    if has_catalog:
        st.caption("Downloading, building and retraining are for admins; sign in with an admin account to run them.")
    else:
        st.info(
            "The catalogue is not built yet, and only an admin can download it. On a fresh install, "
            "create the first account on the **Sign in** page (Register): it becomes the admin and "
            "comes back here to download and build. Or run `python -m recsys fetch` then "
            "`python -m recsys build` on the server.",
            icon=":material/lock:",
        )


class ProgressBars:
    """Maps ``progress(stage, done, total)`` onto progress bars: one bar per stage (labelled with
    the counts), or every stage onto ``bar`` when one is given (labelled with the stage). A bar is
    redrawn only when what it shows changes (a percent or the stage): each redraw is a message to
    the browser and, inside ``st.cache_data``, an element recorded for replay."""

    def __init__(self, bar: Any | None = None) -> None:
        self.bar = bar
        self.bars: dict[str, Any] = {}
        self.shown: dict[str, tuple[str, int]] = {}

    def __call__(self, stage: str, done: float, total: float | None) -> None:
        frac = min(max(done / total, 0.0), 1.0) if total else 0.0
        if self.bar is not None:
            slot, bar, text = "", self.bar, stage
        else:
            if stage not in self.bars:
                self.bars[stage] = st.progress(0.0, text=stage)
            slot, bar = stage, self.bars[stage]
            text = f"{stage}: {short_count(done)} of {short_count(total)}" if total else f"{stage}: {short_count(done)}"
        shown = (stage if total else text, int(frac * 100))
        if self.shown.get(slot) != shown:
            self.shown[slot] = shown
            bar.progress(frac, text=text)
