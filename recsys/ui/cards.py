"""Title cards with like / dislike / superlike buttons, shared by the feed, onboarding and search."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from recsys.columns import DISLIKE, LIKE, SUPERLIKE, VALUE_LABELS
from recsys.ui import actions, state

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")

Buttons = tuple[tuple[int, str, str], ...]  # (value passed to on_rate, label, icon)

RATE_BUTTONS: Buttons = (
    (LIKE, "Like", ":material/thumb_up:"),
    (DISLIKE, "Dislike", ":material/thumb_down:"),
    (SUPERLIKE, "Superlike", ":material/star:"),
)


def md_escape(text: object) -> str:
    """Escape markdown so titles and user-entered names show as the literal text."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def years(row: Mapping[str, Any]) -> str:
    start, end = row.get("start_year"), row.get("end_year")
    if start is None:
        return "year unknown"
    if row.get("kind") == "tv":
        if end == start:
            return str(start)
        return f"{start}–{end}" if end else f"{start}–"
    return str(start)


def meta_line(row: Mapping[str, Any]) -> str:
    genres = ", ".join(row.get("genres") or []) or "no genres"
    rating = row.get("average_rating")
    votes = row.get("num_votes") or 0
    rating_txt = f"IMDb {rating:.1f} ({votes:,} votes)" if rating is not None else "not rated"
    return f"{years(row)} · {genres} · {rating_txt}"


def title_card(
    row: Mapping[str, Any],
    *,
    key: str,
    on_rate: Callable[[str, int], None],
    current: int | None = None,
    buttons: Buttons = RATE_BUTTONS,
    details: bool = True,
    poster: str | None = None,
    on_hide: Callable[[str], None] | None = None,
) -> None:
    """One bordered card: poster (or placeholder), title, year, genres, IMDb rating and votes,
    reason, rating buttons."""
    tconst = row["tconst"]
    with st.container(border=True, key=f"card-{key}-{tconst}"):
        if poster:
            st.image(poster, width="stretch")
        else:
            _placeholder(row)
        st.markdown(f"**{md_escape(row['primary_title'])}**")
        st.caption(md_escape(meta_line(row)))
        reason = row.get("reason")
        if reason:
            st.caption(md_escape(reason))
        if current is not None:
            st.caption(f"Your rating: {VALUE_LABELS.get(current, current)}")
        # buttons flow in a row and wrap on narrow cards instead of truncating their labels
        with st.container(horizontal=True, gap="small"):
            for value, label, icon in buttons:
                st.button(
                    label,
                    icon=icon,
                    key=f"rate-{key}-{tconst}-{value}",
                    help=f"{label}: {md_escape(row['primary_title'])}",
                    on_click=on_rate,
                    args=(tconst, value),
                    type="primary" if current == value else "secondary",
                )
        if details or on_hide is not None:
            with st.container(horizontal=True, gap="small"):
                if details:
                    st.button(
                        "Details",
                        key=f"details-{key}-{tconst}",
                        type="tertiary",
                        icon=":material/info:",
                        on_click=open_details,
                        args=(tconst,),
                    )
                if on_hide is not None:
                    st.button(
                        "Not interested",
                        key=f"hide-{key}-{tconst}",
                        type="tertiary",
                        icon=":material/visibility_off:",
                        on_click=on_hide,
                        args=(tconst,),
                        help="Hide from your feed without counting it as a dislike",
                    )


def _placeholder(row: Mapping[str, Any]) -> None:
    """A quiet poster stand-in until (or unless) TMDb gives one: the kind's icon and name."""
    tv = row.get("kind") == "tv"
    icon = ":material/live_tv:" if tv else ":material/movie:"
    st.caption(f"{icon} {'TV show' if tv else 'Movie'}")


def open_details(tconst: str) -> None:
    """on_click of a Details button: the page opens the dialog on its next run."""
    st.session_state[state.DETAILS] = tconst


def card_grid(
    frame_rows: list[dict[str, Any]],
    *,
    key: str,
    on_rate: Callable[[str, int], None],
    current: Mapping[str, int] | None = None,
    columns: int = 4,
    buttons: Buttons | Callable[[Mapping[str, Any]], Buttons] = RATE_BUTTONS,
    details: bool = True,
    posters: Mapping[str, str] | None = None,
    on_hide: Callable[[str], None] | None = None,
) -> None:
    """Cards in rows of ``columns``; ``buttons`` may depend on the row (a callable)."""
    current = current or {}
    posters = posters or {}
    for start in range(0, len(frame_rows), columns):
        cols = st.columns(columns)
        for col, row in zip(cols, frame_rows[start : start + columns], strict=False):
            with col:
                title_card(
                    row,
                    key=key,
                    on_rate=on_rate,
                    current=current.get(row["tconst"]),
                    buttons=buttons(row) if callable(buttons) else buttons,
                    details=details,
                    poster=posters.get(row["tconst"]),
                    on_hide=on_hide,
                )


def action_bar(key: str) -> None:
    """The toast for the last click, and an Undo button for it (shown wherever the user is)."""
    toast = st.session_state.pop(state.TOAST, None)
    if toast:
        st.toast(md_escape(toast), icon=":material/check:")
    last = st.session_state.get(state.LAST_ACTION)
    if last is not None:
        cols = st.columns([6, 1])
        cols[0].caption(f"Last action: {md_escape(last.describe())}")
        cols[1].button("Undo", key=f"undo-{key}", icon=":material/undo:", on_click=actions.undo)


def flash() -> None:
    """Show (once) a message a callback left for this run."""
    item = st.session_state.pop(state.FLASH, None)
    if item:
        kind, message = item
        {"error": st.error, "success": st.success, "warning": st.warning}.get(kind, st.info)(message)
