"""Demo sessions: signed in as a read-only persona (see :mod:`recsys.app.demo`) without a password.

The session's :class:`~recsys.app.demo.DemoStore` sits in session state; while it is there,
:func:`recsys.ui.resources.store` hands it to every page and :func:`recsys.ui.auth.current_user`
returns its persona. Logging out ends the demo and drops its clicks.
"""

from __future__ import annotations

import uuid

import streamlit as st

from recsys.app.demo import DemoStore, open_demo, persona_at
from recsys.errors import CineBlendError
from recsys.ui import resources, state

#: A random id per demo visit, kept in this browser session's state: the lab counts a visitor's
#: runs by it (:mod:`recsys.evaluation.visitors`), never by the persona every visitor shares.
VISITOR_ID = "cb_demo_visitor"


def active() -> DemoStore | None:
    return st.session_state.get(state.DEMO)


def visitor_id() -> str:
    """This browser session's demo visitor id (made on first use, kept until the session ends)."""
    return str(st.session_state.setdefault(VISITOR_ID, uuid.uuid4().hex))


def start(slug: str) -> None:
    """on_click of a "Try a demo profile" button."""
    try:
        persona = persona_at(resources.personas(), slug)
        demo = open_demo(persona, resources.shared_store())
    except CineBlendError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    end()
    st.session_state[state.DEMO] = demo
    st.session_state[state.FLASH] = (
        "info",
        f"Demo profile: {persona.name} ({persona.blurb}). Your clicks change this browser tab "
        "only and are gone when you leave the demo.",
    )


def end() -> None:
    """Leave the demo: its private copy and its undo are dropped."""
    demo: DemoStore | None = st.session_state.pop(state.DEMO, None)
    state.forget_user_scoped(st.session_state)
    if demo is not None:
        demo.close()
