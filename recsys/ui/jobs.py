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
    if name != "fetch_build":
        return
    bars = _Bars()
    try:
        with st.status("Downloading and building the catalogue…", expanded=True) as status:
            with exclusive(cfg.data_dir / ".fetch.lock", "download"):
                st.write("Downloading…")
                fetch(cfg, progress=bars)
            with exclusive(cfg.data_dir / ".build.lock", "catalogue build"):
                st.write("Building the catalogue…")
                build(cfg, progress=bars)
            status.update(label="Catalogue ready", state="complete")
    except CineBlendError as exc:
        st.error(f"{exc}")
        return
    st.session_state[state.FLASH] = ("success", "Catalogue ready. Sign in or register to start rating.")
    st.rerun()
