"""The app store's repository: users, interactions (current value + history) and settings.

One :class:`Store` per process (e.g. in ``st.cache_resource``): it holds only an engine, so it is
safe to share between threads. Every method is one short transaction. Writes are idempotent where
a user can repeat them (a double click on "like" stores one value and one history row).
"""

from __future__ import annotations

import io
import json
import logging
import operator
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, Row, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from recsys.access.roles import ADMIN, DEFAULT_ROLE, check_role
from recsys.columns import DISLIKE, LIKE, SUPERLIKE, Columns
from recsys.errors import DuplicateUserError, StoreError, UnknownTitleError, UnknownUserError
from recsys.store import migrate
from recsys.store.engine import (
    dialect_insert,
    make_engine,
    safe_url,
    store_error,
    translate_errors,
    write_transaction,
)
from recsys.store.schema import (
    ONBOARDING_STEPS,
    SETTING_KEY_MAX,
    THROTTLE_KEY_MAX,
    VALUES,
    auth_throttle,
    evaluation_runs,
    experiment_assignments,
    exposures,
    hidden_titles,
    interaction_history,
    interactions,
    settings,
    users,
    utcnow,
    weight_changes,
)

logger = logging.getLogger(__name__)

#: The settings key of the live hybrid weights: read and written through :mod:`recsys.models.weights`
#: only (:meth:`Store.set_setting` refuses it, so every change is audited).
LIVE_WEIGHTS_KEY = "hybrid_weights"
TCONST_RE = re.compile(r"tt[0-9]{7,10}")  # used with fullmatch: no trailing newline
_UTC_US = pl.Datetime("us", "UTC")

#: Polars schema of :meth:`Store.interactions` and :meth:`Store.all_interactions`.
INTERACTIONS_SCHEMA: dict[str, pl.DataType] = {
    Columns.USER_ID: pl.Int64(),
    Columns.TCONST: pl.String(),
    Columns.VALUE: pl.Int64(),
    "created_at": _UTC_US,
    "updated_at": _UTC_US,
}
#: Polars schema of :meth:`Store.history` (``value`` null = the rating was removed).
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    Columns.USER_ID: pl.Int64(),
    Columns.TCONST: pl.String(),
    Columns.VALUE: pl.Int64(),
    "created_at": _UTC_US,
}


@dataclass(frozen=True)
class User:
    """A registered user, as stored (``username`` and ``email`` are lower-case)."""

    id: int
    username: str
    name: str
    email: str
    password_hash: str = field(repr=False)
    created_at: datetime
    is_active: bool
    favourite_genres: tuple[str, ...]
    onboarding_step: str
    role: str = DEFAULT_ROLE
    #: Raised by logout and by password / role changes; cookies carry it (older ones are refused).
    session_version: int = 0

    @property
    def onboarded(self) -> bool:
        """True once onboarding is finished."""
        return self.onboarding_step == ONBOARDING_STEPS[-1]


def normalise_username(username: str) -> str:
    """Usernames are case-insensitive (streamlit-authenticator lower-cases them at login)."""
    return username.strip().lower()


def normalise_email(email: str) -> str:
    """Emails are stored lower-cased, so uniqueness is case-insensitive."""
    return email.strip().lower()


def check_tconst(tconst: str) -> str:
    """Return ``tconst`` if it looks like an IMDb title id, else raise UnknownTitleError."""
    if not isinstance(tconst, str) or not TCONST_RE.fullmatch(tconst):
        raise UnknownTitleError(
            f"{tconst!r} is not an IMDb title id (expected 'tt' and 7 to 10 digits, e.g. tt0111161)."
        )
    return tconst


