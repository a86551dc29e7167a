"""Everything you rated, newest first: change or remove a rating, undo, export as CSV; and the
titles you hid ("Not interested"), with Restore.

Every list, count and the CSV is read from the store in the run (or the click) that shows it:
the rows live in a fragment that reruns after each click, and the CSV is built when it is
downloaded, so nothing shown or exported is stale.
"""

import streamlit as st

from recsys.app import history
from recsys.columns import DISLIKE, LIKE, SUPERLIKE, VALUE_LABELS
from recsys.ui import actions, auth, cards, details, resources, state

PAGE_SIZE = 25
HIDDEN = "Hidden"
VALUES = {"All": None, **{VALUE_LABELS[v]: v for v in (SUPERLIKE, LIKE, DISLIKE)}, HIDDEN: None}
KINDS = {"All": None, "Movies": "movie", "TV shows": "tv"}

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)
catalog = resources.catalog_or_stop(cfg)
user_id = user.id

st.title("Your ratings")


def export() -> bytes:
    """Built from the store when the user clicks Export, never from an earlier run."""
    return history.export_csv(store, catalog, user_id)


st.download_button(
    "Export as CSV",
    export,
    file_name=f"cineblend-{user.username}-ratings.csv",
    mime="text/csv",
    key="history-export",
    icon=":material/download:",
    on_click="ignore",
)
c1, c2 = st.columns(2)
value_label = c1.radio("Rating", list(VALUES), key="history-value", horizontal=True)
kind_label = c2.radio("Type", list(KINDS), key="history-kind", horizontal=True)


@auth.checked
def restore(tconst: str, title: str) -> None:
    """Show a hidden title in the feed again (idempotent: a double click restores once)."""
    if store.unhide(user_id, tconst):
        st.session_state[state.TOAST] = f"Restored {title} to your feed"


def page_of(frame_height: int) -> int:
    return st.number_input("Page", 1, max(1, -(-frame_height // PAGE_SIZE)), 1, key="history-page")


def hidden_listing() -> None:
    shown = history.hidden_titles(store, catalog, user_id)
    if KINDS[kind_label] is not None and "kind" in shown.columns:
        shown = shown.filter(shown["kind"] == KINDS[kind_label])
    if shown.height == 0:
        st.info("No hidden titles: “Not interested” in the feed hides a title here.")
        return
    page = page_of(shown.height)
    st.caption(f"{shown.height} hidden title{'' if shown.height == 1 else 's'}")
    for row in shown.slice((page - 1) * PAGE_SIZE, PAGE_SIZE).to_dicts():
        with st.container(border=True, key=f"hidden-{row['tconst']}"):
            text, buttons = st.columns([3, 2])
            meta = cards.meta_line(row) if row.get("kind") else row["tconst"]
            text.html(cards.text_html(row["primary_title"], meta))
            with buttons.container(horizontal=True, gap="small"):
                st.button(
                    "Restore",
                    key=f"hist-restore-{row['tconst']}",
                    icon=":material/visibility:",
                    on_click=restore,
                    args=(row["tconst"], row["primary_title"]),
                )
                st.button(
                    "Details",
                    key=f"hist-details-{row['tconst']}",
                    type="tertiary",
                    on_click=cards.open_details,
                    args=(row["tconst"],),
                )


def rated_listing() -> None:
    frame = history.rated_titles(store, catalog, user_id)
    shown = history.filter_rated(frame, value=VALUES[value_label], kind=KINDS[kind_label])
    if shown.height == 0:
        st.info("Nothing rated here yet: rate titles in your feed or in search.")
        return
    page = page_of(shown.height)
    st.caption(f"{shown.height} title{'' if shown.height == 1 else 's'}")
    for row in shown.slice((page - 1) * PAGE_SIZE, PAGE_SIZE).to_dicts():
        with st.container(border=True, key=f"hist-{row['tconst']}"):
            text, buttons = st.columns([3, 2])
            text.html(
                cards.text_html(
                    row["primary_title"],
                    cards.meta_line(row),
                    f"{VALUE_LABELS.get(row['value'], '')} · {row['updated_at']:%Y-%m-%d %H:%M} UTC",
                )
            )
            with buttons.container(horizontal=True, gap="small"):
                for value, label, icon in cards.RATE_BUTTONS:
                    st.button(
                        label,
                        icon=icon,
                        key=f"hist-rate-{row['tconst']}-{value}",
                        on_click=actions.rate,
                        args=(user_id, row["tconst"], value, row["primary_title"]),
                        type="primary" if row["value"] == value else "secondary",
                    )
                st.button(
                    "Remove",
                    key=f"hist-remove-{row['tconst']}",
                    icon=":material/delete:",
                    on_click=actions.set_rating,
                    args=(user_id, row["tconst"], None, row["primary_title"]),
                )
                st.button(
                    "Details",
                    key=f"hist-details-{row['tconst']}",
                    type="tertiary",
                    on_click=cards.open_details,
                    args=(row["tconst"],),
                )


@auth.fragment
def listing() -> None:
    # read from the store inside the fragment: a click reruns only this part, and what it
    # shows must already include that click
    cards.action_bar("history")
    if value_label == HIDDEN:
        hidden_listing()
    else:
        rated_listing()
    details.open_if_requested(catalog, user_id)


listing()
