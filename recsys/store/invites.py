"""The ``invites`` table: one-time invite links (:mod:`recsys.access.invites` holds the rules).

Functions over a :class:`~recsys.store.repository.Store`; each call is one transaction. A link
is *claimed* by one conditional update (unused and not expired, or nothing changes), so two
people opening the same link at once cannot both register with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, desc, select, update

from recsys.store.repository import Store
from recsys.store.schema import invites


@dataclass(frozen=True)
class InviteRow:
    """One invite as stored (never the token, only its hash)."""

    id: int
    role: str
    created_by: str | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: str | None

    def status(self, now: datetime) -> str:
        """``"open"``, ``"used"`` or ``"expired"`` at ``now``."""
        if self.used_at is not None:
            return "used"
        return "open" if self.expires_at > now else "expired"


_COLUMNS = (
    invites.c.id,
    invites.c.role,
    invites.c.created_by,
    invites.c.created_at,
    invites.c.expires_at,
    invites.c.used_at,
    invites.c.used_by,
)


def insert_invite(
    store: Store, token_hash: str, role: str, created_by: str | None, created_at: datetime, expires_at: datetime
) -> InviteRow:
    with store._write() as conn:
        key = conn.execute(
            invites.insert().values(
                token_hash=token_hash,
                role=role,
                created_by=created_by,
                created_at=created_at,
                expires_at=expires_at,
            )
        ).inserted_primary_key
    assert key is not None
    return InviteRow(int(key[0]), role, created_by, created_at, expires_at, None, None)


def find_invite(store: Store, token_hash: str) -> InviteRow | None:
    with store._read() as conn:
        row = conn.execute(select(*_COLUMNS).where(invites.c.token_hash == token_hash)).first()
    return None if row is None else InviteRow(*row)


def claim_invite(store: Store, token_hash: str, now: datetime) -> InviteRow | None:
    """Mark the invite used at ``now`` if it is open; the claimed invite, or None (unknown, used
    or expired: :func:`find_invite` says which)."""
    with store._write() as conn:
        claimed = conn.execute(
            update(invites)
            .where(invites.c.token_hash == token_hash, invites.c.used_at.is_(None), invites.c.expires_at > now)
            .values(used_at=now)
        ).rowcount
        if claimed != 1:
            return None
        row = conn.execute(select(*_COLUMNS).where(invites.c.token_hash == token_hash)).one()
    return InviteRow(*row)


def release_invite(store: Store, invite_id: int) -> None:
    """Give a claimed invite back (the registration it was claimed for failed)."""
    with store._write() as conn:
        conn.execute(update(invites).where(invites.c.id == invite_id).values(used_at=None, used_by=None))


def set_invite_user(store: Store, invite_id: int, username: str) -> None:
    with store._write() as conn:
        conn.execute(update(invites).where(invites.c.id == invite_id).values(used_by=username))


def list_invites(store: Store, limit: int = 200) -> list[InviteRow]:
    """Invites, newest first."""
    with store._read() as conn:
        rows = conn.execute(select(*_COLUMNS).order_by(desc(invites.c.id)).limit(limit)).all()
    return [InviteRow(*row) for row in rows]


def delete_invite(store: Store, invite_id: int) -> bool:
    """Withdraw an unused invite; False when there is no such unused invite."""
    with store._write() as conn:
        return bool(
            conn.execute(delete(invites).where(invites.c.id == invite_id, invites.c.used_at.is_(None))).rowcount
        )