def check_value(value: int) -> int:
    """Return ``value`` as int if it is like (1), dislike (-1) or superlike (2), else ValueError."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = operator.index(value)
    except TypeError:
        number = None
    if number is None or number not in VALUES:
        raise ValueError(
            f"A rating must be {LIKE} (like), {DISLIKE} (dislike) or {SUPERLIKE} (superlike); got {value!r}."
        )
    return number


def _without_user(data: bytes | None, user: int, compression_level: int) -> bytes | None:
    """Parquet ``data`` (a run's per-user vectors or its lists) without the rows of ``user`` in
    its user column (``ml_user_id`` or ``user``); None when it holds no such row."""
    if not data:
        return None
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # polars raises several error types; an unreadable blob has no rows to drop
        logger.warning("a stored run's per-user data is unreadable (%s); left as it is", type(exc).__name__)
        return None
    column = next((c for c in (Columns.ML_USER_ID, "user") if c in frame.columns), None)
    if column is None or not (frame[column] == user).any():
        return None
    out = io.BytesIO()
    frame.filter(pl.col(column) != user).write_parquet(out, compression="zstd", compression_level=compression_level)
    return out.getvalue()


def _drop_user_from_runs(conn: Connection, user_id: int) -> int:
    """Take app user ``user_id`` (user ``-user_id`` in an evaluation) out of every stored run's
    per-user vectors and inspector lists (issue 21: a deleted account's rows stayed in the lab's
    history). The run's summary figures stay as they were measured. Returns the runs changed."""
    changed = 0
    for run_id in list(conn.scalars(select(evaluation_runs.c.id))):
        row = conn.execute(
            select(evaluation_runs.c.per_user, evaluation_runs.c.lists).where(evaluation_runs.c.id == run_id)
        ).one()
        values: dict[str, bytes] = {}
        if (per_user := _without_user(row.per_user, -user_id, 9)) is not None:
            values["per_user"] = per_user
        if (lists := _without_user(row.lists, -user_id, 19)) is not None:
            values["lists"] = lists
        if values:
            conn.execute(update(evaluation_runs).where(evaluation_runs.c.id == run_id).values(**values))
            changed += 1
    return changed


def _check_user_id(user_id: int) -> int:
    if isinstance(user_id, bool):
        raise TypeError(f"user_id must be an int, got {user_id!r}.")
    return operator.index(user_id)


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id,
        username=row.username,
        name=row.name,
        email=row.email,
        password_hash=row.password_hash,
        created_at=row.created_at,
        is_active=bool(row.is_active),
        favourite_genres=tuple(row.favourite_genres or ()),
        onboarding_step=row.onboarding_step,
        role=row.role,
        session_version=int(row.session_version),
    )


@dataclass(frozen=True)
class ThrottleState:
    """One throttle key's counts (:mod:`recsys.access.throttle`): ``count`` events since
    ``window_start``, the last at ``last_at``; refused until ``blocked_until`` (if set)."""

    key: str
    count: int
    window_start: datetime
    last_at: datetime
    blocked_until: datetime | None


