"""The store's part of sign-in: throttle counts shared by every server (both backends), the
session version raised by a password change, deletion clearing settings attribution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recsys.access.throttle import ACCOUNT, CLIENT, REGISTER, Throttle
from recsys.store import Store, register
from tests.support.narrow import present

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


def test_throttle_schedule_doubles_after_the_free_failures_up_to_its_cap() -> None:
    assert [ACCOUNT.block_s(n) for n in range(1, 12)] == [0, 0, 0, 15, 30, 60, 120, 240, 480, 900, 900]
    assert [CLIENT.block_s(n) for n in range(10, 14)] == [0, 15, 30, 60]
    assert [REGISTER.block_s(n) for n in range(1, 7)] == [0, 0, 0, 0, 3600, 3600]


def test_throttle_counts_block_and_reset_across_store_connections(store_url: str) -> None:
    now = [T0]
    with Store.open(store_url) as one, Store.open(store_url) as other:  # two app servers
        register(one, "alice", "Alice", "alice@example.com", "Secret#123")
        first, second = Throttle(one, lambda: now[0]), Throttle(other, lambda: now[0])
        for limits in (first, second, first):
            assert limits.sign_in("alice", "Wrong#pass1", "10.0.0.1") is None
        assert first.sign_in("Alice", "Wrong#pass1", "10.0.0.1") is None  # 4th: blocked 15 s
        refusal = second.sign_in("alice", "Secret#123", "10.0.0.1")
        assert refusal is not None and not hasattr(refusal, "username")
        assert refusal.message == "Too many failed sign-ins for this account. Try again in 15 s (at 12:00:15 UTC)."
        now[0] += timedelta(seconds=15)
        assert second.sign_in("alice", "Wrong#pass1", "10.0.0.1") is None  # 5th: blocked 30 s
        assert present(first.login_refusal("alice", "10.0.0.1")).seconds == 30
        now[0] += timedelta(seconds=30)
        user = first.sign_in("alice", "Secret#123", "10.0.0.1")
        assert getattr(user, "username", None) == "alice"
        assert first.sign_in("alice", "Wrong#pass1", "10.0.0.1") is None  # the count started again
        assert first.login_refusal("alice", "10.0.0.4") is None
        now[0] += timedelta(hours=2)  # an idle hour forgets a client's failures too
        for i in range(10):
            second.sign_in(f"u{i}", "Wrong#pass1", "10.0.0.9")
        assert second.login_refusal("anyone", "10.0.0.9") is None  # 10 free failures
        second.sign_in("u10", "Wrong#pass1", "10.0.0.9")
        assert "from your address" in present(second.login_refusal("anyone", "10.0.0.9")).reason


def test_password_change_raises_the_session_version(store: Store) -> None:
    user = register(store, "alice", "Alice", "alice@example.com", "Secret#123")
    store.set_password_hash("alice", user.password_hash)
    assert present(store.get_user("alice")).session_version == user.session_version + 1


def test_deleting_a_user_clears_their_name_from_settings_and_every_row(store: Store) -> None:
    ada = register(store, "ada", "Ada", "ada@example.com", "Secret#123")
    bob = register(store, "bob", "Bob", "bob@example.com", "Secret#123")
    store.set_setting("live_weights", {"content": 1.0}, updated_by="ada")
    store.set_setting("other", 1, updated_by="bob")
    store.rate(ada.id, "tt0111161", 1)
    store.hide(ada.id, "tt0068646")
    store.delete_user(ada.id)
    assert present(store.setting_info("live_weights"))[2] is None
    assert present(store.setting_info("other"))[2] == "bob"
    assert store.interactions(ada.id).height == 0 and store.history(ada.id).height == 0
    assert store.hidden_tconsts(ada.id) == set()
    assert [u.username for u in store.list_users()] == ["bob"] and bob.id
