"""A strict schema migration runner on top of Alembic, driven from code (no alembic.ini).

:func:`upgrade` brings a database to the newest schema this code knows, in one transaction:
a failed step rolls everything back. It refuses a database stamped with a revision this code
does not know (written by a newer CineBlend). Concurrent first starts are serialised: by a lock
file next to a SQLite database plus ``BEGIN IMMEDIATE``, by an advisory lock on PostgreSQL; the
second process then finds the schema current and does nothing. Alembic keeps module-level state
(``alembic.context``), so runs in one process are serialised by a lock too.

:func:`memory_engine` gives a private in-memory database with the newest schema without running
Alembic: a copy of :func:`schema_template`, an empty database migrated once per process (demo
sessions open one each, many at once).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from recsys.errors import StoreError
from recsys.private import file_mode
from recsys.store.engine import (
    BUSY_TIMEOUT_S,
    make_engine,
    safe_url,
    sqlite_path,
    translate_errors,
    write_transaction,
)

try:  # POSIX only; elsewhere BEGIN IMMEDIATE alone serialises SQLite migrations
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]  # the module is POSIX-only: None marks its absence

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Key of the PostgreSQL advisory lock held while migrating ("CINEBLND" in ASCII).
PG_LOCK_KEY = 0x43494E45424C4E44 & 0x7FFFFFFFFFFFFFFF
LOCK_WAIT_S = 120.0

#: Alembic's module-level state is shared by every thread: one migration run at a time per process.
_ALEMBIC_LOCK = threading.RLock()
_TEMPLATE_LOCK = threading.Lock()
_template: bytes | None = None


def alembic_config(url: str | URL | None = None, connection: Connection | None = None) -> Config:
    """An Alembic config for the store's migrations, built in code.

    Pass ``connection`` to run on an open connection (what :func:`upgrade` does), or ``url`` for
    Alembic commands such as ``command.revision(cfg, "message", autogenerate=True)``.
    """
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        # ConfigParser interpolation: escape % in passwords
        rendered = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        cfg.set_main_option("sqlalchemy.url", rendered.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def script_directory() -> ScriptDirectory:
    """The migration scripts shipped with this code."""
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code knows."""
    head = script_directory().get_current_head()
    if head is None:  # pragma: no cover - packaging error
        raise StoreError("No store migrations found; reinstall CineBlend.")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision recorded in the database (None for an empty database)."""
    with translate_errors(engine.url), engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return heads[0] if heads else None


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (default: newest), refusing unknown revisions."""
    _run(engine, lambda cfg: command.upgrade(cfg, revision), f"upgrade to {revision}")


def downgrade(engine: Engine, revision: str) -> None:
    """Downgrade the database to ``revision`` (``"base"`` drops every table). For tests/admins."""
    _run(engine, lambda cfg: command.downgrade(cfg, revision), f"downgrade to {revision}")


def _run(engine: Engine, step: Callable[[Config], None], what: str) -> None:
    with _ALEMBIC_LOCK:
        _run_locked(engine, step, what)


def _run_locked(engine: Engine, step: Callable[[Config], None], what: str) -> None:
    script = script_directory()
    known = {rev.revision for rev in script.walk_revisions()}
    with _process_lock(engine), translate_errors(engine.url), write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})
        heads = MigrationContext.configure(conn).get_current_heads()
        unknown = [h for h in heads if h not in known]
        if unknown:
            raise StoreError(
                f"The database at {safe_url(engine.url)} was written by a newer CineBlend "
                f"(revision {', '.join(unknown)}); upgrade the app or point DATABASE_URL elsewhere."
            )
        before = heads[0] if heads else None
        try:
            step(alembic_config(connection=conn))
        except CommandError as exc:
            raise StoreError(
                f"Cannot {what} the database at {safe_url(engine.url)} "
                f"({str(exc).splitlines()[0]}); check the revision name."
            ) from exc
        after = MigrationContext.configure(conn).get_current_heads()
    if tuple(after) != tuple(heads):
        logger.info(
            "Store at %s: %s (%s -> %s)",
            safe_url(engine.url),
            what,
            before or "empty",
            after[0] if after else "empty",
        )


def schema_template() -> bytes:
    """An empty SQLite database at the newest revision, serialised (``sqlite3`` ``serialize``);
    migrated once per process, under a lock, and reused."""
    global _template
    with _TEMPLATE_LOCK:
        if _template is None:
            engine = make_engine("sqlite://")
            try:
                upgrade(engine)
                with translate_errors(engine.url), engine.connect() as conn:
                    _template = _sqlite3(conn).serialize()
            finally:
                engine.dispose()
        return _template


def memory_engine() -> Engine:
    """A new, private in-memory SQLite database holding the newest schema (stamped with its
    revision): a copy of :func:`schema_template`, no Alembic run, safe to call from many threads."""
    data = schema_template()
    engine = make_engine("sqlite://")  # one connection (StaticPool), tuned like every SQLite one
    try:
        with translate_errors(engine.url), engine.connect() as conn:
            _sqlite3(conn).deserialize(data)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _sqlite3(conn: Connection) -> sqlite3.Connection:
    driver = conn.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):  # pragma: no cover - make_engine("sqlite://")
        raise StoreError("The schema template needs the sqlite3 driver.")
    return driver


@contextmanager
def _process_lock(engine: Engine) -> Iterator[None]:
    """Hold ``<db file>.migrate.lock`` for a SQLite file database (POSIX); no-op otherwise."""
    path = sqlite_path(engine.url)
    if path is None or fcntl is None:
        yield
        return
    lock_path = path.with_name(path.name + ".migrate.lock")
    try:
        fd = os.fdopen(os.open(lock_path, os.O_RDWR | os.O_CREAT, file_mode()), "a+b")
    except OSError as exc:
        raise StoreError(f"Cannot create {lock_path}: {exc.strerror}; make the database folder writable.") from exc
    try:
        deadline = time.monotonic() + max(LOCK_WAIT_S, BUSY_TIMEOUT_S)
        while True:
            try:
                fcntl.flock(fd.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"Another process has been migrating {path} for over "
                        f"{LOCK_WAIT_S:g} s; stop it or wait, then start again."
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd.fileno(), fcntl.LOCK_UN)
    finally:
        fd.close()
