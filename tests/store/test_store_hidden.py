""" "Not interested": hidden titles are per user, idempotent, separate from ratings."""

from __future__ import annotations

import pytest

from recsys.errors import UnknownTitleError, UnknownUserError
from recsys.store import Store


def _user(store: Store, name: str = "hana") -> int:
    return store.create_user(name, name.title(), f"{name}@example.com", "$2b$04$" + "x" * 53).id


def test_hide_is_idempotent_and_not_a_rating(store: Store) -> None:
    uid = _user(store)
    assert store.hide(uid, "tt0000001") is True
    assert store.hide(uid, "tt0000001") is False  # double click
    assert store.hidden_tconsts(uid) == {"tt0000001"}
    assert store.rated_tconsts(uid) == set()
    assert store.history(uid).height == 0
    assert store.unhide(uid, "tt0000001") is True
    assert store.unhide(uid, "tt0000001") is False
    assert store.hidden_tconsts(uid) == set()


def test_hidden_titles_are_per_user_and_go_with_the_account(store: Store) -> None:
    a, b = _user(store, "ana"), _user(store, "ben")
    store.hide(a, "tt0000002")
    assert store.hidden_tconsts(b) == set()
    store.delete_user(a)
    assert store.hidden_tconsts(a) == set()


def test_bad_input_is_refused(store: Store) -> None:
    uid = _user(store)
    with pytest.raises(UnknownTitleError):
        store.hide(uid, "'; DROP TABLE users; --")
    with pytest.raises(UnknownUserError):
        store.hide(uid + 999, "tt0000003")
    assert store.hidden_tconsts(uid) == set()
