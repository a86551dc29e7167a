"""Click handlers (``on_click`` callbacks) that change the store, shared by every page.

Callbacks run before the next script run; errors become a flash message instead of a crash.
"""

from __future__ import annotations

import logging

import streamlit as st

from recsys.errors import CineBlendError
from recsys.ui import resources, state

log = logging.getLogger(__name__)


def _flash(kind: str, message: str) -> None:
    st.session_state[state.FLASH] = (kind, message)


def rate(user_id: int, tconst: str, value: int) -> None:
    """Store a like / dislike / superlike at once (idempotent: a double click stores one)."""
    try:
        resources.store().rate(user_id, tconst, value)
    except CineBlendError as exc:
        _flash("error", str(exc))
    except ValueError as exc:
        _flash("error", f"Could not save that rating: {exc}")


def set_pick(user_id: int, tconst: str, liked: bool) -> None:
    """Onboarding picks: True stores a like, False removes it (both idempotent)."""
    try:
        if liked:
            resources.store().rate(user_id, tconst, 1)
        else:
            resources.store().unrate(user_id, tconst)
    except (CineBlendError, ValueError) as exc:
        _flash("error", str(exc))
