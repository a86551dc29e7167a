"""Sign-in and registration limits: exponential back-off per account and per client.

Pure Python over the store's ``auth_throttle`` table (every app server sees the same counts).
A key counts events (failed sign-ins of an account, failed sign-ins from a client, accounts
registered from a client); after ``free`` of them each further one blocks the key for
``base_s * 2 ** (n - free - 1)`` seconds, at most ``cap_s``. A key idle for ``window_s`` starts
again from zero, and a successful sign-in clears its account's count (not the client's: signing
in to one's own account must not buy more guesses at others'). While a key is blocked, attempts
are refused before any password is checked and are not counted (so hammering a blocked account
does not lengthen its block).

A sign-in reserves its attempt on the *account* before the password is checked
(:meth:`Throttle.sign_in`): one store transaction that refuses a blocked account or counts the
attempt as a failure in advance, and, when that failure would block the account, blocks it at
once (:meth:`recsys.store.Store.throttle_reserve`). The check then fails (the block is set from
the failure's time, as above) or succeeds (the account's count is cleared). So attempts sent at
once get no more password checks on one account than attempts sent one after another: of 40
simultaneous wrong passwords for one account, 4 are checked and 36 refused (before, the block
was read first and the failure counted after a ~0.25 s bcrypt check, and all 40 were checked;
``tests/store/test_throttle_parallel.py``).

The *client* limit counts failures as they happen (checked before, counted after), on purpose:
one address is often many people (an office, a proxy), and a reservation that blocks the
address while its 11th attempt is checked refused a room of colleagues signing in at once (20
testers from one address in the load test). A burst from one address across many accounts can
therefore get more than 10 checks before the address is blocked; each account still gets 4.

**No lockout by username** (issue 21, N4): the account key is the account *as seen from one
client* (``account:alice@203.0.113.7``), so only the addresses that failed wait; before, 4 wrong
guesses from one address locked the account for everyone, doubling to 15 minutes, and the owner
could not even change the password from a signed-in session. Guessing from many addresses is
bounded by each address's own limit (10 failures, then doubling), and since issue 21 N3 a
visitor cannot pick a new address per request (``recsys.access.clientip``). A signed-in session's
re-authentication (to change the password or delete the account) is limited per session only
(:meth:`Throttle.checked` with ``session``): neither an attacker's failures from any address nor
a blocked shared address stops the owner.

The schedule (seconds blocked after the n-th failure in a row):

=========  ====  ====  ====  ====  ====  ====  ====  =====
n          1-3   4     5     6     7     8     9     10+
account    0     15    30    60    120   240   480   900
=========  ====  ====  ====  ====  ====  ====  ====  =====

A client gets 10 free failures (spread over any accounts), then the same doubling; registration
allows 5 attempts per client that reach the store (new accounts, and taken usernames or emails,
which would otherwise list the accounts), then one hour's wait. The clock is injectable for tests.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from recsys.store.accounts import authenticate, dummy_check
from recsys.store.repository import Store, ThrottleState, User, normalise_username
from recsys.store.schema import utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Rule:
    """How one kind of key is limited (module docstring)."""

    kind: str
    free: int
    base_s: float
    cap_s: float
    window_s: float = 3600.0

    def block_s(self, count: int) -> float:
        """Seconds the key is refused after its ``count``-th event (0 = not refused)."""
        if count <= self.free:
            return 0.0
        return float(min(self.cap_s, self.base_s * 2 ** min(count - self.free - 1, 30)))


ACCOUNT = Rule("account", free=3, base_s=15.0, cap_s=900.0)
CLIENT = Rule("client", free=10, base_s=15.0, cap_s=900.0)
REGISTER = Rule("register", free=4, base_s=3600.0, cap_s=3600.0)


@dataclass(frozen=True)
class Limits:
    """The three rules a :class:`Throttle` applies; the defaults are the schedule above. The free
    counts are settings (``recsys.config``: ``CINEBLEND_SIGNIN_ACCOUNT_FAILURES``,
    ``CINEBLEND_SIGNIN_CLIENT_FAILURES``, ``CINEBLEND_REGISTRATIONS_PER_HOUR``)."""

    account: Rule = ACCOUNT
    client: Rule = CLIENT
    register: Rule = REGISTER

    @classmethod
    def of(cls, *, account_failures: int, client_failures: int, registrations_per_hour: int) -> Limits:
        """Rules with these free counts and the default waits. ``registrations_per_hour=5``: five
        attempts from one address, then an hour's wait (the fifth is counted and blocks)."""
        return cls(
            account=replace(ACCOUNT, free=account_failures),
            client=replace(CLIENT, free=client_failures),
            register=replace(REGISTER, free=max(0, registrations_per_hour - 1)),
        )


@dataclass(frozen=True)
class Refusal:
    """An attempt refused for now: why, and when to retry."""

    reason: str
    until: datetime
    seconds: float

    @property
    def message(self) -> str:
        """One line: the reason and when to try again."""
        return f"{self.reason} Try again in {wait_text(self.seconds)} (at {self.until:%H:%M:%S} UTC)."


def wait_text(seconds: float) -> str:
    """``45 s``, ``2 min``, ``1 h``: a wait rounded up to what a person reads."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{math.ceil(seconds / 60)} min"
    return f"{math.ceil(seconds / 3600)} h"


def _key(rule: Rule, value: str) -> str:
    return f"{rule.kind}:{value}"


def _seen_from(account: str, client: str) -> str:
    """The account key's value: the account as seen from one client (module docstring)."""
    return f"{account}@{client}"


