"""Users: create / get, case-insensitive uniqueness, credentials, profile updates, cascade
delete."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Table, func, select

from recsys.errors import DuplicateUserError, UnknownUserError
from recsys.store import Store, User
from recsys.store.schema import interaction_history, interactions, users
from tests.support.narrow import present


def _count(store: Store, table: Table, **where: object) -> int:
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with store.engine.connect() as conn:
        return int(conn.scalar(query) or 0)


def test_create_then_get_user(store: Store) -> None:
    before = datetime.now(UTC)
    created = store.create_user("  Ada.L ", "Ada <b>Lovelace</b>", "Ada@Example.COM", "$2b$hash")
    after = datetime.now(UTC)

    assert created.username == "ada.l"
    assert created.email == "ada@example.com"
    assert created.name == "Ada <b>Lovelace</b>"  # stored as typed; the UI escapes it
    assert created.is_active and created.favourite_genres == ()
    assert created.onboarding_step == "genres" and not created.onboarded
    assert created.created_at.tzinfo is UTC and before <= created.created_at <= after

    fetched = store.get_user("ADA.L")
    assert fetched == created
    assert store.get_user_by_id(created.id) == created
    assert "hash" not in repr(fetched)  # password hash kept out of logs


def test_unknown_user_is_none(store: Store) -> None:
    assert store.get_user("nobody") is None
    assert store.get_user_by_id(12345) is None


def test_user_is_frozen(store: Store) -> None:
    user = store.create_user("ada", "Ada", "ada@example.com", "h")
    with pytest.raises(AttributeError):
        user.name = "Eve"  # type: ignore[misc]  # writing a read-only field on purpose: it must raise


def test_an_email_may_be_on_several_accounts(store: Store) -> None:
    """Issue 21: refusing a taken email told anyone which emails have an account."""
    store.create_user("ada", "Ada", "ada@example.com", "h")
    bob = store.create_user("bob", "Bob", "ADA@Example.Com", "h2")
    assert bob.email == "ada@example.com" and _count(store, users) == 2


@pytest.mark.parametrize(
    ("username", "email", "field"),
    [
        ("ada", "other@example.com", "username"),
        ("ADA", "other@example.com", "username"),
    ],
)
def test_duplicates_are_refused(store: Store, username: str, email: str, field: str) -> None:
    store.create_user("ada", "Ada", "ada@example.com", "h")
    with pytest.raises(DuplicateUserError) as info:
        store.create_user(username, "Someone", email, "h2")
    assert info.value.field == field
    assert f"That {field} is already registered" in str(info.value)
    assert _count(store, users) == 1


def test_ids_of_deleted_users_are_not_reused(store: Store) -> None:
    first = store.create_user("ada", "Ada", "ada@example.com", "h")
    store.delete_user(first.id)
    second = store.create_user("bob", "Bob", "bob@example.com", "h")
    assert second.id > first.id


def test_credentials_shape_active_users_only(store: Store) -> None:
    ada = store.create_user("Ada", "Ada L", "ada@example.com", "hash-a")
    store.create_user("bob", "Bob", "bob@example.com", "hash-b")
    carol = store.create_user("carol", "Carol", "carol@example.com", "hash-c")
    store.set_active(carol.id, False)

    assert store.credentials() == {
        "usernames": {
            "ada": {"name": "Ada L", "email": "ada@example.com", "password": "hash-a"},
            "bob": {"name": "Bob", "email": "bob@example.com", "password": "hash-b"},
        }
    }
    store.set_active(carol.id, True)
    assert set(store.credentials()["usernames"]) == {"ada", "bob", "carol"}
    # a fresh dict every time: the authenticator may mutate its copy
    creds = store.credentials()
    creds["usernames"]["ada"]["password"] = "tampered"
    assert store.get_user("ada") is not None
    assert present(store.get_user("ada")).password_hash == "hash-a"
    assert ada.id == present(store.get_user("ada")).id


def test_empty_store_credentials(store: Store) -> None:
    assert store.credentials() == {"usernames": {}}


def test_set_password_hash(store: Store) -> None:
    store.create_user("ada", "Ada", "ada@example.com", "old")
    store.set_password_hash("ADA", "new")
    assert present(store.get_user("ada")).password_hash == "new"
    with pytest.raises(UnknownUserError):
        store.set_password_hash("nobody", "new")


def test_favourite_genres_round_trip(store: Store) -> None:
    user = store.create_user("ada", "Ada", "ada@example.com", "h")
    store.set_favourite_genres(user.id, ["Sci-Fi", "Drama", " Sci-Fi ", ""])
    assert present(store.get_user("ada")).favourite_genres == ("Sci-Fi", "Drama")
    store.set_favourite_genres(user.id, [])
    assert present(store.get_user("ada")).favourite_genres == ()
    with pytest.raises(TypeError):
        store.set_favourite_genres(user.id, "Drama")
    with pytest.raises(UnknownUserError):
        store.set_favourite_genres(user.id + 100, ["Drama"])


def test_onboarding_steps(store: Store) -> None:
    user = store.create_user("ada", "Ada", "ada@example.com", "h")
    for step in ("movies", "tv", "done"):
        store.set_onboarding_step(user.id, step)
        assert present(store.get_user("ada")).onboarding_step == step
    assert present(store.get_user("ada")).onboarded
    with pytest.raises(ValueError, match="Onboarding step must be one of genres, movies, tv, done"):
        store.set_onboarding_step(user.id, "finished")
    assert present(store.get_user("ada")).onboarding_step == "done"
    with pytest.raises(UnknownUserError, match="No user with id"):
        store.set_onboarding_step(user.id + 100, "tv")


def test_delete_user_cascades_to_interactions_and_history(store: Store) -> None:
    ada: User = store.create_user("ada", "Ada", "ada@example.com", "h")
    bob: User = store.create_user("bob", "Bob", "bob@example.com", "h")
    for user in (ada, bob):
        store.rate(user.id, "tt0111161", 1)
        store.rate(user.id, "tt0068646", 2)
        store.unrate(user.id, "tt0068646")
    assert _count(store, interactions, user_id=ada.id) == 1
    assert _count(store, interaction_history, user_id=ada.id) == 3

    store.delete_user(ada.id)
    store.delete_user(ada.id)  # twice is harmless

    assert store.get_user("ada") is None
    assert _count(store, interactions, user_id=ada.id) == 0
    assert _count(store, interaction_history, user_id=ada.id) == 0
    assert _count(store, interactions, user_id=bob.id) == 1
    assert _count(store, interaction_history, user_id=bob.id) == 3
    assert store.rated_tconsts(bob.id) == {"tt0111161"}


def test_first_account_is_admin_later_ones_testers(store: Store) -> None:
    first = store.create_user("ada", "Ada", "ada@example.com", "h")
    second = store.create_user("bob", "Bob", "bob@example.com", "h")
    assert (first.role, second.role) == ("admin", "tester")
    assert present(store.get_user("bob")).role == "tester"


def test_role_change_and_logout_end_earlier_sessions(store: Store) -> None:
    store.create_user("ada", "Ada", "ada@example.com", "h")
    bob = store.create_user("bob", "Bob", "bob@example.com", "h")
    assert bob.session_version == 0
    store.set_role(bob.id, "analyst")
    after_grant = store.get_user_by_id(bob.id)
    assert after_grant is not None and after_grant.role == "analyst" and after_grant.session_version == 1
    assert store.bump_session_version(bob.id) == 2
    with pytest.raises(ValueError, match="choose one of admin, analyst, tester"):
        store.set_role(bob.id, "root")
