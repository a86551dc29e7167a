"""Two admins demoting (or removing) each other at once leave one admin (issue 21, low): the
count and the change are one transaction, on both backends. Before, the check ran before the
change and both demotions passed it: no admin left in 94 of 100 trials of the audit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from recsys.access.roles import ADMIN, TESTER
from recsys.app import users
from recsys.store import Store, register

TRIALS = 10


def revoke(username: str) -> Callable[[Store], object]:
    """Take ``username``'s admin role away (as ``users revoke`` does)."""
    return lambda store: users.revoke(store, username, ADMIN)


def remove(username: str, models: Path) -> Callable[[Store], object]:
    """Delete ``username``'s account (as ``users remove`` does)."""
    return lambda store: users.remove(store, username, models)


def _at_once(store_url: str, actions: list[Callable[[Store], object]]) -> list[object]:
    """Run each action on its own store (as two app servers would), released by one barrier;
    the outcomes (a result or the exception) in order."""
    gate = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(i: int) -> None:
        with Store.open(store_url) as store:
            gate.wait(timeout=60)
            try:
                outcomes[i] = actions[i](store)
            except users.AccountError as exc:
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def _admins(store: Store) -> list[str]:
    return sorted(u.username for u in store.list_users() if u.role == ADMIN)


@pytest.mark.parametrize("action", ["demote", "remove"])
def test_two_admins_acting_on_each_other_at_once_leave_one_admin(store_url: str, tmp_path: Path, action: str) -> None:
    for trial in range(TRIALS):
        a, b = f"ada{trial}", f"bob{trial}"
        with Store.open(store_url) as store:
            for user in store.list_users():  # every trial starts with exactly these two admins
                store.delete_user(user.id)
            register(store, a, "Ada", f"{a}@example.com", "Secret#123")
            register(store, b, "Bob", f"{b}@example.com", "Secret#123")
            users.grant(store, a, ADMIN)
            users.grant(store, b, ADMIN)
        if action == "demote":
            outcomes = _at_once(store_url, [revoke(b), revoke(a)])
        else:
            outcomes = _at_once(store_url, [remove(b, tmp_path / "models"), remove(a, tmp_path / "models")])
        refused = [o for o in outcomes if isinstance(o, users.AccountError)]
        assert len(refused) == 1, (trial, outcomes)
        assert "is the only admin and cannot be" in str(refused[0])
        assert "grant admin to another account first" in str(refused[0])
        with Store.open(store_url) as store:
            assert len(_admins(store)) == 1, trial
            if action == "demote":
                assert sorted(u.role for u in store.list_users()) == [ADMIN, TESTER]
