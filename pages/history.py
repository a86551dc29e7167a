"""Everything you rated, newest first: change or remove a rating, undo, export as CSV."""

import streamlit as st

from recsys import history
from recsys.columns import DISLIKE, LIKE, SUPERLIKE, VALUE_LABELS
from recsys.ui import actions, auth, cards, details, resources

PAGE_SIZE = 25
VALUES = {"All": None, **{VALUE_LABELS[v]: v for v in (SUPERLIKE, LIKE, DISLIKE)}}
KINDS = {"All": None, "Movies": "movie", "TV shows": "tv"}

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)
catalog = resources.catalog_or_stop(cfg)

st.title("Your ratings")

frame = history.rated_titles(store, catalog, user.id)
st.download_button(
    "Export as CSV",
    history.to_csv(frame),
    file_name=f"cineblend-{user.username}-ratings.csv",
    mime="text/csv",
    key="history-export",
    icon=":material/download:",
)
c1, c2 = st.columns(2)
value_label = c1.radio("Rating", list(VALUES), key="history-value", horizontal=True)
kind_label = c2.radio("Type", list(KINDS), key="history-kind", horizontal=True)
shown = history.filter_rated(frame, value=VALUES[value_label], kind=KINDS[kind_label])


@st.fragment
def listing() -> None:
    cards.action_bar("history")
    if shown.height == 0:
        st.info("Nothing rated here yet: rate titles in your feed or in search.")
        return
    page = st.number_input("Page", 1, max(1, -(-shown.height // PAGE_SIZE)), 1, key="history-page")
    rows = shown.slice((page - 1) * PAGE_SIZE, PAGE_SIZE).to_dicts()
    st.caption(f"{shown.height} titles")
    for row in rows:
        with st.container(border=True, key=f"hist-{row['tconst']}"):
            text, buttons = st.columns([3, 2])
            text.markdown(
                f"**{cards.md_escape(row['primary_title'])}**  \n"
                f"{cards.md_escape(cards.meta_line(row))}  \n"
                f"{VALUE_LABELS.get(row['value'], '')} · {row['updated_at']:%Y-%m-%d %H:%M} UTC"
            )
            with buttons.container(horizontal=True, gap="small"):
                for value, label, icon in cards.RATE_BUTTONS:
                    st.button(
                        label,
                        icon=icon,
                        key=f"hist-rate-{row['tconst']}-{value}",
                        on_click=actions.rate,
                        args=(user.id, row["tconst"], value, row["primary_title"]),
                        type="primary" if row["value"] == value else "secondary",
                    )
                st.button(
                    "Remove",
                    key=f"hist-remove-{row['tconst']}",
                    icon=":material/delete:",
                    on_click=actions.set_rating,
                    args=(user.id, row["tconst"], None, row["primary_title"]),
                )
                st.button(
                    "Details",
                    key=f"hist-details-{row['tconst']}",
                    type="tertiary",
                    on_click=cards.open_details,
                    args=(row["tconst"],),
                )
    details.open_if_requested(catalog, user.id)


listing()
