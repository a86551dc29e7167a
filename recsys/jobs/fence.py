"""Fencing tokens for jobs: a job whose lock was lost can neither publish nor overwrite state.

A job's lock (:mod:`recsys.jobs.locks`) excludes a second job of its kind only while the lock's
connection lives; a PostgreSQL restart, a network drop or ``idle_session_timeout`` releases an
advisory lock silently, and another server may then start the same kind of job. So each job also
holds a **lease** in the store: a ``job_leases`` row per lock name whose ``generation`` goes up by
one every time a job takes it (:func:`take`). The pair (name, generation) is the job's fencing
token, and:

- every write of the job's row (progress, its end) is made with ``WHERE`` the lease still has
  that generation (:mod:`recsys.store.jobs`), so a superseded job cannot overwrite the state the
  newer one (or its clean-up) wrote;
- a heartbeat thread (:class:`Fence`, every :data:`HEARTBEAT_S`) renews the lease and checks the
  lock's connection; once either is gone the job is *lost*: its next progress report raises
  :class:`Fenced` and it stops;
- publishing a model version (:func:`publish_guard`, around the folder's rename in
  :func:`recsys.models.artifacts.write_version`) happens inside a store transaction that holds
  the ``publish`` lease row, re-checks the generation and the lock, and first takes out of the new
  version every app user deleted since the training read its data;
- deleting a user's rows from the saved versions (:func:`recsys.models.scrub.scrub_user`) holds
  the same ``publish`` row (:func:`publish_lock`), so a deletion and a publish are ordered: either
  the version is published first and the deletion scrubs it, or the deletion commits first and
  the publish sees the user gone.

Example: training A takes lease ``train`` at generation 7; A's lock connection is terminated;
B takes the lock and the lease (generation 8). A's next heartbeat finds the lock gone, its
progress report raises Fenced, and even a publish racing ahead of that heartbeat is refused
(generation 8 != 7); A's row is left as B's clean-up wrote it.

Tested in tests/store/test_fenced_jobs.py (PostgreSQL: lock connections terminated mid-train on
two runners). A lost lock is noticed by the next heartbeat, and always at publish (checked then).
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from recsys.errors import CineBlendError
from recsys.store.engine import translate_errors, write_transaction
from recsys.store.repository import Store
from recsys.store.schema import job_leases, utcnow

log = logging.getLogger(__name__)

#: Seconds between two heartbeats of a running job (lease renewal and lock check).
HEARTBEAT_S = 2.0
#: The lease row that orders publishing a model version and deleting a user's rows.
PUBLISH = "publish"


class Fenced(CineBlendError):
    """This job lost its lock or its lease: it must stop, and may not publish."""


def _ensure(conn: Connection, name: str) -> None:
    """Make sure the lease row ``name`` exists (generation 0)."""
    if conn.scalar(select(job_leases.c.generation).where(job_leases.c.name == name)) is not None:
        return
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(job_leases).values(name=name, generation=0).on_conflict_do_nothing())


def _lock_row(conn: Connection, name: str) -> None:
    """Hold row ``name`` until the transaction ends (PostgreSQL row lock; on SQLite the write
    transaction already excludes every other writer)."""
    _ensure(conn, name)
    conn.execute(update(job_leases).where(job_leases.c.name == name).values(name=name))


def take(store: Store, name: str, holder: str, job_id: int | None) -> int:
    """Take lease ``name`` for ``holder``: its generation goes up by one; returns it."""
    with translate_errors(store.engine.url), write_transaction(store.engine) as conn:
        _lock_row(conn, name)
        conn.execute(
            update(job_leases)
            .where(job_leases.c.name == name)
            .values(generation=job_leases.c.generation + 1, holder=holder, job_id=job_id, renewed_at=utcnow())
        )
        return int(conn.scalar(select(job_leases.c.generation).where(job_leases.c.name == name)) or 0)


def renew(store: Store, name: str, generation: int) -> bool:
    """Renew the lease; False when a newer job has taken it."""
    with translate_errors(store.engine.url), write_transaction(store.engine) as conn:
        result = conn.execute(
            update(job_leases)
            .where(job_leases.c.name == name, job_leases.c.generation == generation)
            .values(renewed_at=utcnow())
        )
        return bool(result.rowcount)


def release(store: Store, name: str, generation: int) -> None:
    """Give the lease up (the generation stays: a token once superseded never comes back)."""
    with translate_errors(store.engine.url), write_transaction(store.engine) as conn:
        conn.execute(
            update(job_leases)
            .where(job_leases.c.name == name, job_leases.c.generation == generation)
            .values(holder=None, job_id=None)
        )


def generation(store: Store, name: str) -> int:
    with translate_errors(store.engine.url), store.engine.connect() as conn:
        return int(conn.scalar(select(job_leases.c.generation).where(job_leases.c.name == name)) or 0)


class Fence:
    """A job's fencing token and its heartbeat (module docstring)."""

    def __init__(
        self,
        store: Store,
        name: str,
        holder: str,
        job_id: int | None,
        lock_alive: Callable[[], bool] = lambda: True,
        interval: float = HEARTBEAT_S,
    ) -> None:
        self.store = store
        self.name = name
        self.lock_alive = lock_alive
        self.interval = interval
        self.generation = take(store, name, holder, job_id)
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def token(self) -> tuple[str, int]:
        return (self.name, self.generation)

    def beat(self) -> None:
        """One heartbeat: the lock still held and the lease renewed, else the job is lost."""
        if self.lost:
            return
        if not self.lock_alive():
            self.lost = f"its {self.name} lock was lost (the database connection dropped)"
        else:
            try:
                if not renew(self.store, self.name, self.generation):
                    self.lost = f"a newer {self.name} job took its lease"
            except CineBlendError as exc:  # the store is unreachable: keep trying until it is back
                log.warning("lease %s: heartbeat failed: %s", self.name, exc)
                return
        if self.lost:
            log.warning("lease %s generation %d: %s; the job stops", self.name, self.generation, self.lost)

    def check(self) -> None:
        """Raise Fenced when the job is lost (cheap: what the last heartbeat found)."""
        if self.lost:
            raise Fenced(f"Stopped: {self.lost}; nothing of it was published.")

    def verify(self) -> None:
        """Check now (lock and generation), not just the last heartbeat's finding."""
        self.beat()
        self.check()

    def __enter__(self) -> Fence:
        self._thread = threading.Thread(target=self._run, name=f"cineblend-lease-{self.name}", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.lost:
            try:
                release(self.store, self.name, self.generation)
            except CineBlendError as exc:
                log.warning("lease %s: cannot release: %s", self.name, exc)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()


_CURRENT: contextvars.ContextVar[Fence | None] = contextvars.ContextVar("cineblend_fence", default=None)


@contextmanager
def running_under(fence: Fence) -> Iterator[Fence]:
    """Make ``fence`` the one that :func:`publish_guard` checks in this thread."""
    token = _CURRENT.set(fence)
    try:
        yield fence
    finally:
        _CURRENT.reset(token)


def current() -> Fence | None:
    return _CURRENT.get()


@contextmanager
def publish_lock(store: Store) -> Iterator[Connection]:
    """Hold the ``publish`` lease row for the block (a user deletion's scrub of saved versions)."""
    with translate_errors(store.engine.url), write_transaction(store.engine) as conn:
        _lock_row(conn, PUBLISH)
        yield conn


@contextmanager
def publish_guard(version_tmp: Path, scrub: Callable[[Connection, Path], None] | None = None) -> Iterator[None]:
    """Around the rename that publishes a model version: outside a fenced job, nothing; inside
    one, the ``publish`` row is held, the lock and the generation are checked (Fenced, nothing
    published, when either is gone) and users deleted since the training read its data are taken
    out of ``version_tmp`` first."""
    fence = _CURRENT.get()
    if fence is None:
        yield
        return
    fence.verify()
    with publish_lock(fence.store) as conn:
        now = conn.scalar(select(job_leases.c.generation).where(job_leases.c.name == fence.name))
        if now != fence.generation:
            fence.lost = f"a newer {fence.name} job took its lease"
            fence.check()
        if scrub is not None:  # the models layer's scrub_deleted: this module knows no model files
            scrub(conn, version_tmp)
        yield


def touch(store: Store, name: str, holder: str) -> None:
    """Renew (or create) lease ``name`` for ``holder`` without a new generation (a heartbeat)."""
    with translate_errors(store.engine.url), write_transaction(store.engine) as conn:
        _ensure(conn, name)
        conn.execute(update(job_leases).where(job_leases.c.name == name).values(holder=holder, renewed_at=utcnow()))


def fresh_holders(store: Store, prefix: str, max_age_s: float) -> list[str]:
    """Holders of leases named ``prefix...`` renewed in the last ``max_age_s`` seconds."""
    since = utcnow() - timedelta(seconds=max_age_s)
    stmt = select(job_leases.c.holder).where(job_leases.c.name.startswith(prefix), job_leases.c.renewed_at >= since)
    with translate_errors(store.engine.url), store.engine.connect() as conn:
        return [str(h) for h in conn.scalars(stmt) if h]
