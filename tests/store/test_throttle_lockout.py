"""No lockout by username (issue 21, N4): failed guesses delay only the address that made them;
the owner signs in from elsewhere, and a signed-in session can always re-check its password
(to change it or delete the account). Before, 4 wrong guesses from one address refused the
owner's right password from any address for 15 s, doubling to 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime

from recsys.access.throttle import Refusal, Throttle
from recsys.store import Store, register
from recsys.store.accounts import check_password

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
RIGHT, WRONG = "Secret#123", "Wrong#pass1"
ATTACKER, OWNER = "198.51.100.9", "203.0.113.7"


def test_an_attackers_failures_delay_only_the_attacker(store_url: str) -> None:
    with Store.open(store_url) as store:
        alice = register(store, "alice", "Alice", "alice@example.com", RIGHT)
        limits = Throttle(store, lambda: T0)
        outcomes = [limits.sign_in("alice", WRONG, ATTACKER) for _ in range(8)]
        assert [type(o).__name__ for o in outcomes] == ["NoneType"] * 4 + ["Refusal"] * 4
        assert getattr(limits.sign_in("alice", RIGHT, OWNER), "username", None) == "alice"

        # the owner's signed-in session, even from the attacker's (blocked) address
        def reauth(password: str) -> object:
            return limits.checked(
                "alice", password, ATTACKER, lambda: True if check_password(password, alice.password_hash) else None,
                session="owner-tab",
            )  # fmt: skip

        assert reauth(RIGHT) is True
        assert [reauth(WRONG) for _ in range(4)] == [None] * 4  # its own mistypes are limited too
        assert isinstance(reauth(RIGHT), Refusal)
