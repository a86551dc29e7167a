"""The feed: recommended movies and TV shows; every click is stored and the feed updates."""

import streamlit as st

from recsys.errors import CineBlendError
from recsys.feed import recommend_for_user
from recsys.ui import actions, auth, cards, resources

FEED_SIZE = 12

cfg = resources.settings()
store = resources.store(cfg)
user = auth.current_user(store)
if user is None:
    st.stop()

st.title("Your feed")
st.caption("Like, dislike or superlike: each click is saved and shapes what comes next.")


@st.fragment
def section(kind: str, heading: str) -> None:
    st.subheader(heading)
    try:
        frame = recommend_for_user(user, kind, FEED_SIZE, catalog=resources.catalog(cfg), store=store)
    except CineBlendError as exc:
        st.error(str(exc))
        return
    if frame.height == 0:
        st.info("You have rated everything we can show here. Check back after the next data update.")
        return
    cards.card_grid(
        frame.to_dicts(), key=f"feed-{kind}", on_rate=lambda t, v: actions.rate(user.id, t, v)
    )


movies_tab, tv_tab = st.tabs(["Movies", "TV shows"])
with movies_tab:
    section("movie", "Movies for you")
with tv_tab:
    section("tv", "TV shows for you")
