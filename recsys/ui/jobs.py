"""Long jobs started from the data page (download, build), shown with progress bars.

A button's ``on_click`` only records the request; the job then runs in the script body, where
progress bars can update. A file lock keeps two sessions (or the CLI) from running one at once.
Only a signed-in admin may start one: :func:`may_start` is checked where the request is
recorded *and* where the job starts (a forged click from any other session starts nothing).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from recsys.catalog.build import build
from recsys.catalog.download import fetch
from recsys.config import Settings
from recsys.errors import CineBlendError
from recsys.pipeline import train_model
from recsys.roles import may_run_jobs
from recsys.ui import auth, resources, state

_REQUEST = "cb_job_request"
NOT_ALLOWED = "Only a signed-in admin can download, build or retrain; sign in with an admin account."


def may_start(cfg: Settings | None = None) -> bool:
    """True if this session's user, checked against the store now, is an admin (not a demo)."""
    return may_run_jobs(auth.role(auth.current_user(resources.store(cfg))))


def request(name: str) -> None:
    """on_click of a job button: records the request, for admins only."""
    if not may_start():
        st.session_state[state.FLASH] = ("error", NOT_ALLOWED)
        return
    st.session_state[_REQUEST] = name


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
            text = f"{stage}: {_human(done)} of {_human(total)}" if total else f"{stage}: {_human(done)}"
        shown = (stage if total else text, int(frac * 100))
        if self.shown.get(slot) != shown:
            self.shown[slot] = shown
            bar.progress(frac, text=text)


def _human(n: float) -> str:
    for unit in ("", "K", "M", "G"):
        if abs(n) < 1000:
            return f"{n:,.0f}{unit}" if unit == "" else f"{n:,.1f}{unit}"
        n /= 1000
    return f"{n:,.1f}T"


def run_requested(cfg: Settings) -> None:
    """Run the job a button asked for (if any) with progress bars, then rerun to show the result."""
    name = st.session_state.pop(_REQUEST, None)
    if name not in ("fetch_build", "train"):
        return
    if not may_start(cfg):  # the role is checked again when the job starts, not only at the click
        st.error(NOT_ALLOWED)
        return
    bars = ProgressBars()
    label = "Downloading and building the catalogue…" if name == "fetch_build" else "Training the recommender…"
    try:
        with st.status(label, expanded=True) as status:
            if name == "fetch_build":
                st.write("Downloading…")
                fetch(cfg, progress=bars)
                st.write("Building the catalogue…")
                build(cfg, progress=bars)
            st.write("Training the recommender…")
            train_model(cfg, progress=bars)
            status.update(label="Done", state="complete")
    except CineBlendError as exc:
        st.error(f"{exc}")
        return
    message = (
        "Catalogue and recommender ready. Sign in or register to start rating."
        if name == "fetch_build"
        else "New model trained; every feed uses it from its next click."
    )
    st.session_state[state.FLASH] = ("success", message)
    st.rerun()
