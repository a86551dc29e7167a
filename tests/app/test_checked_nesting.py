"""A click passes the session check once, however many checked callbacks it goes through.

A feed card click runs the card element's checked handler, which calls ``actions.rate``, which
calls ``actions.set_rating``: three checked layers, and each looked the account up in the store
(``bench/click_latency.py`` profile: 4 lookups per click with the fragment's own). The inner
layers now run under the outer check; a refused click still runs none of them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from recsys.ui import auth


class Checks:
    """Stands in for the store lookup: records each session check, answers ``revoked``."""

    def __init__(self) -> None:
        self.revoked = False
        self.made: list[bool] = []

    def __call__(self) -> bool:
        self.made.append(self.revoked)
        return self.revoked


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Checks:
    fake = Checks()
    monkeypatch.setattr(auth, "revoked", fake)
    return fake


def layers(done: list[str]) -> Callable[[], object]:
    """A click handler -> rate -> set_rating, each checked, as on the feed."""

    @auth.checked
    def set_rating() -> None:
        done.append("stored")

    @auth.checked
    def rate() -> None:
        set_rating()

    @auth.checked
    def click() -> None:
        rate()

    return click


def test_a_click_through_three_checked_layers_is_checked_once(checks: Checks) -> None:
    done: list[str] = []
    click = layers(done)
    click()
    assert done == ["stored"] and len(checks.made) == 1
    click()  # the next click is checked again
    assert done == ["stored", "stored"] and len(checks.made) == 2


def test_a_revoked_session_runs_no_layer(checks: Checks) -> None:
    done: list[str] = []
    checks.revoked = True
    layers(done)()
    assert done == [] and checks.made == [True]


def test_a_failing_callback_does_not_exempt_the_next_click(checks: Checks) -> None:
    @auth.checked
    def broken() -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        broken()
    checks.revoked = True  # revoked since
    done: list[str] = []
    layers(done)()
    assert done == [] and checks.made == [False, True]
