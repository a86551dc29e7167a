"""One-time invite links: how an office brings its testers in (issue 20, item 3).

An admin (Account page or ``python -m recsys users invite --role tester``) creates a link
``<app URL>/?invite=<token>``: it gives the account registered through it the chosen role, works
once, and expires (default :data:`DEFAULT_HOURS`). Registering with a valid link is not subject
to the per-address registration limit (five attempts an hour): an office behind one proxy shares
one address, and seven colleagues registering in the same hour were refused before. A link that
is mistyped, used or expired counts as a registration attempt like any other, so the limit still
bounds guessing (a token has 192 random bits anyway).

Pure Python, no streamlit. Only the token's SHA-256 is stored, so a copy of the store gives no
usable link. Example::

    new = create(store, "tester", created_by="ada")
    new.link("https://cineblend.example.org")  # 'https://cineblend.example.org/?invite=Xy...'
    user = register(store, new.token, "bob", "Bob", "bob@example.org", "a long passphrase here")
    user.role  # 'tester'
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from recsys.access.roles import ROLES
from recsys.errors import CineBlendError
from recsys.store import Store, User
from recsys.store.accounts import register as register_account
from recsys.store.invites import (
    InviteRow,
    claim_invite,
    delete_invite,
    find_invite,
    insert_invite,
    list_invites,
    release_invite,
    set_invite_user,
)
from recsys.store.schema import utcnow

log = logging.getLogger(__name__)

#: How long a new link works unless told otherwise (3 days: a weekend does not kill it).
DEFAULT_HOURS = 72
#: The longest validity an admin may choose (30 days).
MAX_HOURS = 24 * 30
#: The query parameter of an invite link.
QUERY_PARAM = "invite"
TOKEN_BYTES = 24
ASK_AGAIN = "Ask whoever invited you for a new link."


class InviteError(CineBlendError):
    """An invite link that cannot be used (unknown, used, expired) or cannot be made."""


@dataclass(frozen=True)
class NewInvite:
    """A freshly made invite: its row and the token (shown once, never stored)."""

    invite: InviteRow
    token: str

    def link(self, base_url: str) -> str:
        """The link to send: ``base_url`` (the app's address) with ``?invite=<token>``."""
        return f"{base_url.rstrip('/')}/?{QUERY_PARAM}={self.token}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def create(
    store: Store, role: str, *, created_by: str | None, hours: float = DEFAULT_HOURS, now: datetime | None = None
) -> NewInvite:
    """A new one-time link for ``role`` that works for ``hours`` (at most :data:`MAX_HOURS`)."""
    role = role.strip().lower()
    if role not in ROLES:
        raise InviteError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if not 0 < hours <= MAX_HOURS:
        raise InviteError(f"An invite must expire after more than 0 and at most {MAX_HOURS} hours; got {hours:g}.")
    now = now or utcnow()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = insert_invite(store, token_hash(token), role, created_by, now, now + timedelta(hours=hours))
    log.info("invite %d for a %s created by %s", row.id, role, created_by)
    return NewInvite(row, token)


def _why_not(row: InviteRow | None, now: datetime) -> str:
    if row is None:
        return f"This invite link is not valid (mistyped, or withdrawn). {ASK_AGAIN}"
    if row.used_at is not None:
        return f"This invite link was already used (on {row.used_at:%Y-%m-%d %H:%M} UTC). {ASK_AGAIN}"
    return f"This invite link expired on {row.expires_at:%Y-%m-%d %H:%M} UTC. {ASK_AGAIN}"


def check(store: Store, token: str, now: datetime | None = None) -> InviteRow:
    """The open invite behind ``token``, or InviteError saying why it cannot be used."""
    now = now or utcnow()
    row = find_invite(store, token_hash(token)) if token.strip() else None
    if row is None or row.status(now) != "open":
        raise InviteError(_why_not(row, now))
    return row


def register(
    store: Store, token: str, username: str, name: str, email: str, password: str, now: datetime | None = None
) -> User:
    """Register an account through the invite ``token`` and give it the invite's role.

    The invite is claimed first (one conditional update: of two people using one link at once,
    one gets it); if the registration then fails (weak password, taken username) it is given
    back, so the person can correct the form and try again with the same link. Raises
    InviteError, RegistrationError or DuplicateUserError.
    """
    now = now or utcnow()
    digest = token_hash(token)
    claimed = claim_invite(store, digest, now) if token.strip() else None
    if claimed is None:
        raise InviteError(_why_not(find_invite(store, digest) if token.strip() else None, now))
    try:
        user = register_account(store, username, name, email, password)
        if user.role != claimed.role:
            store.set_role(user.id, claimed.role)
            user = store.get_user_by_id(user.id) or user
    except BaseException:
        release_invite(store, claimed.id)
        raise
    set_invite_user(store, claimed.id, user.username)
    log.info("invite %d used by %s (%s)", claimed.id, user.username, user.role)
    return user


def listing(store: Store, now: datetime | None = None) -> list[dict[str, str]]:
    """Every invite as text columns for the admin: role, status, created, by, expires, used by."""
    now = now or utcnow()
    return [
        {
            "id": str(row.id),
            "role": row.role,
            "status": row.status(now),
            "created": f"{row.created_at:%Y-%m-%d %H:%M}",
            "created by": row.created_by or "",
            "expires": f"{row.expires_at:%Y-%m-%d %H:%M}",
            "used by": row.used_by or "",
        }
        for row in list_invites(store)
    ]


def withdraw(store: Store, invite_id: int) -> None:
    """Withdraw an unused invite (its link stops working at once)."""
    if not delete_invite(store, invite_id):
        raise InviteError(f"No unused invite {invite_id}; used invites stay in the list as a record.")