def _frame(rows: Sequence[Sequence[Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


#: Polars schema of :meth:`Store.profile`.
PROFILE_SCHEMA: dict[str, pl.DataType] = {
    Columns.TCONST: pl.String(),
    Columns.VALUE: pl.Int64(),
    "updated_at": _UTC_US,
}

# The statements of a feed click (session check, rating write, profile read), built once and run
# with parameters: building a statement (an upsert's ``excluded`` alias copies the table's
# columns) and its cache key cost more than SQLite running it. Store.change_rating 0.56 -> 0.25 ms,
# get_user_by_id 0.12 -> 0.07 ms of CPU a call (/tmp store, 45 ratings).
_USER_BY_ID = select(users).where(users.c.id == bindparam("user_id"))
_CURRENT_VALUE = select(interactions.c.value).where(
    interactions.c.user_id == bindparam("user_id"), interactions.c.tconst == bindparam("tconst")
)
_ADD_HISTORY = insert(interaction_history)  # run with user_id, tconst, value, created_at
_DELETE_RATING = delete(interactions).where(
    interactions.c.user_id == bindparam("user_id"), interactions.c.tconst == bindparam("tconst")
)
_UNHIDE = delete(hidden_titles).where(
    hidden_titles.c.user_id == bindparam("user_id"), hidden_titles.c.tconst == bindparam("tconst")
)
_PROFILE = (
    select(interactions.c.tconst, interactions.c.value, interactions.c.updated_at)
    .where(interactions.c.user_id == bindparam("user_id"))
    .order_by(interactions.c.updated_at.desc(), interactions.c.tconst)
)
_HIDDEN = select(hidden_titles.c.tconst).where(hidden_titles.c.user_id == bindparam("user_id"))
_SETTING = select(settings.c.value, settings.c.updated_at, settings.c.updated_by).where(
    settings.c.key == bindparam("key")
)


def _upsert_rating(dialect_insert: Any) -> Any:
    """INSERT ... ON CONFLICT of a current value (the dialect's ``insert``), run with ``user_id,
    tconst, value, created_at, updated_at``: updates only a changed value (rowcount 0 otherwise)."""
    stmt = dialect_insert(interactions)
    return stmt.on_conflict_do_update(
        index_elements=[interactions.c.user_id, interactions.c.tconst],
        set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
        where=interactions.c.value != stmt.excluded.value,
    )


class Store:
    """Users, interactions and settings in a SQL database (SQLite file or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine whose schema is current; use :meth:`open` instead."""
        self._engine = engine
        self._insert: Any = dialect_insert(engine)
        self._upsert_rating = _upsert_rating(self._insert)
        self._insert_hidden = self._insert(hidden_titles).on_conflict_do_nothing(
            index_elements=[hidden_titles.c.user_id, hidden_titles.c.tconst]
        )  # run with user_id, tconst, created_at
        self._local = threading.local()  # the connection of this thread's reading() block

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect to ``url`` and upgrade its schema to the newest revision (creating it)."""
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            return cls(engine)
        except BaseException:
            engine.dispose()
            raise

    @classmethod
    def in_memory(cls) -> Store:
        """A private, empty store in memory (a demo session's): a copy of a schema template
        migrated once per process, so many can open at once without running Alembic."""
        return cls(migrate.memory_engine())

    def close(self) -> None:
        """Close every pooled connection; the Store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def url(self) -> str:
        """The database URL with its password masked."""
        return safe_url(self._engine.url)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for migrations, admin tools and tests)."""
        return self._engine

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Make this thread's reads inside the block share one connection and one read
        transaction (one snapshot), instead of one connection and transaction each.

        For a run of reads with no write of this thread in between (a write would go through its
        own connection, and reads after it in the block would not see it): a feed render reads
        the profile, the hidden titles, the live weights and the section's experiment, four
        transactions (~0.25 ms each on the busy server, most of it BEGIN / ROLLBACK and the pool)
        made one. Nested blocks share the outer one. Example::

            with store.reading():
                profile, hidden = store.interactions(uid), store.hidden_tconsts(uid)
        """
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with translate_errors(self._engine.url), self._engine.connect() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        shared: Connection | None = getattr(self._local, "conn", None)
        if shared is not None:  # inside reading(): its connection and transaction
            with translate_errors(self._engine.url):
                yield shared
            return
        with translate_errors(self._engine.url), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self, *, durable: bool = True) -> Iterator[Connection]:
        """A write transaction; ``durable=False`` for a tester's click (see ``write_transaction``)."""
        with translate_errors(self._engine.url), write_transaction(self._engine, durable=durable) as conn:
            yield conn

    def _user_exists(self, user_id: int) -> bool:
        with self._read() as conn:
            return conn.scalar(select(users.c.id).where(users.c.id == user_id)) is not None

    # -- users ------------------------------------------------------------------------------

    def create_user(self, username: str, name: str, email: str, password_hash: str) -> User:
        """Add an active user at the first onboarding step.

        The first account of a fresh store becomes ``admin``; every later one ``tester`` (decided
        inside the write transaction, so two simultaneous first sign-ups cannot both be admin on
        SQLite). ``username`` and ``email`` are stored stripped and lower-cased. Validation of the
        details is :func:`recsys.store.accounts.register`'s job. Raises DuplicateUserError
        (``field`` = "username") when the username is taken; an email may be on several accounts
        (issue 21: refusing a taken email told anyone which emails have an account).
        """
        username, email, name = normalise_username(username), normalise_email(email), name.strip()
        if not username or not email or not name or not password_hash:
            raise ValueError("Username, name, email and password hash must all be non-empty.")
        now = utcnow()
        values: dict[str, Any] = {
            "username": username,
            "email": email,
            "name": name,
            "password_hash": password_hash,
            "created_at": now,
            "is_active": True,
            "favourite_genres": [],
            "onboarding_step": ONBOARDING_STEPS[0],
        }
        try:
            with write_transaction(self._engine) as conn:
                first = conn.scalar(select(users.c.id).limit(1)) is None
                values["role"] = ADMIN if first else DEFAULT_ROLE
                result = conn.execute(insert(users).values(**values))
                key = result.inserted_primary_key
                assert key is not None  # an INSERT of one row
                user_id = int(key[0])
        except IntegrityError as exc:
            raise self._duplicate(username, email, exc) from exc
        except DBAPIError as exc:
            raise store_error(exc, self._engine.url) from exc
        logger.info("Registered user %s (id %d)", username, user_id)
        return User(
            id=user_id,
            username=username,
            name=name,
            email=email,
            password_hash=password_hash,
            created_at=now,
            is_active=True,
            favourite_genres=(),
            onboarding_step=ONBOARDING_STEPS[0],
            role=values["role"],
        )

    def _duplicate(self, username: str, email: str, exc: IntegrityError) -> StoreError:
        with self._read() as conn:
            if conn.scalar(select(users.c.id).where(users.c.username == username)) is not None:
                return DuplicateUserError("username", username)
        return store_error(exc, self._engine.url)

    def get_user(self, username: str) -> User | None:
        """The user with this username (case-insensitive), or None."""
        with self._read() as conn:
            row = conn.execute(select(users).where(users.c.username == normalise_username(username))).first()
        return _user(row) if row is not None else None

    def get_user_by_id(self, user_id: int) -> User | None:
        """The user with this id, or None."""
        with self._read() as conn:
            row = conn.execute(_USER_BY_ID, {"user_id": _check_user_id(user_id)}).first()
        return _user(row) if row is not None else None

    def list_users(self) -> list[User]:
        """Every account, oldest first."""
        with self._read() as conn:
            rows = conn.execute(select(users).order_by(users.c.id)).all()
        return [_user(r) for r in rows]

    def has_users(self) -> bool:
        """True once any account exists (a fresh install has none: its first one is the admin)."""
        with self._read() as conn:
            return conn.scalar(select(users.c.id).limit(1)) is not None

    def credentials(self) -> dict[str, dict[str, dict[str, str]]]:
        """Active users in streamlit-authenticator's shape (a fresh dict on every call).

        ``{"usernames": {username: {"name": ..., "email": ..., "password": bcrypt hash}}}``
        """
        with self._read() as conn:
            rows = conn.execute(
                select(users.c.username, users.c.name, users.c.email, users.c.password_hash)
                .where(users.c.is_active.is_(True))
                .order_by(users.c.username)
            ).all()
        return {
            "usernames": {r.username: {"name": r.name, "email": r.email, "password": r.password_hash} for r in rows}
        }

    def set_password_hash(self, username: str, password_hash: str) -> None:
        """Replace a user's password hash and end their earlier sessions (the session version is
        raised); UnknownUserError if there is no such user."""
        if not password_hash:
            raise ValueError("The password hash must be non-empty.")
        username = normalise_username(username)
        with self._write() as conn:
            result = conn.execute(
                update(users)
                .where(users.c.username == username)
                .values(password_hash=password_hash, session_version=users.c.session_version + 1)
            )
        if result.rowcount == 0:
            raise UnknownUserError(f"No user named {username!r}; register first.")

    def set_favourite_genres(self, user_id: int, genres: Sequence[str]) -> None:
        """Replace a user's favourite genres (order kept, duplicates and blanks dropped)."""
        if isinstance(genres, str):
            raise TypeError("genres must be a sequence of genre names, not one string.")
        cleaned: list[str] = []
        for genre in genres:
            if not isinstance(genre, str):
                raise TypeError(f"Genre names must be strings, got {genre!r}.")
            genre = genre.strip()
            if genre and genre not in cleaned:
                cleaned.append(genre)
        self._update_user(user_id, favourite_genres=cleaned)

    def set_onboarding_step(self, user_id: int, step: str) -> None:
        """Record where the user is in onboarding: one of :data:`ONBOARDING_STEPS`."""
        if step not in ONBOARDING_STEPS:
            raise ValueError(f"Onboarding step must be one of {', '.join(ONBOARDING_STEPS)}; got {step!r}.")
        self._update_user(user_id, onboarding_step=step)

    def set_role(self, user_id: int, role: str) -> None:
        """Give a user one of :data:`recsys.access.roles.ROLES`; their earlier sessions end (the session
        version is raised, so a cookie issued before the change no longer signs in)."""
        check_role(role)
        self._update_user(user_id, role=role, session_version=users.c.session_version + 1)

    def set_role_keeping_an_admin(self, user_id: int, role: str) -> bool:
        """:meth:`set_role`, unless it would leave no active admin: then nothing changes and the
        answer is False. The admin count and the change are one write transaction (issue 21: two
        admins demoting each other at once left no admin in 94 of 100 trials when the check ran
        before it): on PostgreSQL the active admins' rows are locked (``FOR UPDATE``), so the
        second demotion waits and then counts one admin; SQLite's ``BEGIN IMMEDIATE`` serialises
        the two writers."""
        check_role(role)
        user_id = _check_user_id(user_id)
        with self._write() as conn:
            if role != ADMIN and self._last_admin(conn, user_id):
                return False
            result = conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(role=role, session_version=users.c.session_version + 1)
            )
        if result.rowcount == 0:
            raise UnknownUserError(f"No user with id {user_id}; log in again.")
        return True

    def _last_admin(self, conn: Connection, user_id: int) -> bool:
        """Whether ``user_id`` is the only active admin (their rows locked on PostgreSQL)."""
        stmt = select(users.c.id).where(users.c.role == ADMIN, users.c.is_active.is_(True))
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        admins = set(conn.scalars(stmt))
        return admins == {user_id}

    def bump_session_version(self, user_id: int) -> int:
        """End every session of this user (logout, password change): cookies carrying an older
        version are refused. Returns the new version."""
        user_id = _check_user_id(user_id)
        with self._write() as conn:
            version = conn.scalar(
                update(users)
                .where(users.c.id == user_id)
                .values(session_version=users.c.session_version + 1)
                .returning(users.c.session_version)
            )
        if version is None:
            raise UnknownUserError(f"No user with id {user_id}; log in again.")
        return int(version)

    def set_active(self, user_id: int, active: bool) -> None:
        """Deactivate (or reactivate) a user: inactive users are left out of :meth:`credentials`,
        so they cannot log in; their data stays."""
        self._update_user(user_id, is_active=bool(active))

    def _update_user(self, user_id: int, **values: Any) -> None:
        user_id = _check_user_id(user_id)
        with self._write() as conn:
            result = conn.execute(update(users).where(users.c.id == user_id).values(**values))
        if result.rowcount == 0:
            raise UnknownUserError(f"No user with id {user_id}; log in again.")

    def delete_user_keeping_an_admin(self, user_id: int) -> bool:
        """:meth:`delete_user`, unless ``user_id`` is the only active admin (then False, nothing
        deleted), decided in the deletion's own transaction (see :meth:`set_role_keeping_an_admin`)."""
        return self.delete_user(user_id, keep_an_admin=True)

    def delete_user(self, user_id: int, *, keep_an_admin: bool = False) -> bool:
        """Delete a user with their interactions, history and hidden titles (foreign keys
        cascade), and take their name off the settings they changed (``updated_by`` cleared).
        Deleting twice is harmless. The saved models are scrubbed by
        :func:`recsys.app.users.remove_user`."""
        user_id = _check_user_id(user_id)
        with self._write() as conn:
            if keep_an_admin and self._last_admin(conn, user_id):
                return False
            username = conn.scalar(select(users.c.username).where(users.c.id == user_id))
            # explicit deletes, not only ON DELETE CASCADE: SQLite enforces foreign keys only
            # with its pragma on, and a store opened without it must not keep the rows
            for table in (interactions, interaction_history, hidden_titles, exposures, experiment_assignments):
                conn.execute(delete(table).where(table.c.user_id == user_id))
            deleted = conn.execute(delete(users).where(users.c.id == user_id)).rowcount
            if username is not None:
                conn.execute(update(settings).where(settings.c.updated_by == username).values(updated_by=None))
                # the lab's history keeps the change or run, not who made it (runs of a demo are
                # stored as "name (demo)", never as an account's username)
                conn.execute(
                    update(weight_changes).where(weight_changes.c.changed_by == username).values(changed_by=None)
                )
                conn.execute(
                    update(evaluation_runs).where(evaluation_runs.c.created_by == username).values(created_by=None)
                )
            if deleted:
                _drop_user_from_runs(conn, user_id)
        if deleted:
            logger.info("Deleted user id %d", user_id)
        return True

    # -- interactions -----------------------------------------------------------------------

    def rate(self, user_id: int, tconst: str, value: int) -> bool:
        """Set the user's current value for a title; True if it changed.

        One atomic upsert: the current row is inserted or updated, and a history row is added
        only when the value actually changed, so repeating a rating (a double click, even from
        two threads at once) stores one current row and one history row.
        Raises UnknownTitleError (bad tconst), ValueError (bad value), UnknownUserError.
        """
        return self._rate(user_id, tconst, value, read_before=False)[0]

    def change_rating(self, user_id: int, tconst: str, value: int | None) -> tuple[bool, int | None]:
        """Set (:meth:`rate`) or remove (:meth:`unrate`, ``value`` None) the user's rating of a
        title: ``(changed, the value it replaced or None)``, the old value read in the same write
        transaction, under the same lock. A click's Undo puts back exactly what the click
        replaced, and the click costs one transaction instead of a read and then a write.

        >>> store = Store.in_memory()
        >>> uid = store.create_user("ada", "Ada", "ada@example.com", "x").id
        >>> store.change_rating(uid, "tt0111161", 1), store.change_rating(uid, "tt0111161", 2)
        ((True, None), (True, 1))
        >>> store.change_rating(uid, "tt0111161", None), store.change_rating(uid, "tt0111161", None)
        ((True, 2), (False, None))
        >>> store.close()
        """
        if value is None:
            return self._unrate(user_id, tconst, read_before=True)
        return self._rate(user_id, tconst, value, read_before=True)

    def _rate(self, user_id: int, tconst: str, value: int, *, read_before: bool) -> tuple[bool, int | None]:
        user_id, tconst, value = _check_user_id(user_id), check_tconst(tconst), check_value(value)
        try:
            with write_transaction(self._engine, durable=False) as conn:
                _lock_title(conn, user_id, tconst)
                before = _current_value(conn, user_id, tconst) if read_before else None
                now = utcnow()  # taken under the write lock: history order = commit order
                row = {"user_id": user_id, "tconst": tconst, "value": value, "created_at": now}
                changed = conn.execute(self._upsert_rating, {**row, "updated_at": now}).rowcount > 0
                if changed:
                    conn.execute(_ADD_HISTORY, row)
        except IntegrityError as exc:
            if not self._user_exists(user_id):
                raise UnknownUserError(f"No user with id {user_id}; log in again.") from exc
            raise store_error(exc, self._engine.url) from exc
        except DBAPIError as exc:
            raise store_error(exc, self._engine.url) from exc
        return changed, before

    def seed_interactions(self, user_id: int, rows: Sequence[tuple[str, int, datetime]]) -> int:
        """Bulk-load ``(tconst, value, at)`` ratings with their own times (a demo persona's
        history), in one transaction; later rows for a title replace earlier ones, and each
        row is also a history row. For a user with no ratings yet; returns the rows loaded."""
        user_id = _check_user_id(user_id)
        checked = sorted(((check_tconst(t), check_value(v), at) for t, v, at in rows), key=lambda r: r[2])
        current = {t: (v, at) for t, v, at in checked}
        if not checked:
            return 0
        with self._write() as conn:
            if (
                conn.execute(select(interactions.c.tconst).where(interactions.c.user_id == user_id).limit(1)).first()
                is not None
            ):
                raise StoreError(f"User {user_id} already has ratings; seed only a new profile.")
            conn.execute(
                insert(interactions),
                [
                    {"user_id": user_id, "tconst": t, "value": v, "created_at": at, "updated_at": at}
                    for t, (v, at) in current.items()
                ],
            )
            conn.execute(
                insert(interaction_history),
                [{"user_id": user_id, "tconst": t, "value": v, "created_at": at} for t, v, at in checked],
            )
        return len(checked)

    def unrate(self, user_id: int, tconst: str) -> bool:
        """Remove the user's current value for a title; True if there was one.

        The removal is recorded in the history as a row with a NULL value.
        """
        return self._unrate(user_id, tconst, read_before=False)[0]

    def _unrate(self, user_id: int, tconst: str, *, read_before: bool) -> tuple[bool, int | None]:
        user_id, tconst = _check_user_id(user_id), check_tconst(tconst)
        with self._write(durable=False) as conn:
            _lock_title(conn, user_id, tconst)
            before = _current_value(conn, user_id, tconst) if read_before else None
            now = utcnow()
            removed = conn.execute(_DELETE_RATING, {"user_id": user_id, "tconst": tconst}).rowcount > 0
            if removed:
                conn.execute(_ADD_HISTORY, {"user_id": user_id, "tconst": tconst, "value": None, "created_at": now})
        return removed, before

    def interactions(self, user_id: int) -> pl.DataFrame:
        """The user's current values ``[user_id, tconst, value, created_at, updated_at]``,
        most recently changed first."""
        with self._read() as conn:
            rows = conn.execute(
                select(*_interaction_columns())
                .where(interactions.c.user_id == _check_user_id(user_id))
                .order_by(interactions.c.updated_at.desc(), interactions.c.tconst)
            ).all()
        return _frame(rows, INTERACTIONS_SCHEMA)

    def profile(self, user_id: int) -> pl.DataFrame:
        """The user's current values ``[tconst, value, updated_at]``, most recently changed
        first: what the feed ranks from (:meth:`interactions` less two columns, read and framed
        in half its time: 0.42 -> 0.21 ms of CPU for 45 ratings)."""
        with self._read() as conn:
            rows = conn.execute(_PROFILE, {"user_id": _check_user_id(user_id)}).all()
        return _frame(rows, PROFILE_SCHEMA)

    def rating(self, user_id: int, tconst: str) -> int | None:
        """The user's current value for ``tconst`` (None when not rated): one indexed lookup,
        where :meth:`interactions` reads the whole profile."""
        with self._read() as conn:
            return _current_value(conn, _check_user_id(user_id), tconst)

    def rated_tconsts(self, user_id: int) -> set[str]:
        """The titles the user currently has a value for."""
        with self._read() as conn:
            return set(
                conn.scalars(select(interactions.c.tconst).where(interactions.c.user_id == _check_user_id(user_id)))
            )

    def hide(self, user_id: int, tconst: str) -> bool:
        """ "Not interested": keep ``tconst`` out of the user's feed; True if newly hidden.

        Not a rating: the models get no signal from it. Idempotent (a double click hides once).
        """
        user_id, tconst = _check_user_id(user_id), check_tconst(tconst)
        try:
            with write_transaction(self._engine, durable=False) as conn:
                row = {"user_id": user_id, "tconst": tconst, "created_at": utcnow()}
                return conn.execute(self._insert_hidden, row).rowcount > 0
        except IntegrityError as exc:
            if not self._user_exists(user_id):
                raise UnknownUserError(f"No user with id {user_id}; log in again.") from exc
            raise store_error(exc, self._engine.url) from exc
        except DBAPIError as exc:
            raise store_error(exc, self._engine.url) from exc

    def unhide(self, user_id: int, tconst: str) -> bool:
        """Show a hidden title again; True if it was hidden."""
        user_id, tconst = _check_user_id(user_id), check_tconst(tconst)
        with self._write(durable=False) as conn:
            return conn.execute(_UNHIDE, {"user_id": user_id, "tconst": tconst}).rowcount > 0

    def hidden_tconsts(self, user_id: int) -> set[str]:
        """The titles the user marked "Not interested"."""
        with self._read() as conn:
            return set(conn.scalars(_HIDDEN, {"user_id": _check_user_id(user_id)}))

    def history(self, user_id: int, limit: int | None = None) -> pl.DataFrame:
        """Every change ``[id, user_id, tconst, value, created_at]``, newest first; value null =
        removed."""
        query = (
            select(
                interaction_history.c.id,
                interaction_history.c.user_id,
                interaction_history.c.tconst,
                interaction_history.c.value,
                interaction_history.c.created_at,
            )
            .where(interaction_history.c.user_id == _check_user_id(user_id))
            .order_by(interaction_history.c.created_at.desc(), interaction_history.c.id.desc())
        )
        if limit is not None:
            if limit < 0:
                raise ValueError(f"limit must be >= 0, got {limit}.")
            query = query.limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return _frame(rows, HISTORY_SCHEMA)

    def all_interactions(self) -> pl.DataFrame:
        """Every user's current values (for training), ordered by user_id then tconst."""
        with self._read() as conn:
            rows = conn.execute(
                select(*_interaction_columns()).order_by(interactions.c.user_id, interactions.c.tconst)
            ).all()
        return _frame(rows, INTERACTIONS_SCHEMA)

    # -- settings ---------------------------------------------------------------------------

    def get_setting(self, key: str, default: Any = None) -> Any:
        """The stored JSON value of ``key``, or ``default`` when it was never set."""
        info = self.setting_info(key)
        return default if info is None else info[0]

    def set_setting(self, key: str, value: Any, updated_by: str | None = None) -> None:
        """Store a JSON-serialisable value under ``key`` (replacing any), with who and when.
        The live hybrid weights are refused: they change through :func:`recsys.models.weights.apply`
        only, which checks the role and logs the change."""
        key = _check_key(key)
        if key == LIVE_WEIGHTS_KEY:
            raise PermissionError(
                "The live hybrid weights are changed through recsys.models.weights.apply(store, weights, by=<analyst or "
                "admin account>, reason=...) (or `python -m recsys weights set`), which checks the role and keeps "
                "the change in the history."
            )
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"Setting {key!r} must be JSON-serialisable: {exc}.") from exc
        stmt = self._insert(settings).values(key=key, value=value, updated_at=utcnow(), updated_by=updated_by)
        stmt = stmt.on_conflict_do_update(
            index_elements=[settings.c.key],
            set_={
                "value": stmt.excluded.value,
                "updated_at": stmt.excluded.updated_at,
                "updated_by": stmt.excluded.updated_by,
            },
        )
        with self._write() as conn:
            conn.execute(stmt)

    def setting_info(self, key: str) -> tuple[Any, datetime, str | None] | None:
        """``(value, updated_at, updated_by)`` of ``key``, or None when it was never set."""
        with self._read() as conn:
            row = conn.execute(_SETTING, {"key": _check_key(key)}).first()
        return None if row is None else (row.value, row.updated_at, row.updated_by)

    # -- sign-in throttling -----------------------------------------------------------------

    def throttle_states(self, keys: Sequence[str]) -> dict[str, ThrottleState]:
        """The stored counts of ``keys`` (keys never counted are absent)."""
        keys = [_check_throttle_key(k) for k in keys]
        with self._read() as conn:
            rows = conn.execute(select(auth_throttle).where(auth_throttle.c.key.in_(keys))).all()
        return {r.key: _throttle(r) for r in rows}

    def throttle_count(
        self, key: str, now: datetime, window_s: float, block_s: Callable[[int], float]
    ) -> ThrottleState:
        """Count one event for ``key`` at ``now`` in one transaction and return the new state.

        The count starts again after ``window_s`` seconds without an event; ``block_s(count)`` is how long the key is refused after this event (0: not at all).
        """
        key = _check_throttle_key(key)
        with self._write() as conn:
            return self._count_event(conn, self._throttle_row(conn, key, now), now, window_s, block_s)

    @staticmethod
    def _count_event(
        conn: Connection, row: ThrottleState, now: datetime, window_s: float, block_s: Callable[[int], float]
    ) -> ThrottleState:
        """Count one event on the locked ``row`` at ``now`` (inside the caller's transaction): the
        count starts again after ``window_s`` idle seconds; ``block_s(count) > 0`` blocks the key
        until ``now + block_s(count)``."""
        count, start = row.count + 1, row.window_start
        if row.count and (now - row.last_at).total_seconds() >= window_s:
            count, start = 1, now  # idle for a whole window: start again
        wait = block_s(count)
        until = now + timedelta(seconds=wait) if wait > 0 else row.blocked_until
        conn.execute(
            update(auth_throttle)
            .where(auth_throttle.c.key == row.key)
            .values(count=count, window_start=start, last_at=now, blocked_until=until)
        )
        return ThrottleState(row.key, count, start, now, until)

    def throttle_reserve(
        self, key: str, now: datetime, window_s: float, block_s: Callable[[int], float]
    ) -> tuple[ThrottleState, bool]:
        """Reserve one attempt for ``key`` at ``now`` before it is checked: ``(state, True)``
        with the attempt counted, or ``(state, False)`` unchanged when ``key`` is blocked.

        One transaction (row lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) reads the key,
        refuses it if ``blocked_until`` is after ``now`` (not counted: hammering a blocked key does
        not lengthen its block), else counts the attempt as a failure in advance (the count
        starts again after ``window_s`` idle seconds, as in :meth:`throttle_count`). The
        attempt's ordinal is the new ``count``; when ``block_s(count) > 0`` this attempt would
        block the key if it failed, so the key is blocked now until ``now + block_s(count)``
        (a provisional block): attempts arriving while it is checked are refused, which caps the
        checks before a block at what one-at-a-time attempts get. Example (3 free failures):
        40 attempts at once reserve ordinals 1-4, the 4th sets a 15 s block, 36 are refused.
        The caller then calls :meth:`throttle_failed` (the check failed) or
        :meth:`throttle_release` / :meth:`throttle_clear` (it succeeded).
        """
        key = _check_throttle_key(key)
        with self._write() as conn:
            row = self._throttle_row(conn, key, now)
            if row.blocked_until is not None and row.blocked_until > now:
                return row, False
            return self._count_event(conn, row, now, window_s, block_s), True

    def throttle_failed(self, reserved: ThrottleState, now: datetime, block_s: Callable[[int], float]) -> ThrottleState:
        """Record that the attempt reserved as ``reserved`` (:meth:`throttle_reserve`) failed at ``now``.

        The failure was counted at reservation; here the block it earns starts from the failure,
        ``now + block_s(reserved.count)`` (0: the key keeps its block, if any), as
        :meth:`throttle_count` would set it. If the key was cleared meanwhile (a successful
        sign-in of the account), the failure counts afresh, as one event.
        """
        key = _check_throttle_key(reserved.key)
        with self._write() as conn:
            row = self._throttle_row(conn, key, now)
            count, start, ordinal = row.count, row.window_start, reserved.count
            if row.count == 0:  # cleared meanwhile: this failure is the first again
                count, start, ordinal = 1, now, 1
            wait = block_s(ordinal)
            until = now + timedelta(seconds=wait) if wait > 0 else row.blocked_until
            last = max(now, row.last_at)
            conn.execute(
                update(auth_throttle)
                .where(auth_throttle.c.key == key)
                .values(count=count, window_start=start, last_at=last, blocked_until=until)
            )
        return ThrottleState(key, count, start, last, until)

    def throttle_release(self, reserved: ThrottleState) -> None:
        """Give back the attempt reserved as ``reserved`` (:meth:`throttle_reserve`): it succeeded,
        or was refused by another key, so it is not a failure.

        The count goes down by one (not below 0) and the provisional block the reservation set,
        if any and still in place (same ``blocked_until``), is lifted. A block set since by a
        failure is kept.
        """
        key = _check_throttle_key(reserved.key)
        with self._write() as conn:
            row = self._throttle_row(conn, key, reserved.last_at)
            lift = reserved.blocked_until is not None and row.blocked_until == reserved.blocked_until
            conn.execute(
                update(auth_throttle)
                .where(auth_throttle.c.key == key)
                .values(count=max(0, row.count - 1), blocked_until=None if lift else row.blocked_until)
            )

    def _throttle_row(self, conn: Connection, key: str, now: datetime) -> ThrottleState:
        """``key``'s row, created empty if missing, locked until commit on PostgreSQL."""
        stmt = self._insert(auth_throttle).values(key=key, count=0, window_start=now, last_at=now)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=[auth_throttle.c.key]))
        query = select(auth_throttle).where(auth_throttle.c.key == key)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        return _throttle(conn.execute(query).one())

    def throttle_clear(self, key: str) -> None:
        """Forget ``key``'s counts (e.g. an account's failures after a successful sign-in)."""
        with self._write() as conn:
            conn.execute(delete(auth_throttle).where(auth_throttle.c.key == _check_throttle_key(key)))


