"""Click handlers (``on_click`` callbacks) that change the store, shared by every page.

Callbacks run before the next script run; errors become a flash message instead of a crash.

Every rating path (the cards of the feed, search and history, the details dialog) goes through
:func:`set_rating`, the one action that stores the rating and pushes what it replaced on the
session's undo stack; the "Last action" slot (``cards.action_bar``) shows the top of that stack
and its Undo button carries the action it shows, so :func:`undo` reverts exactly that one and
nothing else (issue 20: a dialog rating used to change the stack without the slot, and Undo then
reverted an action the screen did not name). A path that reruns only part of the page (the
dialog) must rerun the page after the action so the slot and the feed show it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

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
    seq: int = 0  # position in the session's undo stack: tells two equal clicks apart

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
    return store.rating(user_id, tconst)


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


UNDO_DEPTH = 20  # actions kept for Undo in a session


def _stack() -> list[LastAction]:
    stack: list[LastAction] = st.session_state.setdefault(state.UNDO, [])
    return stack


def last_action() -> LastAction | None:
    """The action the "Last action" slot shows and Undo reverts (None: nothing to undo)."""
    stack = _stack()
    return stack[-1] if stack else None


def _remember(action: LastAction) -> None:
    stack = _stack()
    seq = (stack[-1].seq + 1) if stack else 1
    stack.append(replace(action, seq=seq))
    del stack[:-UNDO_DEPTH]
    st.session_state[state.TOAST] = action.describe()


@auth.checked
def set_rating(user_id: int, tconst: str, value: int | None, title: str = "") -> None:
    """Store a like / dislike / superlike (or remove the rating with ``None``) at once.

    Idempotent: a double click stores one value and one history entry. A failed write (database
    locked, disk full) leaves an error for the page's action bar, which shows it in the same
    (fragment) run; the last action stays what it was, so Undo never names the failed title.
    """
    try:
        # the value it replaced, read in the same write transaction (one transaction a click)
        changed, before = resources.store().change_rating(user_id, tconst, value)
    except (CineBlendError, ValueError) as exc:
        what = "removal of your rating" if value is None else VALUE_LABELS.get(value, "rating")
        _click_failed(f"Not saved ({what}: {title or tconst}): {exc}")
        return
    if changed:
        _remember(LastAction(user_id, tconst, title or tconst, before, value))


@auth.checked
def rate(user_id: int, tconst: str, value: int, title: str = "") -> None:
    set_rating(user_id, tconst, value, title)


@auth.checked
def undo(shown: LastAction | None = None) -> None:
    """Put back what the action ``shown`` in the "Last action" slot replaced; the slot then shows
    the action before it (up to :data:`UNDO_DEPTH`). When the stack's top is no longer the
    action the screen showed (a newer click elsewhere), nothing is reverted and the slot says so:
    Undo never reverts an action it did not name."""
    stack = _stack()
    if not stack:
        return
    action = stack[-1]
    if shown is not None and shown != action:
        _click_failed(f'Nothing undone: your last action is now "{action.describe()}". Press Undo again to undo it.')
        return
    stack.pop()
    store = resources.store()
    try:
        if action.hidden:
            store.unhide(action.user_id, action.tconst)
        elif action.before is None:
            store.unrate(action.user_id, action.tconst)
        else:
            store.rate(action.user_id, action.tconst, action.before)
    except (CineBlendError, ValueError) as exc:
        stack.append(action)  # still undoable once the store answers
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
