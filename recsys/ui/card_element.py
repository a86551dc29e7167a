"""A section of title cards as ONE Streamlit element (components v2, no iframe).

The feed and the onboarding picks used to render each card as a container, an ``st.html`` and
five ``st.button`` widgets: a click's fragment run sent 83 elements (42 buttons) and took 5.5x a
bare button's run (``bench/click_latency.py``: 48 ms against 8.8 ms). Here a section is one
``st.components.v2.component``: the page passes the cards as *data* (JSON: text only, never
HTML), the browser builds them with ``textContent`` (:mod:`.assets`), and a click

1. removes the card (rate, hide) or flips its pick button at once in the browser (optimistic);
2. sends one trigger ``{action, value, tconst, position, n}``;
3. runs :func:`cards`'s ``on_click`` callback (through :func:`recsys.ui.auth.checked`: a
   revoked session's click stores nothing), then the fragment, which sends this one element
   back re-ranked.

A trigger comes from the browser, so it is checked against what this element showed: an action
it did not offer or a tconst it did not show is ignored (logged), never stored.

Measured (2 shared cores, mirror catalogue, same-run floors; ``bench/click_latency.py`` and
``bench/browser_clicks.py``): a feed click's run sends 10 elements instead of 83; in Chromium,
Like until the card left *and* the app is idle 0.11-0.14 s against 0.36-0.40 s before (bare
button 0.06-0.08 s), the card itself off screen after 0.03 s; an onboarding pick 0.16 s against
0.34-0.70 s. What is left of a click's run is mostly the ranking itself (``recommend_for_user``,
about half of the run) and the store write, not the rendering.

Where a click's time went (issue 22; in-page marks from the click to each websocket message
and to the idle page, same run, load ~5): a pick 113 ms against a bare button's 60 ms, of
which the server's run (first to last message) 33 ms against 6 and the browser after the last
message 28 ms against 9; a Like 127 ms, its run 43-50 ms (the re-ranking) and 25-30 ms in the
browser. The browser part was mostly the element rebuilding every card and ``focus()`` laying
them out (see :mod:`recsys.ui.card_assets`): the update is keyed now, and a pick's run sends 10
elements instead of 17 (``pages/onboarding.py``).

AppTest cannot run components (its runtime is a mock, and no browser sends triggers): there
:func:`cards` renders the classic grid of ``st.button`` widgets (``recsys.ui.cards.card_grid``)
whose clicks go to the same ``on_click`` with the same :class:`Click`, so AppTests drive the
same controller by the same widget keys (``rate-feed-movie-<tconst>-1`` ...). Real browsers
(tests/browser, the websocket testers) get the component.

Example::

    def on_click(click: Click) -> None:  # click.action in {"rate", "hide", "details", "pick"}
        ...

    card_element.cards(rows, key="feed-movie", buttons=card_element.FEED_BUTTONS, on_click=on_click)
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import streamlit as st

from recsys.columns import DISLIKE, LIKE, SUPERLIKE, VALUE_LABELS
from recsys.ui import auth
from recsys.ui.card_assets import CSS, JS

log = logging.getLogger(__name__)

_render = st.components.v2.component("cineblend.cards", html="", css=CSS, js=JS, isolate_styles=False)


@dataclass(frozen=True)
class Button:
    """One action a card offers. ``key`` is the widget key prefix of the ``st.button`` it
    replaces (the card's key and tconst follow, then ``-<value>`` for rate / pick)."""

    action: str  # "rate" | "hide" | "details" | "pick"
    label: str
    icon: str  # a Material Symbols name ("thumb_up")
    key: str
    value: int | None = None
    help: str = ""
    tertiary: bool = False
    optimistic: bool = True  # the card leaves (or its pick flips) before the server answers


FEED_BUTTONS: tuple[Button, ...] = (
    Button("rate", "Like", "thumb_up", "rate", LIKE),
    Button("rate", "Dislike", "thumb_down", "rate", DISLIKE),
    Button("rate", "Superlike", "star", "rate", SUPERLIKE),
    Button("details", "Details", "info", "details", tertiary=True, optimistic=False),
    Button("hide", "Not interested", "visibility_off", "hide", help="Hide from your feed without counting it as a dislike", tertiary=True),
)  # fmt: skip

PICK_BUTTONS: tuple[Button, ...] = (
    # each button carries the state it asks for, so a double click cannot undo itself
    Button("pick", "Liked it", "thumb_up", "rate", 1),
    Button("pick", "Picked (undo)", "check_circle", "rate", 0),
)


@dataclass(frozen=True)
class Click:
    """One click on a card: what, on which title, at which position of the shown list (0-based)."""

    action: str
    tconst: str
    position: int
    value: int | None = None
    title: str = ""  # the title as this element showed it (from the server's rows, not the browser)


def key_class(key: str) -> str:
    """Streamlit's CSS class for a widget key (``st-key-`` + the key, odd characters as ``-``)."""
    return "st-key-" + re.sub(r"[^a-zA-Z0-9_-]", "-", key.strip())


def widget_key(button: Button, key: str, tconst: str) -> str:
    """The ``st.button`` key this button stands for: ``rate-feed-movie-tt0000001-1``."""
    base = f"{button.key}-{key}-{tconst}"
    return base if button.value is None else f"{base}-{button.value}"


def _components_run() -> bool:
    """False under AppTest (its runtime is a ``MagicMock``; nothing would send a trigger)."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and type(Runtime.instance()) is Runtime


def card_data(
    row: Mapping[str, Any],
    *,
    key: str,
    buttons: Sequence[Button],
    poster: str | None = None,
    current: int | None = None,
    picked: bool = False,
) -> dict[str, Any]:
    """One card as plain data for the browser (every value is text or a number).

    >>> card_data({"tconst": "tt1", "primary_title": "<b>x</b>", "start_year": 1999, "genres": ["Drama"],
    ...            "kind": "movie"}, key="k", buttons=())["title"]
    '<b>x</b>'
    """
    from recsys.ui.cards import GENRE_HUES, card_lines, years

    tconst = str(row["tconst"])
    genres = row.get("genres") or []
    return {
        "tconst": tconst,
        "cls": key_class(f"card-{key}-{tconst}"),
        "title": str(row["primary_title"]),
        "years": years(row),
        "kind_label": "TV show" if row.get("kind") == "tv" else "Movie",
        "hue": GENRE_HUES.get(genres[0] if genres else "", 215),
        "poster": poster or "",
        "meta": card_lines(row),
        "reason": str(row.get("reason") or ""),
        "mine": f"Your rating: {VALUE_LABELS.get(current, current)}" if current is not None else "",
        "picked": picked,
        "buttons": [
            {
                "action": b.action,
                "value": b.value,
                "label": b.label,
                "icon": b.icon,
                "help": b.help or b.label,
                "key_cls": key_class(widget_key(b, key, tconst)),
                "primary": b.action == "rate" and current == b.value,
                "tertiary": b.tertiary,
                "optimistic": b.optimistic,
            }
            for b in buttons
        ],
    }


def _shown_key(key: str) -> str:
    return f"cb-cards-shown-{key}"


def _done_key(key: str) -> str:
    return f"cb-cards-done-{key}"


def _dispatch(key: str, buttons: Sequence[Button], on_click: Callable[[Click], None]) -> Callable[[], None]:
    """The component's ``on_click_change``: validate the trigger, then ``on_click``."""

    def handle() -> None:
        payload = (st.session_state.get(f"cb-cards-{key}") or {}).get("click")
        if not isinstance(payload, dict):
            return
        n = payload.get("n")
        if isinstance(n, int | float) and not isinstance(n, bool):
            st.session_state[_done_key(key)] = max(int(n), st.session_state.get(_done_key(key), 0))
        click = parse_click(payload, buttons, st.session_state.get(_shown_key(key)) or {})
        if click is None:
            log.info("ignored a card click the element %s did not offer: %.200r", key, payload)
            return
        on_click(click)

    return auth.checked(handle)


def parse_click(payload: Mapping[str, Any], buttons: Sequence[Button], shown: Mapping[str, str]) -> Click | None:
    """A :class:`Click` if ``payload`` (a trigger from the browser) names an action this element
    offered on a title it showed (``shown``: tconst -> title, in the order shown), else None.

    >>> parse_click({"action": "rate", "value": 1, "tconst": "tt1", "position": 0}, FEED_BUTTONS, {"tt1": "Jaws"})
    Click(action='rate', tconst='tt1', position=0, value=1, title='Jaws')
    >>> parse_click({"action": "rate", "value": 7, "tconst": "tt1", "position": 0}, FEED_BUTTONS, {"tt1": "Jaws"})
    """
    action, value, tconst = (payload.get(k) for k in ("action", "value", "tconst"))
    if isinstance(value, bool) or not any(b.action == action and b.value == value for b in buttons):
        return None
    if not isinstance(tconst, str) or tconst not in shown:
        return None
    position = list(shown).index(tconst)  # the server's own order (the browser's is only a hint)
    return Click(str(action), tconst, position, value if isinstance(value, int) else None, shown[tconst])


def cards(
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str,
    on_click: Callable[[Click], None],
    buttons: Sequence[Button] = FEED_BUTTONS,
    posters: Mapping[str, str] | None = None,
    current: Mapping[str, int] | None = None,
    picked: set[str] | frozenset[str] = frozenset(),
    label: str = "Titles",
    columns: int = 4,
) -> None:
    """Render ``rows`` as one element (see the module docstring); ``on_click`` gets each click.

    ``key`` names the section (``feed-movie``, ``onb-tv``): the element's own key is
    ``cb-cards-<key>`` and every card / button carries the ``st-key-`` class of the widget it
    replaces. ``picked``: tconsts whose pick button shows "Picked (undo)".
    """
    posters = posters or {}
    current = current or {}
    shown = {str(r["tconst"]): str(r.get("primary_title") or r["tconst"]) for r in rows}
    st.session_state[_shown_key(key)] = shown
    if not _components_run():
        _fallback(rows, key=key, on_click=on_click, buttons=buttons, posters=posters, current=current, picked=picked)
        return
    data = {
        "label": label,
        "columns": columns,
        "done": st.session_state.get(_done_key(key), 0),
        "cards": [
            card_data(
                r,
                key=key,
                buttons=buttons,
                poster=posters.get(str(r["tconst"])),
                current=current.get(str(r["tconst"])),
                picked=str(r["tconst"]) in picked,
            )
            for r in rows
        ],
    }
    # sent as JSON bytes the browser parses (card_assets.JS): Streamlit passes bytes through,
    # where a dict is scanned value by value for data frames and dumped to JSON twice (the
    # element and its identity): the element 0.73 -> 0.43 ms of CPU a feed click in the server
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
    _render(key=f"cb-cards-{key}", data=payload, on_click_change=_dispatch(key, buttons, on_click))


def _fallback(
    rows: Sequence[Mapping[str, Any]],
    *,
    key: str,
    on_click: Callable[[Click], None],
    buttons: Sequence[Button],
    posters: Mapping[str, str],
    current: Mapping[str, int],
    picked: set[str] | frozenset[str],
) -> None:
    """The same cards as ``st.button`` widgets in rows of four (AppTest), each click going to
    the same ``on_click`` as a :class:`Click` through the same session check."""
    from recsys.ui.cards import card_html

    press = auth.checked(on_click)
    for start in range(0, len(rows), 4):
        for i, (col, row) in enumerate(zip(st.columns(4), rows[start : start + 4], strict=False), start=start):
            tconst = str(row["tconst"])
            mine = current.get(tconst)
            with col, st.container(border=True, key=f"card-{key}-{tconst}"):
                st.html(card_html(row, poster=posters.get(tconst), current=mine))
                with st.container(horizontal=True, gap="small", key=f"cardbtn-{key}-{tconst}"):
                    for b in buttons:
                        if b.action == "pick" and (b.value == 1) == (tconst in picked):
                            continue
                        st.button(
                            b.label,
                            key=widget_key(b, key, tconst),
                            icon=f":material/{b.icon}:",
                            help=b.help or b.label,
                            type="primary"
                            if b.action == "rate" and mine == b.value
                            else ("tertiary" if b.tertiary else "secondary"),
                            on_click=press,
                            args=(Click(b.action, tconst, i, b.value, str(row.get("primary_title") or tconst)),),
                        )
