"""Exclusive job locks, so two downloads, builds or trainings never run at once.

Each job takes its own lock (``fetch``, ``build``, ``train``, ...), whoever calls it (the CLI,
the data page's background jobs): a second one while one is running fails fast with a clear
message instead of corrupting the first one's output.

Two backends behind one call, :func:`exclusive`:

- **SQLite store** (one machine): an ``fcntl`` lock on a file in the data folder.
- **PostgreSQL store** (possibly several app servers): a session-level advisory lock
  (``pg_try_advisory_lock``) on a dedicated connection, keyed by the job's name (the lock file's
  name), so it excludes every process on every machine that uses the same database. Closing the
  connection releases it; so does the server when the process dies (its connection drops).

Either way the lock is released if the process dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from recsys.errors import CineBlendError, StoreError

#: Prefix of every advisory lock name, so CineBlend's keys do not meet another app's.
KEY_PREFIX = "cineblend:"


class BusyError(CineBlendError):
    """Another process holds the lock."""


class Held:
    """A lock being held; :meth:`alive` tells whether it still is (an advisory lock is gone with
    its connection: a PostgreSQL restart, a network drop, ``pg_terminate_backend``)."""

    def __init__(self, conn: Connection | None = None) -> None:
        self._conn = conn
        self._guard = threading.Lock()

    def alive(self) -> bool:
        if self._conn is None:
            return True  # a file lock lives as long as this process
        with self._guard:
            try:
                return self._conn.scalar(text("SELECT 1")) == 1
            except SQLAlchemyError:  # the connection is gone (DBAPIError) or unusable since
                return False


def lock_name(path: Path) -> str:
    """The job name of a lock file: ``.train.lock`` -> ``train``."""
    name = Path(path).name.lstrip(".")
    return name.removesuffix(".lock")


def advisory_key(name: str) -> int:
    """A signed 64-bit advisory-lock key for ``name`` (first 8 bytes of its BLAKE2b hash)."""
    digest = hashlib.blake2b((KEY_PREFIX + name).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def uses_advisory_locks(store_url: str | None) -> bool:
    """True when ``store_url`` is a PostgreSQL URL (locks then live in the database)."""
    return bool(store_url) and str(store_url).split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


@contextmanager
def exclusive(
    path: Path,
    what: str,
    error: type[CineBlendError] = BusyError,
    *,
    store_url: str | None = None,
    wait: bool = False,
) -> Iterator[Held]:
    """Hold the exclusive lock of the job ``path`` names for the block (non-blocking unless
    ``wait``: then it waits for the holder to finish, e.g. a deletion waiting for a training).

    With a PostgreSQL ``store_url`` the lock is an advisory lock in that database keyed by
    :func:`lock_name` of ``path``; otherwise a file lock on ``path`` (created if needed).
    Raises ``error`` (BusyError unless the job has its own error type) naming ``what`` when
    another process (or thread) holds it. Yields a :class:`Held` (whether it is still held).
    """
    if uses_advisory_locks(store_url):
        assert store_url is not None
        with _advisory(store_url, lock_name(path), what, error, wait=wait) as held:
            yield held
        return
    with _file_lock(path, what, error, wait=wait):
        yield Held()


def is_held(path: Path, *, store_url: str | None = None) -> bool:
    """Whether someone holds the lock right now (tries it and lets go at once)."""
    try:
        with exclusive(path, "probe", store_url=store_url):
            return False
    except BusyError:
        return True


def busy_message(what: str) -> str:
    return f"Another {what} is already running; wait for it to finish."


@contextmanager
def _file_lock(path: Path, what: str, error: type[CineBlendError], *, wait: bool = False) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise error(busy_message(what)) from exc
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextmanager
def _advisory(
    store_url: str, name: str, what: str, error: type[CineBlendError], *, wait: bool = False
) -> Iterator[Held]:
    from recsys.store.engine import parse_url, store_error  # the store imports this module's users

    key = advisory_key(name)
    # A connection of its own (never pooled): the lock lives exactly as long as it does.
    engine = create_engine(parse_url(store_url), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    conn: Connection | None = None
    try:
        try:
            conn = engine.connect()
            if wait:
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                got = True
            else:
                got = conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
        except DBAPIError as exc:
            raise StoreError(f"Cannot take the {what} lock: {store_error(exc, store_url)}") from exc
        if not got:
            raise error(busy_message(what))
        held = Held(conn)
        try:
            yield held
        finally:
            # a lost connection has had its lock released by the server already
            with suppress(SQLAlchemyError):
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
    finally:
        if conn is not None:
            with suppress(SQLAlchemyError):
                conn.close()
        engine.dispose()
