"""A feed click looks the account up once: its callback's session check and the fragment run that
follows in the same script run share the passed check (``auth.revoked`` over
``resources.run_memo``). What must still hold: every new run checks again, a failed check is never
remembered, and a session that changed in the run (signed in again, a new session version) is
checked again.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from recsys.ui import auth, resources, state


class Run:
    """A script run's object (Streamlit makes one per run; held weakly, so not a bare object())."""


class Runs:
    """Stands in for Streamlit's run object and the store lookup behind the check."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.run: object | None = Run()
        self.current = True  # what the store says about the session
        self.lookups = 0
        self.session: dict[str, Any] = {
            state.AUTH_STATUS: True,
            state.SESSION_UID: 7,
            state.USERNAME: "ada",
            state.SESSION_VERSION: 3,
        }
        monkeypatch.setattr(resources, "this_run", lambda: self.run)
        monkeypatch.setattr(resources, "shared_store", lambda cfg=None: None)
        monkeypatch.setattr(auth.demo, "active", lambda: None)
        monkeypatch.setattr(auth, "st", SimpleNamespace(session_state=self.session))
        monkeypatch.setattr(auth, "session_user", self.lookup)

    def lookup(self, store: object) -> object | None:
        self.lookups += 1
        return object() if self.current else None

    def next_run(self) -> None:
        self.run = Run()


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Runs:
    return Runs(monkeypatch)


def test_a_callback_and_its_fragment_run_share_one_lookup_and_the_next_run_checks_again(runs: Runs) -> None:
    assert not auth.revoked()  # the click's callback
    assert not auth.revoked()  # the fragment run right after it, same script run
    assert runs.lookups == 1
    runs.next_run()
    runs.current = False  # revoked elsewhere between two clicks
    assert auth.revoked()
    assert runs.lookups == 2


def test_a_failed_check_is_never_remembered(runs: Runs) -> None:
    runs.current = False
    assert auth.revoked()
    assert auth.revoked()
    assert runs.lookups == 2


def test_a_session_that_changed_in_the_run_is_checked_again(runs: Runs) -> None:
    assert not auth.revoked()
    runs.session[state.SESSION_VERSION] = 4  # e.g. a password change issued a new cookie
    runs.current = False
    assert auth.revoked()
    runs.session[state.SESSION_VERSION] = 3
    runs.session[state.SESSION_UID] = 8  # another account signed in on this tab
    assert auth.revoked()
    assert runs.lookups == 3


def test_outside_a_script_run_every_check_looks_up(runs: Runs) -> None:
    runs.run = None
    assert not auth.revoked()
    assert not auth.revoked()
    assert runs.lookups == 2