def _throttle(row: Row[Any]) -> ThrottleState:
    values = row._mapping  # ``row.count`` would be the tuple method
    return ThrottleState(
        values["key"], int(values["count"]), values["window_start"], values["last_at"], values["blocked_until"]
    )


def _check_throttle_key(key: str) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError("A throttle key must be a non-empty string.")
    return key[:THROTTLE_KEY_MAX]


def _current_value(conn: Connection, user_id: int, tconst: str) -> int | None:
    value = conn.scalar(_CURRENT_VALUE, {"user_id": user_id, "tconst": tconst})
    return None if value is None else int(value)


def _lock_title(conn: Connection, user_id: int, tconst: str) -> None:
    """Serialise writers of one (user, title) until commit, like SQLite's BEGIN IMMEDIATE.

    On PostgreSQL concurrent writers only meet at the row lock of the upsert, after each took
    its timestamp: history rows could then be stamped out of commit order. A transaction-scoped
    advisory lock taken first makes "lock, then timestamp, then write" hold there too.
    SQLite already holds the database write lock here; nothing to do.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
            {"key": f"cineblend-rate:{user_id}:{tconst}"},
        )


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not key or len(key) > SETTING_KEY_MAX:
        raise ValueError(f"A setting key must be a string of 1 to {SETTING_KEY_MAX} characters.")
    return key


def _interaction_columns() -> tuple[Any, ...]:
    return (
        interactions.c.user_id,
        interactions.c.tconst,
        interactions.c.value,
        interactions.c.created_at,
        interactions.c.updated_at,
    )
