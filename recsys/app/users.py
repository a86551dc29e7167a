"""Account management shared by ``python -m recsys users ...`` and the account page's admin
section: add, list, grant, revoke, remove, reset a password. Pure Python, no streamlit.

Every refusal is a :class:`AccountError` (or the store's DuplicateUserError / UnknownUserError,
or a RegistrationError for a weak password) whose message is one line a person can act on. The
last admin cannot be demoted or removed (someone must be able to run the data jobs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from recsys.access.roles import ADMIN, ROLES, TESTER
from recsys.errors import CineBlendError, RegistrationError, UnknownUserError
from recsys.store import Store, User
from recsys.store.accounts import hash_password, password_problems, register

log = logging.getLogger(__name__)


class AccountError(CineBlendError):
    """An account operation that cannot be done as asked (unknown role, last admin, ...)."""


def check_role(role: str) -> str:
    """``role`` lower-cased if it is one of :data:`recsys.access.roles.ROLES`, else AccountError."""
    value = role.strip().lower()
    if value not in ROLES:
        raise AccountError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    return value


def get(store: Store, username: str) -> User:
    """The account ``username`` or UnknownUserError saying how to find the right name."""
    user = store.get_user(username)
    if user is None:
        raise UnknownUserError(f"No account named {username.strip()!r}; see `python -m recsys users list`.")
    return user


def add(store: Store, username: str, name: str, email: str, password: str, role: str | None = None) -> User:
    """Register an account (the sign-up rules apply) and give it ``role`` (default: tester, or
    admin for the very first account)."""
    chosen = check_role(role) if role is not None else None
    if chosen not in (None, ADMIN) and not store.has_users():
        raise AccountError("The first account of a fresh install is the admin; add it without --role, then the others.")
    user = register(store, username, name, email, password)
    if chosen is not None and chosen != user.role:
        store.set_role(user.id, chosen)
        user = get(store, user.username)
    return user


def _admins(store: Store) -> int:
    return sum(1 for u in store.list_users() if u.role == ADMIN and u.is_active)


def _last_admin(user: User, action: str) -> AccountError:
    return AccountError(
        f"{user.username} is the only admin and cannot be {action}; grant admin to another account first."
    )


def _keep_an_admin(store: Store, user: User, action: str) -> None:
    """A quick refusal before any work; the store checks again in the change's own transaction
    (:meth:`recsys.store.Store.set_role_keeping_an_admin`), which is what holds under concurrency."""
    if user.role == ADMIN and _admins(store) <= 1:
        raise _last_admin(user, action)


def _set_role(store: Store, user: User, role: str, action: str) -> None:
    if not store.set_role_keeping_an_admin(user.id, role):
        raise _last_admin(user, action)


def grant(store: Store, username: str, role: str) -> User:
    """Give the account ``role`` (its open sessions end: they sign in again with the new role)."""
    chosen = check_role(role)
    user = get(store, username)
    if user.role == chosen:
        return user
    if chosen != ADMIN:
        _keep_an_admin(store, user, f"made {chosen}")
    _set_role(store, user, chosen, f"made {chosen}")
    return get(store, username)


def revoke(store: Store, username: str, role: str) -> User:
    """Take ``role`` away: the account becomes a tester again."""
    chosen = check_role(role)
    user = get(store, username)
    if chosen == TESTER:
        raise AccountError("tester is the default role and cannot be revoked; grant another role instead.")
    if user.role != chosen:
        raise AccountError(f"{user.username} is {user.role}, not {chosen}; nothing to revoke.")
    _keep_an_admin(store, user, "demoted")
    _set_role(store, user, TESTER, "demoted")
    return get(store, username)


@dataclass(frozen=True)
class Removal:
    """What a removal did: the account and the model versions its factors were taken out of."""

    username: str
    user_id: int
    model_versions: tuple[str, ...]


def remove(
    store: Store, username: str, models_dir: Path, data_dir: Path | None = None, store_url: str | None = None
) -> Removal:
    """Delete the account, its ratings, history, hidden titles and settings attribution, then
    take its rows out of every saved model version (:mod:`recsys.models.scrub`)."""
    from recsys.models.scrub import scrub_user

    user = get(store, username)
    _keep_an_admin(store, user, "removed")
    if not store.delete_user_keeping_an_admin(user.id):
        raise _last_admin(user, "removed")
    scrubbed = scrub_user(models_dir, user.id, data_dir=data_dir, store_url=store_url, store=store)
    return Removal(user.username, user.id, tuple(scrubbed))


def reset_password(store: Store, username: str, password: str) -> User:
    """Set a new password (the rules apply); every session of the account ends."""
    user = get(store, username)
    problems = password_problems(password, username=user.username)
    if problems:
        raise RegistrationError(problems)
    store.set_password_hash(user.username, hash_password(password))
    return get(store, username)


def table(store: Store) -> list[dict[str, str]]:
    """Every account as text columns: username, name, email, role, created (UTC)."""
    return [
        {
            "username": u.username,
            "name": u.name,
            "email": u.email,
            "role": u.role if u.is_active else f"{u.role} (inactive)",
            "created": f"{u.created_at:%Y-%m-%d %H:%M}",
        }
        for u in store.list_users()
    ]
