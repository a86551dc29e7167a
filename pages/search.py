"""Search and browse the catalogue, and rate what you find."""

import streamlit as st

from recsys.ui import actions, auth, cards, details, resources

PAGE_SIZE = 20
KINDS = {"All": None, "Movies": "movie", "TV shows": "tv"}

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)
catalog = resources.catalog_or_stop(cfg)
stats = catalog.stats()

st.title("Search")


def reset_page() -> None:
    st.session_state["search-offset"] = 0


def move(delta: int) -> None:
    st.session_state["search-offset"] = max(0, st.session_state.get("search-offset", 0) + delta)


def on_rate(tconst: str, value: int) -> None:
    actions.rate(user.id, tconst, value, actions.title_of(catalog, tconst))


text = st.text_input(
    "Title words",
    key="search-text",
    max_chars=500,
    on_change=reset_page,
    placeholder="e.g. amelie, lighthouse, star wa…",
)
f1, f2, f3, f4 = st.columns([1, 2, 2, 1])
kind_label = f1.radio("Type", list(KINDS), key="search-kind", on_change=reset_page)
genres = f2.multiselect("Genres (any of)", catalog.genres(), key="search-genres", on_change=reset_page)
y_lo, y_hi = int(stats.get("year_min") or 1900), int(stats.get("year_max") or 2030)
years = f3.slider("Years", y_lo, y_hi, (y_lo, y_hi), key="search-years", on_change=reset_page)
min_rating = f4.number_input("Min. IMDb rating", 0.0, 10.0, 0.0, 0.5, key="search-min-rating", on_change=reset_page)

offset = st.session_state.get("search-offset", 0)


@st.fragment
def results() -> None:
    cards.action_bar("search")
    frame = catalog.search(
        text,
        kind=KINDS[kind_label],
        limit=PAGE_SIZE + 1,
        offset=offset,
        genres=genres,
        year_min=years[0] if years[0] > y_lo else None,
        year_max=years[1] if years[1] < y_hi else None,
        min_rating=min_rating or None,
        fuzzy=True,
    )
    has_more = frame.height > PAGE_SIZE
    rows = frame.head(PAGE_SIZE).to_dicts()
    if not rows:
        st.info("No titles match. Try fewer words, a shorter word, or wider filters.")
        return
    st.caption(f"Results {offset + 1}–{offset + len(rows)}" + (" (more on the next page)" if has_more else ""))
    current = dict(zip(*store.interactions(user.id).select("tconst", "value"), strict=True))
    posters = resources.posters_for([r["tconst"] for r in rows], cfg)
    cards.card_grid(rows, key="search", on_rate=on_rate, current=current, posters=posters)
    nav = st.columns([1, 1, 6])
    nav[0].button("Previous", key="search-prev", on_click=move, args=(-PAGE_SIZE,), disabled=offset == 0)
    nav[1].button("Next", key="search-next", on_click=move, args=(PAGE_SIZE,), disabled=not has_more)
    details.open_if_requested(catalog, user.id)


results()
