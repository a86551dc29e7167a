"""Engines for the app store: SQLite tuned for many threads, or any SQLAlchemy URL.

SQLite connections get, on every connect: ``busy_timeout`` (writers wait instead of failing),
``journal_mode=WAL`` (readers never block the writer), ``synchronous=FULL`` (relaxed only for a
tester's clicks, see :func:`write_transaction`) and ``foreign_keys=ON`` (cascading deletes).
SQLAlchemy, not the ``sqlite3`` module, emits ``BEGIN``: a plain ``BEGIN`` for reads and
``BEGIN IMMEDIATE`` for a connection marked with :data:`WRITE_OPTION`, so a write transaction
takes the write lock first and waits for it (``busy_timeout``) instead of failing half-way.

Driver errors are turned into :class:`recsys.errors.StoreError` by :func:`translate_errors`, with
the URL shown without its password.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DBAPIError,
    IntegrityError,
    OperationalError,
)
from sqlalchemy.pool import StaticPool

from recsys.errors import StoreError
from recsys.private import create_private_file, dir_mode, tighten_sqlite

logger = logging.getLogger(__name__)

#: Seconds a writer waits for another writer's lock before giving up (SQLite).
BUSY_TIMEOUT_S = 10.0
#: Execution option marking a connection whose next transaction writes.
WRITE_OPTION = "cineblend_write"
SUPPORTED_DIALECTS = ("sqlite", "postgresql")


def parse_url(url: str | URL) -> URL:
    """Parse a SQLAlchemy URL, or raise StoreError saying what is wrong."""
    try:
        return make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"DATABASE_URL {str(url)!r} is not a valid database URL; "
            "use e.g. sqlite:///data/app.db or postgresql+psycopg://user:pw@host/db."
        ) from exc


def safe_url(url: str | URL) -> str:
    """The URL as text with any password masked (for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<invalid database URL>"


def sqlite_path(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory / non-SQLite URLs."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def dialect_insert(engine: Engine) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_update`` / ``_nothing``) for ``engine``;
    StoreError for a database other than SQLite or PostgreSQL."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    if engine.dialect.name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert
    raise StoreError(f"Unsupported database {safe_url(engine.url)}; use SQLite or PostgreSQL.")


def make_engine(url: str | URL) -> Engine:
    """Create an engine for ``url``; for a SQLite file, create its folder first."""
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_DIALECTS:
        raise StoreError(f"Unsupported database {safe_url(parsed)}; use a sqlite:/// or postgresql+psycopg:// URL.")
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        path = sqlite_path(parsed)
        if path is not None:
            try:
                # a new folder 0700, the database 0600 (SQLite gives its WAL / SHM the same mode)
                path.parent.mkdir(mode=dir_mode(), parents=True, exist_ok=True)
                create_private_file(path)
                tighten_sqlite(path)
            except OSError as exc:
                raise StoreError(
                    f"Cannot create the folder for the database {path}: {exc.strerror}; "
                    "check CINEBLEND_DATA_DIR / DATABASE_URL and permissions."
                ) from exc
            kwargs.update(pool_size=10, max_overflow=40, pool_timeout=BUSY_TIMEOUT_S * 3)
        else:
            # one shared in-memory database (tests, demos): a single connection
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        # SQLAlchemy keeps cursor.rowcount only for UPDATE / DELETE unless asked; with psycopg an
        # INSERT ... ON CONFLICT then reports -1, and Store.rate could not tell a change happened
        kwargs.update(pool_pre_ping=True, execution_options={"preserve_rowcount": True})
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(
            f"Cannot use the database {safe_url(parsed)}: {_first_line(exc)}; "
            "check DATABASE_URL and that its driver is installed."
        ) from exc
    if backend == "sqlite":
        _tune_sqlite(engine)
    return engine


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # take BEGIN away from the sqlite3 module; SQLAlchemy's "begin" event emits it
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")  # the default, stated: clicks relax it per write
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@contextmanager
def write_transaction(engine: Engine, *, durable: bool = True) -> Iterator[Connection]:
    """A connection in a transaction that will write; commits on success, rolls back on error.

    On SQLite the transaction starts with ``BEGIN IMMEDIATE``, so concurrent writers queue up
    (up to :data:`BUSY_TIMEOUT_S`) and each sees the previous one's committed data.

    ``durable=False`` (a tester's click: a rating, a hidden title) commits without waiting for the
    disk: SQLite's ``synchronous = NORMAL`` for this transaction (in WAL mode: no fsync at commit,
    the next durable commit or checkpoint syncs it), PostgreSQL's ``synchronous_commit = off``.
    The commit is atomic and visible to every reader at once and survives the app's process
    dying; only an operating-system crash or power cut can lose the last such clicks, never
    corrupt the database. Accounts, roles, sessions, jobs and fencing stay durable (the default).
    Measured on this project's 2-core machine: a SQLite commit 4.0 ms with fsync, 0.02 ms without
    (a feed click's whole run is about 25 ms).
    """
    with engine.connect() as conn:
        conn.execution_options(**{WRITE_OPTION: True})
        relaxed = not durable and engine.dialect.name == "sqlite"
        if relaxed:
            _sqlite_pragma(conn, "synchronous = NORMAL")
        try:
            with conn.begin():
                if not durable and engine.dialect.name == "postgresql":
                    conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                yield conn
        finally:
            if relaxed:
                _sqlite_pragma(conn, "synchronous = FULL")


def _sqlite_pragma(conn: Connection, pragma: str) -> None:
    """Run ``PRAGMA pragma`` on the driver connection, outside any transaction (SQLAlchemy would
    begin one for a statement sent through ``conn``)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None, "a checked-out connection has its driver connection"
    cursor = dbapi.cursor()
    try:
        cursor.execute(f"PRAGMA {pragma}")
    finally:
        cursor.close()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def store_error(exc: DBAPIError, url: str | URL) -> StoreError:
    """A one-line, actionable StoreError for a driver error on the database at ``url``."""
    where = safe_url(url)
    reason = _first_line(exc)
    lowered = reason.lower()
    if isinstance(exc, OperationalError) and ("locked" in lowered or "busy" in lowered):
        msg = (
            f"The database at {where} is busy (locked by another writer for over "
            f"{BUSY_TIMEOUT_S:g} s: {reason}); retry in a moment."
        )
    elif isinstance(exc, OperationalError):
        msg = (
            f"The database at {where} is unreachable or unusable ({reason}); check DATABASE_URL, "
            "that the server is running and that the file is writable."
        )
    elif isinstance(exc, IntegrityError):
        msg = f"The database at {where} rejected the change ({reason}); reload the page and retry."
    elif isinstance(exc, DatabaseError):
        msg = f"The database at {where} is unusable ({reason}); restore a backup or point DATABASE_URL elsewhere."
    else:
        msg = f"The database at {where} failed ({reason}); check the server log and retry."
    return StoreError(msg)


@contextmanager
def translate_errors(url: str | URL) -> Iterator[None]:
    """Re-raise SQLAlchemy driver errors as :class:`StoreError` naming ``url`` (no password)."""
    try:
        yield
    except DBAPIError as exc:
        logger.warning("Store error on %s: %s", safe_url(url), _first_line(exc))
        raise store_error(exc, url) from exc
