"""Title cards with like / dislike / superlike buttons, shared by the feed, onboarding and search."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from recsys.columns import DISLIKE, LIKE, SUPERLIKE, VALUE_LABELS
from recsys.ui import actions, auth, plain, state
from recsys.ui.plain import md_escape

Buttons = tuple[tuple[int, str, str], ...]  # (value passed to on_rate, label, icon)

RATE_BUTTONS: Buttons = (
    (LIKE, "Like", ":material/thumb_up:"),
    (DISLIKE, "Dislike", ":material/thumb_down:"),
    (SUPERLIKE, "Superlike", ":material/star:"),
)


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
    """One bordered card: poster (or a placeholder of the same size), title, year, genres,
    IMDb rating and votes, reason, then the rating buttons on one row.

    Light on purpose (a feed click re-renders every card): the text is one ``st.html`` element
    of escaped plain text (never Markdown: see :func:`card_html`), then one row of buttons.
    """
    tconst = row["tconst"]
    with st.container(border=True, key=f"card-{key}-{tconst}"):
        st.html(card_html(row, poster=poster, current=current))
        with st.container(horizontal=True, gap="small", key=f"cardbtn-{key}-{tconst}"):
            for value, label, icon in buttons:
                st.button(
                    label,
                    icon=icon,
                    key=f"rate-{key}-{tconst}-{value}",
                    help=label,
                    on_click=auth.checked(on_rate),
                    args=(tconst, value),
                    type="primary" if current == value else "secondary",
                )
            if details:
                st.button(
                    "Details",
                    key=f"details-{key}-{tconst}",
                    help="Details",
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
                    on_click=auth.checked(on_hide),
                    args=(tconst,),
                    help="Hide from your feed without counting it as a dislike",
                )


#: Placeholder colour (hue) per main genre; anything else is grey-blue.
GENRE_HUES = {
    "Action": 8, "Adventure": 32, "Animation": 290, "Biography": 200, "Comedy": 48, "Crime": 350,
    "Documentary": 170, "Drama": 220, "Family": 100, "Fantasy": 270, "History": 30, "Horror": 0,
    "Music": 310, "Musical": 320, "Mystery": 250, "News": 190, "Reality-TV": 60, "Romance": 335,
    "Sci-Fi": 185, "Sport": 140, "Talk-Show": 75, "Thriller": 260, "War": 90, "Western": 25,
}  # fmt: skip


def card_html(row: Mapping[str, Any], *, poster: str | None = None, current: int | None = None) -> str:
    """The card's picture and text as HTML in which every text from data is escaped: a title
    like ``[Verify](http://x)`` or ``<b>x</b>`` shows as those characters (no link, no image, no
    bold, no auto-linked URL); the only image is a TMDb poster URL built by the enricher."""
    title = esc(row["primary_title"])
    year = esc(years(row))
    genres = row.get("genres") or []
    if poster:
        art = f'<img class="cb-poster" src="{esc(poster)}" alt="">'
    else:
        hue = GENRE_HUES.get(genres[0] if genres else "", 215)
        kind = "TV show" if row.get("kind") == "tv" else "Movie"
        art = (
            f'<div class="cb-ph" style="background: linear-gradient(160deg, hsl({hue} 55% 42%), '
            f'hsl({hue} 45% 20%))"><span class="cb-ph-kind">{kind}</span>'
            f'<span class="cb-ph-title">{title}</span><span class="cb-ph-year">{year}</span></div>'
        )
    text = "".join(f'<div class="cb-meta">{esc(line)}</div>' for line in card_lines(row))
    if row.get("reason"):
        text += f'<div class="cb-reason">{esc(row["reason"])}</div>'
    if current is not None:
        text += f'<div class="cb-mine">Your rating: {esc(VALUE_LABELS.get(current, current))}</div>'
    return (
        f'<div class="cb-card"><div class="cb-art">{art}</div><div class="cb-text">'
        f'<strong class="cb-title" title="{title}">{title}</strong>{text}</div></div>'
    )


def card_lines(row: Mapping[str, Any]) -> list[str]:
    """The card's two plain-text lines under the title: ``["1975 · Thriller", "IMDb 8.1 · 650k votes"]``."""
    genres = row.get("genres") or []
    rating = row.get("average_rating")
    votes = row.get("num_votes") or 0
    return [
        f"{years(row)} · {', '.join(genres) or 'no genres'}",
        f"IMDb {rating:.1f} · {_votes(votes)} votes" if rating is not None else "not rated on IMDb",
    ]


def text_html(title: object, *lines: object) -> str:
    """A bold title and lines under it, all escaped plain text (for ``st.html``)."""
    body = "".join(f'<div class="cb-meta">{esc(line)}</div>' for line in lines)
    return f'<div class="cb-text"><strong class="cb-title" title="{esc(title)}">{esc(title)}</strong>{body}</div>'


