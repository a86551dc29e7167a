"""The app frame: which pages this user may see, and the shared sidebar."""

from __future__ import annotations

import streamlit as st

from recsys.store import User
from recsys.ui import auth, cards

ATTRIBUTION = (
    "Information courtesy of IMDb (https://www.imdb.com). Used with permission.  \n"
    "MovieLens data: F. Maxwell Harper and Joseph A. Konstan. 2015. The MovieLens Datasets: "
    "History and Context. ACM TiiS 5, 4: 19:1-19:19."
)


def page_names(user: User | None, *, has_catalog: bool) -> list[str]:
    """Pages for this run, the default (landing) page first.

    No catalogue yet: only the data page, which leads through the download. Signed out: sign in /
    register, and data. Signed in but not onboarded: onboarding. Otherwise the feed and the rest.
    """
    if not has_catalog:
        return ["data"]
    if user is None:
        return ["login", "data"]
    if user.onboarding_step != "done":
        return ["onboarding", "data"]
    return ["feed", "data"]


def sidebar(user: User | None) -> None:
    with st.sidebar:
        if user is not None:
            st.caption(f"Signed in as **{cards.md_escape(user.name)}** ({cards.md_escape(user.username)})")
            st.button(
                "Log out", key="logout-button", icon=":material/logout:", on_click=auth.request_logout
            )
        st.divider()
        st.caption(ATTRIBUTION)
    cards.flash()
