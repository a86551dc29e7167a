"""The feed: recommended movies and TV shows; every click is stored and the feed updates."""

import streamlit as st

from recsys.errors import CineBlendError
from recsys.feed import recommend_for_user
from recsys.ui import actions, auth, cards, details, resources

FEED_SIZE = 12

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)

st.title("Your feed")
st.caption("Like, dislike or superlike: each click is saved and shapes what comes next.")


def on_rate(tconst: str, value: int) -> None:
    actions.rate(user.id, tconst, value, actions.title_of(catalog, tconst))


def on_hide(tconst: str) -> None:
    actions.hide(user.id, tconst, actions.title_of(catalog, tconst))


@st.fragment
def feed() -> None:
    """Both sections; a click re-renders only this fragment, not the page."""
    cards.action_bar("feed")
    try:
        sections = recommend_for_user(
            user, FEED_SIZE, catalog=catalog, store=store, recommender=resources.recommender(cfg)
        )
    except CineBlendError as exc:
        st.error(str(exc))
        return
    movies_tab, tv_tab = st.tabs(["Movies", "TV shows"])
    for tab, kind, heading in ((movies_tab, "movie", "Movies for you"), (tv_tab, "tv", "TV shows for you")):
        with tab:
            st.subheader(heading, anchor=False)
            frame = sections[kind]
            if frame.height == 0:
                st.info("You have rated everything we can show here. Check back after the next data update.")
                continue
            rows = frame.to_dicts()
            posters = resources.posters_for([r["tconst"] for r in rows], cfg)
            cards.card_grid(rows, key=f"feed-{kind}", on_rate=on_rate, posters=posters, on_hide=on_hide)
    details.open_if_requested(catalog, user.id)


catalog = resources.catalog_or_stop(cfg)
feed()
