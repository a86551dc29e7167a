"""One-time invite links (issue 20, item 3): the role chosen, single use, expiry, withdrawal,
a failed registration gives the link back, and two people racing for one link get one account;
the registration limits as settings (``recsys.access.throttle.Limits``). On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from recsys.access import invites
from recsys.access.throttle import Limits, Throttle
from recsys.errors import DuplicateUserError, RegistrationError
from recsys.store import Store, register

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
PASSWORD = "a long passphrase for the office"


def admin(store: Store) -> None:
    register(store, "root", "Root", "root@example.com", "Secret#123")


def test_an_invite_registers_once_with_its_role(store_url: str) -> None:
    with Store.open(store_url) as store:
        admin(store)
        new = invites.create(store, "analyst", created_by="root", hours=24, now=T0)
        assert new.link("http://office.example:8501/") == f"http://office.example:8501/?invite={new.token}"
        assert invites.check(store, new.token, now=T0).role == "analyst"

        ann = invites.register(store, new.token, "ann", "Ann", "ann@example.com", PASSWORD, now=T0)
        assert (ann.username, ann.role) == ("ann", "analyst")

        with pytest.raises(invites.InviteError, match=r"already used \(on 2030-01-01 12:00 UTC\)"):
            invites.register(store, new.token, "bob", "Bob", "bob@example.com", PASSWORD, now=T0)
        assert store.get_user("bob") is None
        assert invites.listing(store, now=T0) == [
            {"id": "1", "role": "analyst", "status": "used", "created": "2030-01-01 12:00", "created by": "root",
             "expires": "2030-01-02 12:00", "used by": "ann"},
        ]  # fmt: skip


def test_expired_unknown_and_withdrawn_links_say_why(store_url: str) -> None:
    with Store.open(store_url) as store:
        admin(store)
        new = invites.create(store, "tester", created_by=None, hours=1, now=T0)
        later = T0 + timedelta(hours=1, seconds=1)
        with pytest.raises(invites.InviteError, match="expired on 2030-01-01 13:00 UTC. Ask whoever invited you"):
            invites.register(store, new.token, "bob", "Bob", "bob@example.com", PASSWORD, now=later)
        with pytest.raises(invites.InviteError, match="not valid"):
            invites.check(store, new.token + "x", now=T0)
        other = invites.create(store, "tester", created_by=None, now=T0)
        invites.withdraw(store, other.invite.id)
        with pytest.raises(invites.InviteError, match="not valid"):
            invites.check(store, other.token, now=T0)
        with pytest.raises(invites.InviteError, match="No unused invite"):
            invites.withdraw(store, other.invite.id)
        with pytest.raises(invites.InviteError, match="Unknown role 'boss'"):
            invites.create(store, "boss", created_by=None)
        with pytest.raises(invites.InviteError, match="at most 720 hours"):
            invites.create(store, "tester", created_by=None, hours=721)


def test_a_failed_registration_gives_the_link_back(store_url: str) -> None:
    with Store.open(store_url) as store:
        admin(store)
        new = invites.create(store, "tester", created_by="root", now=T0)
        with pytest.raises(RegistrationError):
            invites.register(store, new.token, "bob", "Bob", "bob@example.com", "short", now=T0)
        with pytest.raises(DuplicateUserError):
            invites.register(store, new.token, "root", "Bob", "bob@example.com", PASSWORD, now=T0)
        bob = invites.register(store, new.token, "bob", "Bob", "bob@example.com", PASSWORD, now=T0)
        assert bob.role == "tester"


def test_two_people_racing_for_one_link_get_one_account(store_url: str) -> None:
    with Store.open(store_url) as store:
        admin(store)
        new = invites.create(store, "tester", created_by="root", now=T0)
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def use(name: str) -> None:
            barrier.wait()
            try:
                invites.register(store, new.token, name, name.title(), f"{name}@example.com", PASSWORD, now=T0)
                outcomes[name] = "registered"
            except invites.InviteError:
                outcomes[name] = "refused"

        threads = [threading.Thread(target=use, args=(n,)) for n in ("bob", "eve")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes.values()) == ["refused", "registered"]
        assert len(store.list_users()) == 2


def test_registration_limit_is_a_setting(store_url: str) -> None:
    with Store.open(store_url) as store:
        limits = Throttle(
            store, lambda: T0, Limits.of(account_failures=3, client_failures=10, registrations_per_hour=8)
        )
        for _ in range(8):
            assert limits.registration_refusal("203.0.113.7") is None
            limits.registered("203.0.113.7")
        refusal = limits.registration_refusal("203.0.113.7")
        assert refusal is not None and refusal.message == (
            "Too many new accounts from your address. Try again in 60 min (at 13:00:00 UTC)."
        )
        default = Throttle(store, lambda: T0)
        for _ in range(5):
            assert default.registration_refusal("198.51.100.1") is None
            default.registered("198.51.100.1")
        assert default.registration_refusal("198.51.100.1") is not None
