"""The title details dialog, opened from any card."""

from __future__ import annotations

import streamlit as st

from recsys.catalog.queries import Catalog
from recsys.columns import RATING_VALUES, VALUE_LABELS
from recsys.errors import CineBlendError
from recsys.ui import actions, auth, cards, plain, resources, state


def open_if_requested(catalog: Catalog, user_id: int) -> None:
    tconst = st.session_state.pop(state.DETAILS, None)
    if tconst:
        _dialog(catalog, user_id, tconst)


def _names(values: list[str] | None) -> str:
    # unresolved people stay as IMDb ids (nm...) in partial dumps: show only real names
    shown = [v for v in values or [] if not (v.startswith("nm") and v[2:].isdigit())]
    return ", ".join(shown)


@auth.checked
def _rate(user_id: int, tconst: str, value: int | None, title: str) -> None:
    """The dialog's rating buttons: the one rating action, then a rerun of the whole page.

    The dialog is a fragment: a click in it reruns only the dialog, so the page's "Last action"
    slot, its Undo and the feed would not show this rating (issue 20: "Last action: Superliked
    Jaws" while Undo reverted the dialog's "Liked Predator"). The dialog sees the flag on its
    fragment run and reruns the page, which closes it."""
    actions.set_rating(user_id, tconst, value, title)
    st.session_state[state.RERUN_PAGE] = True


@st.dialog("Title details", width="large")
def _dialog(catalog: Catalog, user_id: int, tconst: str) -> None:
    if st.session_state.pop(state.RERUN_PAGE, False):
        st.rerun()
    row = catalog.title(tconst)
    if row is None:
        plain.alert("error", f"{tconst} is not in the catalogue (it may have been removed by a data update).")
        return
    # every text from data (titles, names, the TMDb overview) is escaped plain text in st.html
    parts = [f'<h3 class="cb-dlg-title">{cards.esc(row["primary_title"])}</h3>']
    if row.get("original_title") and row["original_title"] != row["primary_title"]:
        parts.append(f'<div class="cb-meta">Original title: {cards.esc(row["original_title"])}</div>')
    kind = {"movie": "Movie", "tvSeries": "TV series", "tvMiniSeries": "TV mini-series"}
    facts = [
        kind.get(str(row.get("title_type")), row.get("title_type")),
        cards.years(row),
        f"{row['runtime_minutes']} min" if row.get("runtime_minutes") else None,
        ", ".join(row.get("genres") or []),
    ]
    parts.append(f"<p>{' · '.join(cards.esc(f) for f in facts if f)}</p>")
    if row.get("average_rating") is not None:
        parts.append(
            f"<p>IMDb rating <strong>{row['average_rating']:.1f}</strong> from {row.get('num_votes') or 0:,} votes</p>"
        )
    people = 0
    for label, key in (("Directed by", "directors"), ("Written by", "writers"), ("Starring", "cast")):
        names = _names(row.get(key))
        if names:
            people += 1
            parts.append(f"<p>{label}: {cards.esc(names)}</p>")
    if not people:  # say so rather than nothing (issue 20): IMDb's files name nobody for it here
        parts.append("<p>Cast and crew: not in the catalogue for this title (see IMDb).</p>")
    info = resources.enricher().posters([tconst]).get(tconst)
    if info is not None and info.overview:
        parts.append(f'<p class="cb-overview">{cards.esc(info.overview)}</p>')
    if info is not None and info.poster_url:
        st.html(
            f'<div class="cb-card"><img class="cb-dlg-poster" src="{cards.esc(info.poster_url)}" alt="">'
            f'<div class="cb-text">{"".join(parts)}</div></div>'
        )
    else:
        st.html(f'<div class="cb-text">{"".join(parts)}</div>')
    st.link_button("Open on IMDb", f"https://www.imdb.com/title/{tconst}/", icon=":material/open_in_new:")

    current = actions.current_value(user_id, tconst)
    st.caption(f"Your rating: {VALUE_LABELS.get(current, 'not rated')}" if current else "You have not rated this yet.")
    with st.container(horizontal=True, gap="small"):
        for name, value in RATING_VALUES.items():
            st.button(
                name.capitalize(),
                key=f"dlg-rate-{tconst}-{value}",
                on_click=_rate,
                args=(user_id, tconst, value, row["primary_title"]),
                type="primary" if current == value else "secondary",
            )
        if current is not None:
            st.button(
                "Remove rating",
                key=f"dlg-unrate-{tconst}",
                on_click=_rate,
                args=(user_id, tconst, None, row["primary_title"]),
            )
    model = resources.recommender()
    # the same function as `python -m recsys similar`; each entry opens its own details
    why: dict[str, str] = {}
    try:
        found = model.similar_explained(tconst, 6) if model is not None else None
        if found is not None:
            why = dict(zip(found["tconst"].to_list(), found["reason"].to_list(), strict=True))
        neighbours = catalog.titles(list(why)) if found is not None else None
    except CineBlendError as exc:
        st.text(str(exc))
        neighbours = None
    if neighbours is not None and neighbours.height:
        st.markdown("**More like this**")
        for item in neighbours.iter_rows(named=True):
            label = f"{cards.md_escape(item['primary_title'])} ({cards.md_escape(cards.years(item))})"
            if st.button(label, key=f"dlg-more-{tconst}-{item['tconst']}", type="tertiary", icon=":material/movie:"):
                st.session_state[state.DETAILS] = item["tconst"]
                st.rerun()
            if why.get(item["tconst"]):
                st.caption(cards.md_escape(why[item["tconst"]]))  # data text: escaped, never Markdown
