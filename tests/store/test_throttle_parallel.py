"""Sign-in attempts sent at once get no more password checks than attempts sent one by one
(issue 21, N1), on both backends.

40 threads wait at a barrier and call :meth:`Throttle.sign_in` together. The password check is
replaced by one that counts its calls and then holds until every attempt of the burst has been
decided (checked or refused), like a ~0.25 s bcrypt that outlasts the store round trips: the
window a burst exploits, made certain instead of timed. Before the reservation all 40 wrong
passwords for one account were checked; with it, 4 are (3 free failures and the one that
blocks). The account key is the account as seen from one address (issue 21, N4), so the burst
comes from one address and the owner's right password from another still signs in. One address is not reserved: 20
colleagues behind one office address signing in at once all get in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from recsys.access import throttle
from recsys.access.throttle import Refusal, Throttle
from recsys.store import Store, User, register
from tests.support.narrow import present

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
BURST = 40
WRONG, RIGHT = "Wrong#pass1", "Secret#123"


class HeldChecks:
    """Counts the burst's password checks; each holds until all the burst's attempts are decided."""

    def __init__(self, real: Callable[[Store, str, str], User | None]) -> None:
        self.real = real
        self.checks = 0
        self.decided = 0
        self.lock = threading.Lock()
        self.all_decided = threading.Event()

    def decide(self) -> None:
        with self.lock:
            self.decided += 1
            if self.decided == BURST:
                self.all_decided.set()

    def __call__(self, store: Store, username: str, password: str) -> User | None:
        if threading.current_thread().name.startswith("burst-"):
            with self.lock:
                self.checks += 1
            self.decide()
            assert self.all_decided.wait(timeout=60), "the burst never finished deciding"
        return self.real(store, username, password)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> HeldChecks:
    checks = HeldChecks(throttle.authenticate)
    monkeypatch.setattr(throttle, "authenticate", checks)
    return checks


@pytest.fixture
def limits(store_url: str) -> Iterator[Throttle]:
    with Store.open(store_url) as store:
        register(store, "alice", "Alice", "alice@example.com", RIGHT)
        yield Throttle(store, lambda: T0)


def burst(limits: Throttle, held: HeldChecks, attempt: Callable[[int], tuple[str, str, str]]) -> list[Any]:
    """``BURST`` sign-ins ``attempt(i)`` released together by a barrier: results in thread order."""
    results: list[Any] = [None] * BURST
    gate = threading.Barrier(BURST)

    def run(i: int) -> None:
        gate.wait(timeout=60)
        results[i] = limits.sign_in(*attempt(i))
        if isinstance(results[i], Refusal):
            held.decide()

    threads = [threading.Thread(target=run, args=(i,), name=f"burst-{i}") for i in range(BURST)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results


def test_forty_wrong_passwords_at_once_for_one_account_get_four_checks(limits: Throttle, held: HeldChecks) -> None:
    right: list[Any] = []

    def right_password_mid_burst() -> None:  # once every attempt is decided, 4 checks still running
        if held.all_decided.wait(timeout=60):
            right.append(limits.sign_in("alice", RIGHT, "10.0.1.1"))

    late = threading.Thread(target=right_password_mid_burst)
    late.start()
    results = burst(limits, held, lambda i: ("alice", WRONG, "10.0.0.1"))  # one address (N3: not spoofable)
    late.join(timeout=60)
    refused = [r.message for r in results if isinstance(r, Refusal)]
    assert (held.checks, results.count(None), len(refused)) == (4, 4, 36)
    assert set(refused) == {"Too many failed sign-ins for this account. Try again in 15 s (at 12:00:15 UTC)."}
    # the owner, from another address, is not locked out by the burst (issue 21, N4)
    assert [getattr(r, "username", r) for r in right] == ["alice"]
    states = limits.store.throttle_states(["account:alice@10.0.0.1", "client:10.0.1.1"])
    assert states["account:alice@10.0.0.1"].count == 4  # refused attempts are not counted
    assert states["account:alice@10.0.0.1"].blocked_until == T0.replace(second=15)
    assert states.get("client:10.0.1.1") is None or states["client:10.0.1.1"].count == 0


def test_colleagues_behind_one_address_signing_in_at_once_all_get_in(limits: Throttle, held: HeldChecks) -> None:
    for i in range(BURST):
        register(limits.store, f"user{i}", f"User {i}", f"user{i}@example.com", RIGHT)
    results = burst(limits, held, lambda i: (f"user{i}", RIGHT, "10.0.0.1"))  # one office address
    assert held.checks == BURST
    assert [getattr(r, "username", r) for r in results] == [f"user{i}" for i in range(BURST)]
    assert limits.login_refusal("anyone", "10.0.0.1") is None


def test_the_address_limit_still_counts_failures_one_by_one(limits: Throttle) -> None:
    for i in range(10):
        assert limits.sign_in(f"user{i}", WRONG, "10.0.0.1") is None
    user = limits.sign_in("alice", RIGHT, "10.0.0.1")  # a right password after 10 failures
    assert getattr(user, "username", None) == "alice"
    assert limits.sign_in("user10", WRONG, "10.0.0.1") is None  # the 11th failure: blocked
    assert present(limits.login_refusal("anyone", "10.0.0.1")).seconds == 15


def test_an_attempt_refused_by_its_client_costs_the_account_nothing(limits: Throttle) -> None:
    for i in range(11):  # the client is blocked for 15 s
        limits.sign_in(f"user{i}", WRONG, "10.0.0.9")
    for _ in range(3):
        assert limits.sign_in("alice", WRONG, "10.0.0.1") is None
    refusal = limits.sign_in("alice", RIGHT, "10.0.0.9")  # would be the account's 4th: it blocks
    assert getattr(refusal, "reason", None) == "Too many failed sign-ins from your address."
    states = limits.store.throttle_states(["account:alice@10.0.0.1", "account:alice@10.0.0.9"])
    assert "account:alice@10.0.0.9" not in states  # never reserved: the client refused first
    assert (states["account:alice@10.0.0.1"].count, states["account:alice@10.0.0.1"].blocked_until) == (3, None)
    assert getattr(limits.sign_in("alice", RIGHT, "10.0.0.1"), "username", None) == "alice"