def _votes(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    return f"{n:,}"


def esc(text: object) -> str:
    """HTML-escape data text for ``st.html`` (quotes too: safe inside attributes)."""
    return html.escape(str(text), quote=True)


#: The cards' look, injected once per page run (``inject_styles``): a poster-sized picture
#: column, two-line title, and buttons compact enough for Like / Dislike / Superlike on one row.
CARD_CSS = """
<style>
.cb-card { display: flex; gap: 0.7rem; align-items: flex-start; min-height: 132px; }
.cb-art { flex: 0 0 88px; width: 88px; height: 132px; border-radius: 6px; overflow: hidden; }
.cb-poster { width: 88px; height: 132px; object-fit: cover; display: block; }
.cb-ph { width: 88px; height: 132px; box-sizing: border-box; padding: 6px; display: flex; flex-direction: column;
  justify-content: space-between; color: #fff; font-size: 0.72rem; line-height: 1.2; }
.cb-ph-kind { opacity: 0.8; text-transform: uppercase; letter-spacing: 0.04em; font-size: 0.62rem; }
.cb-ph-title { font-weight: 700; font-size: 0.8rem; overflow: hidden; display: -webkit-box;
  -webkit-line-clamp: 5; -webkit-box-orient: vertical; overflow-wrap: anywhere; }
.cb-ph-year { opacity: 0.85; }
.cb-text { min-width: 0; flex: 1 1 auto; font-size: 0.82rem; line-height: 1.3; }
.cb-title { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden;
  font-size: 0.95rem; margin-bottom: 0.2rem; overflow-wrap: anywhere; }
.cb-meta { opacity: 0.75; overflow-wrap: anywhere; }
.cb-reason { margin-top: 0.25rem; font-style: italic; display: -webkit-box; -webkit-line-clamp: 2;
  -webkit-box-orient: vertical; overflow: hidden; overflow-wrap: anywhere; }
.cb-mine { margin-top: 0.25rem; font-weight: 600; }
div[class*="st-key-card-"] { gap: 0.5rem; container-type: inline-size; }
div[class*="st-key-cardbtn-"] { gap: 0.25rem 0.3rem; flex-wrap: wrap; }
/* narrow cards (four columns on a laptop): icons only, the label kept for screen readers and
   as the tooltip, so Like / Dislike / Superlike and the rest stay on one row */
@container (max-width: 330px) {
  div[class*="st-key-cardbtn-"] { flex-wrap: nowrap; justify-content: space-between; }
  div[class*="st-key-cardbtn-"] button { padding: 0.1rem 0.5rem; }
  div[class*="st-key-cardbtn-"] button [data-testid="stMarkdownContainer"] {
    position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
}
div[class*="st-key-cardbtn-"] button { min-height: 1.9rem; padding: 0.1rem 0.45rem; }
div[class*="st-key-cardbtn-"] button p { font-size: 0.8rem; }
div[class*="st-key-cardbtn-"] button span[data-testid="stIconMaterial"] { font-size: 1rem; }
div[class*="st-key-undo-slot-"] { min-height: 2.5rem; align-items: center; }
.cb-dlg-title { margin: 0 0 0.3rem 0; padding: 0; font-size: 1.4rem; overflow-wrap: anywhere; }
.cb-dlg-poster { width: 160px; border-radius: 6px; flex: 0 0 160px; }
.cb-text p { margin: 0.3rem 0; }
</style>
"""


def inject_styles() -> None:
    st.html(CARD_CSS)


@auth.checked
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
    """The outcome of the last click in a slot of fixed height (nothing below it moves):
    a failed click's error at once (the page's fragment shows it, no full rerun needed), else
    "Last action: ..." with Undo, else a hint. The same elements every time, so the grid under
    it keeps its place between clicks."""
    toast = st.session_state.pop(state.TOAST, None)
    if toast:
        st.toast(md_escape(toast), icon=":material/check:")
    failed = st.session_state.pop(state.CLICK_ERROR, None)
    last = actions.last_action()
    with st.container(horizontal=True, vertical_alignment="center", key=f"undo-slot-{key}"):
        if failed is not None:
            st.error(md_escape(failed), icon=":material/error:", width="stretch")
        elif last is not None:
            st.caption(f"Last action: {md_escape(last.describe())}", width="stretch")
        else:
            st.caption("Your last click shows here, with Undo.", width="stretch")
        st.button(
            "Undo",
            key=f"undo-{key}",
            icon=":material/undo:",
            on_click=actions.undo,
            args=(last,),  # the action shown: Undo reverts exactly this one
            disabled=last is None or failed is not None,
        )


def problem_list(problems: list[str] | tuple[str, ...]) -> str:
    """ "Please fix:" and one problem per line (a Markdown list; each problem escaped)."""
    return "Please fix:\n" + "\n".join(f"- {md_escape(p)}" for p in problems)


def flash() -> None:
    """Show (once) a message a callback left for this run."""
    item = st.session_state.pop(state.FLASH, None)
    if item:
        kind, message = item
        plain.alert(kind, message)
