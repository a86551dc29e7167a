"""Search and browse the catalogue, and rate what you find."""

import streamlit as st

from recsys.ui import actions, auth, cards, details, plain, resources

PAGE_SIZE = 20
KINDS = {"All": None, "Movies": "movie", "TV shows": "tv"}

cfg = resources.settings()
store = resources.store(cfg)
user = auth.require_user(store)
catalog = resources.catalog_or_stop(cfg)
stats = catalog.stats()

st.title("Search")


@auth.checked
def reset_page() -> None:
    st.session_state["search-offset"] = 0


@auth.checked
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
# the filters fold away (a phone showed results ~1,300 px down under them; issue 20)
_state = st.session_state
filtering = bool(
    _state.get("search-kind", "All") != "All"
    or _state.get("search-genres")
    or _state.get("search-min-rating")
    or (_state.get("search-years") and tuple(_state["search-years"]) != (stats.get("year_min"), stats.get("year_max")))
)
filters_box = st.expander("Filters: type, genres, years, rating", icon=":material/filter_list:", expanded=filtering)
f1, f2, f3, f4 = filters_box.columns([1, 2, 2, 1])
kind_label = f1.radio("Type", list(KINDS), key="search-kind", on_change=reset_page)
genres = f2.multiselect("Genres (any of)", catalog.genres(), key="search-genres", on_change=reset_page)
y_lo, y_hi = int(stats.get("year_min") or 1900), int(stats.get("year_max") or 2030)
years = f3.slider("Years", y_lo, y_hi, (y_lo, y_hi), key="search-years", on_change=reset_page)
min_rating = f4.number_input("Min. IMDb rating", 0.0, 10.0, 0.0, 0.5, key="search-min-rating", on_change=reset_page)

offset = st.session_state.get("search-offset", 0)


def active_filters() -> list[str]:
    named = [
        f"type {kind_label}" if KINDS[kind_label] else "",
        "genres " + ", ".join(genres) if genres else "",
        f"years {years[0]}–{years[1]}" if years != (y_lo, y_hi) else "",
        f"IMDb rating ≥ {min_rating:g}" if min_rating else "",
    ]
    return [n for n in named if n]


def why_nothing(offset: int) -> str:
    """Why the search shows nothing: past the last page, the filters, or no close title (as
    Markdown: the typed text escaped)."""
    if offset > 0:
        return "No more results: go back a page."
    filters = [cards.md_escape(f) for f in active_filters()]
    words = cards.md_escape(" ".join(text.split())[:100])
    if filters:
        unfiltered = catalog.search(text, limit=PAGE_SIZE * 5 + 1, fuzzy=True).height
        if unfiltered:
            found = f"more than {PAGE_SIZE * 5}" if unfiltered > PAGE_SIZE * 5 else str(unfiltered)
            what = f"match “{words}”" if words else "are in the catalogue"
            return (
                f"No titles match with the filters ({'; '.join(filters)}): {found} title{'' if found == '1' else 's'} "
                f"{what} without "
                "them. Widen the filters."
            )
    if words:
        return f"No titles match “{words}”, and none is close to it: check the spelling, or try fewer or shorter words."
    return "No titles match. Widen the filters."


@auth.fragment
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
        plain.alert("info", why_nothing(offset))
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
