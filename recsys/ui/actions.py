"""Click handlers (``on_click`` callbacks) that change the store, shared by every page.

Callbacks run before the next script run; errors become a flash message instead of a crash.
Every rating change remembers what it replaced, so the last action anywhere in the app can be
undone (``undo``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import streamlit as st

from recsys.catalog.queries import Catalog
from recsys.columns import VALUE_LABELS
from recsys.errors import CineBlendError
from recsys.store import Store
from recsys.ui import auth, resources, state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LastAction:
    """What the last click changed: enough to put it back."""

    user_id: int
    tconst: str
    title: str
    before: int | None  # None: the title was not rated
    after: int | None  # None: the rating was removed
    hidden: bool = False  # the action was "Not interested" (before / after unused)

    def describe(self) -> str:
        if self.hidden:
            return f"Hid {self.title} from your feed"
        if self.after is None:
            return f"Removed your rating of {self.title}"
        return f"{VALUE_LABELS.get(self.after, 'Rated')} {self.title}"


def _flash(kind: str, message: str) -> None:
    st.session_state[state.FLASH] = (kind, message)


def _click_failed(message: str) -> None:
    """A rating / hide / undo click was not saved: the page's action bar (in the same fragment
    run as the click) shows why, in place of the last action."""
    st.session_state[state.CLICK_ERROR] = message


def _current(store: Store, user_id: int, tconst: str) -> int | None:
    frame = store.interactions(user_id)
    values = frame.filter(frame["tconst"] == tconst)["value"].to_list()
    return int(values[0]) if values else None


def title_of(catalog: Catalog, tconst: str) -> str:
    """The title's name for messages; the tconst itself when the catalogue cannot say (a
    rating must still be stored, and the page shows the catalogue problem on its next run)."""
    try:
        row = catalog.title(tconst)
    except CineBlendError:
        return tconst
    return row["primary_title"] if row else tconst


def current_value(user_id: int, tconst: str) -> int | None:
    """The user's current rating of ``tconst`` (None when not rated)."""
    return _current(resources.store(), user_id, tconst)


def _remember(action: LastAction) -> None:
    st.session_state[state.LAST_ACTION] = action
    st.session_state[state.TOAST] = action.describe()


@auth.checked
def set_rating(user_id: int, tconst: str, value: int | None, title: str = "") -> None:
    """Store a like / dislike / superlike (or remove the rating with ``None``) at once.

    Idempotent: a double click stores one value and one history entry. A failed write (database
    locked, disk full) leaves an error for the page's action bar, which shows it in the same
    (fragment) run; the last action stays what it was, so Undo never names the failed title.
    """
    store = resources.store()
    try:
        before = _current(store, user_id, tconst)
        if value is None:
            changed = store.unrate(user_id, tconst)
        else:
            changed = store.rate(user_id, tconst, value)
    except (CineBlendError, ValueError) as exc:
        what = "removal of your rating" if value is None else VALUE_LABELS.get(value, "rating")
        _click_failed(f"Not saved ({what}: {title or tconst}): {exc}")
        return
    if changed:
        _remember(LastAction(user_id, tconst, title or tconst, before, value))


def rate(user_id: int, tconst: str, value: int, title: str = "") -> None:
    set_rating(user_id, tconst, value, title)


@auth.checked
def undo() -> None:
    """Put back what the last action replaced (one level of undo)."""
    action: LastAction | None = st.session_state.pop(state.LAST_ACTION, None)
    if action is None:
        return
    store = resources.store()
    try:
        if action.hidden:
            store.unhide(action.user_id, action.tconst)
        elif action.before is None:
            store.unrate(action.user_id, action.tconst)
        else:
            store.rate(action.user_id, action.tconst, action.before)
    except (CineBlendError, ValueError) as exc:
        st.session_state[state.LAST_ACTION] = action  # still undoable once the store answers
        _click_failed(f"Could not undo ({action.describe()}): {exc}")
        return
    st.session_state[state.TOAST] = f"Undone: {action.describe()}"


@auth.checked
def hide(user_id: int, tconst: str, title: str = "") -> None:
    """ "Not interested": hide from the feed (not a dislike); undoable."""
    try:
        changed = resources.store().hide(user_id, tconst)
    except (CineBlendError, ValueError) as exc:
        _click_failed(f"Not saved (not interested: {title or tconst}): {exc}")
        return
    if changed:
        _remember(LastAction(user_id, tconst, title or tconst, None, None, hidden=True))


@auth.checked
def set_pick(user_id: int, tconst: str, liked: bool) -> None:
    """Onboarding picks: True stores a like, False removes it (both idempotent)."""
    try:
        if liked:
            resources.store().rate(user_id, tconst, 1)
        else:
            resources.store().unrate(user_id, tconst)
    except (CineBlendError, ValueError) as exc:
        _flash("error", str(exc))
