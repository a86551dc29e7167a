"""Long jobs started from the data page (download, build), shown with progress bars.

A button's ``on_click`` only records the request; the job then runs in the script body, where
progress bars can update. A file lock keeps two sessions (or the CLI) from running one at once.
"""

from __future__ import annotations

import streamlit as st

from recsys.catalog.build import build
from recsys.catalog.download import fetch
from recsys.config import Settings
from recsys.errors import CineBlendError
from recsys.locks import exclusive
from recsys.pipeline import train_model
from recsys.ui import state

_REQUEST = "cb_job_request"


def request(name: str) -> None:
    st.session_state[_REQUEST] = name


class _Bars:
    """Maps ``progress(stage, done, total)`` onto one progress bar per stage."""

    def __init__(self) -> None:
        self.bars: dict[str, object] = {}

    def __call__(self, stage: str, done: float, total: float | None) -> None:
        if stage not in self.bars:
            self.bars[stage] = st.progress(0.0, text=stage)
        bar = self.bars[stage]
        if total:
            frac = min(max(done / total, 0.0), 1.0)
            bar.progress(frac, text=f"{stage}: {_human(done)} of {_human(total)}")
        else:
            bar.progress(0.0, text=f"{stage}: {_human(done)}")


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
    bars = _Bars()
    label = "Downloading and building the catalogue…" if name == "fetch_build" else "Training the recommender…"
    try:
        with st.status(label, expanded=True) as status:
            if name == "fetch_build":
                with exclusive(cfg.data_dir / ".fetch.lock", "download"):
                    st.write("Downloading…")
                    fetch(cfg, progress=bars)
                with exclusive(cfg.data_dir / ".build.lock", "catalogue build"):
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
