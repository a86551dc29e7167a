"""The feed: recommended movies and TV shows; every click is stored and the feed updates."""

import streamlit as st

from recsys.app.feed import recommend_for_user
from recsys.errors import CineBlendError
from recsys.ui import actions, auth, card_element, cards, details, plain, resources, state

FEED_SIZE = 8  # two rows of four: what a laptop screen shows; "Show more" adds rows
FEED_MAX = 24
SIZE_KEY = "feed-size"

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)

st.title("Your feed")
st.caption("Like, dislike or superlike: each click is saved and shapes what comes next.")


def on_card(click: card_element.Click) -> None:
    """A click on a feed card (the section element's trigger, already session-checked)."""
    if click.action == "rate" and click.value is not None:
        actions.rate(user.id, click.tconst, click.value, click.title)
    elif click.action == "hide":
        actions.hide(user.id, click.tconst, click.title)
    elif click.action == "details":
        cards.open_details(click.tconst)


@auth.checked
def show_more() -> None:
    st.session_state[SIZE_KEY] = min(FEED_MAX, st.session_state.get(SIZE_KEY, FEED_SIZE) + FEED_SIZE)


SECTIONS = {"Movies": "movie", "TV shows": "tv"}


def feed() -> None:
    """The section tabs, then the open section in its own fragment: a click re-renders only
    that fragment (the undo slot, the cards, Show more), not the page and not the tabs.

    The tabs track which one is open (``key`` + ``on_change="rerun"``): the choice survives reruns
    that add or remove elements above them, and the hidden section costs nothing.
    """
    tabs = st.tabs(list(SECTIONS), key="feed-tabs", on_change="rerun")
    for tab, (name, kind) in zip(tabs, SECTIONS.items(), strict=True):
        if not tab.open:
            continue
        with tab:
            section(name, kind)


@auth.fragment
def section(name: str, kind: str) -> None:
    """One section: the undo slot, its cards (one element) and Show more."""
    cards.action_bar("feed")
    size = st.session_state.get(SIZE_KEY, FEED_SIZE)
    try:
        frame = recommend_for_user(
            user,
            size,
            catalog=catalog,
            store=store,
            recommender=resources.recommender(cfg),
            kinds=(kind,),
            session=state.feed_session(st.session_state),  # experiments + exposure log
            retention_days=cfg.exposure_retention_days,
        )[kind]
    except CineBlendError as exc:
        plain.alert("error", exc)
        frame = None
    if frame is not None and frame.height == 0:
        st.info("You have rated everything we can show here. Check back after the next data update.")
    elif frame is not None:
        rows = frame.to_dicts()
        posters = resources.posters_for([r["tconst"] for r in rows], cfg)
        # the one place a section's shown list is known: `rows`, in the order shown
        card_element.cards(rows, key=f"feed-{kind}", on_click=on_card, posters=posters, label=name)
        if frame.height == size and size < FEED_MAX:
            st.button("Show more", key=f"feed-more-{kind}", icon=":material/expand_more:", on_click=show_more)
    details.open_if_requested(catalog, user.id)


catalog = resources.catalog_or_stop(cfg)
feed()