def now() -> datetime:
    """The limits' clock (tests replace it, or pass ``clock`` to :class:`Throttle`)."""
    return utcnow()


class Throttle:
    """The limits over one store, with an injectable clock (default :func:`now`) and rules
    (default :class:`Limits`, the schedule above)."""

    def __init__(self, store: Store, clock: Clock | None = None, limits: Limits | None = None) -> None:
        self.store = store
        self._clock = clock
        self.limits = limits or Limits()

    def clock(self) -> datetime:
        return self._clock() if self._clock is not None else now()

    def _refusal(self, checks: list[tuple[Rule, str, str]]) -> Refusal | None:
        now = self.clock()
        states = self.store.throttle_states([_key(rule, value) for rule, value, _ in checks])
        worst: Refusal | None = None
        for rule, value, reason in checks:
            state = states.get(_key(rule, value))
            if state is None or state.blocked_until is None or state.blocked_until <= now:
                continue
            seconds = (state.blocked_until - now).total_seconds()
            if worst is None or seconds > worst.seconds:
                worst = Refusal(reason, state.blocked_until, seconds)
        return worst

    def _count(self, rule: Rule, value: str) -> None:
        state = self.store.throttle_count(_key(rule, value), self.clock(), rule.window_s, rule.block_s)
        if state.blocked_until is not None and state.count > rule.free:
            log.warning("%s %s blocked after %d events", rule.kind, value, state.count)

    # -- sign-in -----------------------------------------------------------------------------

    def login_refusal(self, username: str, client: str) -> Refusal | None:
        """Why a sign-in as ``username`` from ``client`` is refused now, or None."""
        return self._refusal(
            [
                (
                    self.limits.account,
                    _seen_from(normalise_username(username), client),
                    "Too many failed sign-ins for this account.",
                ),
                (self.limits.client, client, "Too many failed sign-ins from your address."),
            ]
        )

    def login_failed(self, username: str, client: str) -> None:
        self._count(self.limits.account, _seen_from(normalise_username(username), client))
        self._count(self.limits.client, client)

    def login_succeeded(self, username: str, client: str) -> None:
        self.store.throttle_clear(_key(self.limits.account, _seen_from(normalise_username(username), client)))

    def _reserve(self, rule: Rule, value: str, reason: str) -> ThrottleState | Refusal:
        """Reserve one attempt on ``rule``'s key for ``value``: the reservation, or why not."""
        state, reserved = self.store.throttle_reserve(_key(rule, value), self.clock(), rule.window_s, rule.block_s)
        if reserved:
            return state
        until = state.blocked_until or self.clock()
        return Refusal(reason, until, (until - self.clock()).total_seconds())

    def _failed(self, rule: Rule, value: str, reserved: ThrottleState) -> None:
        state = self.store.throttle_failed(reserved, self.clock(), rule.block_s)
        if state.blocked_until is not None and rule.block_s(reserved.count) > 0:
            log.warning("%s %s blocked after %d events", rule.kind, value, reserved.count)

    def _reserve_account(self, account: str, client: str) -> ThrottleState | Refusal:
        """Refuse a blocked client (not counted), else reserve an attempt on the account; a
        refusal never costs the account anything (module docstring)."""
        refusal = self._refusal([(self.limits.client, client, "Too many failed sign-ins from your address.")])
        if refusal is not None:
            return refusal
        return self._reserve(self.limits.account, account, "Too many failed sign-ins for this account.")

    def checked(
        self,
        username: str,
        password: str,
        client: str,
        check: Callable[[], _T | None],
        *,
        session: str | None = None,
    ) -> _T | Refusal | None:
        """Run ``check`` (one password check for ``username``: a result, or None if wrong) under
        the sign-in limits: its result, a :class:`Refusal` (no ``check``, only the constant-cost
        dummy), or None (a failure, counted for the account and the client).

        The attempt is reserved on the account as seen from ``client`` before ``check`` runs; the
        client's failures are counted as they happen (module docstring). ``session``: a signed-in
        session re-checking its own password, limited on that session alone (no client limit).
        """
        if session is not None:
            account = _seen_from(normalise_username(username), f"session:{session}")
            reserved = self._reserve(self.limits.account, account, "Too many wrong passwords in this session.")
        else:
            account = _seen_from(normalise_username(username), client)
            reserved = self._reserve_account(account, client)
        if isinstance(reserved, Refusal):
            dummy_check(password)  # a refused attempt costs what a checked one does
            if session is not None:
                return reserved
            return self.login_refusal(username, client) or reserved  # the longer wait of the two
        try:
            result = check()
        except BaseException:
            self.store.throttle_release(reserved)
            raise
        if result is None:
            self._failed(self.limits.account, account, reserved)
            if session is None:
                self._count(self.limits.client, client)
            return None
        self.store.throttle_clear(_key(self.limits.account, account))
        return result

    def sign_in(self, username: str, password: str, client: str) -> User | Refusal | None:
        """Check a sign-in: the user, a :class:`Refusal` (throttled: no password checked beyond
        the constant-cost dummy), or None for a wrong username or password (counted)."""
        return self.checked(username, password, client, lambda: authenticate(self.store, username, password))

    # -- registration ------------------------------------------------------------------------

    def registration_refusal(self, client: str) -> Refusal | None:
        return self._refusal([(self.limits.register, client, "Too many new accounts from your address.")])

    def registered(self, client: str) -> None:
        """Count a registration from ``client`` (made, or refused as a duplicate)."""
        self._count(self.limits.register, client)
