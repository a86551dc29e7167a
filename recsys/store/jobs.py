"""Background jobs in the store: one row per request, with its state and overall progress.

Every app server writes the jobs it runs here and reads everyone's, so the data page of any
server shows a job started on another one. :mod:`recsys.jobs.runner` runs them; this module only reads
and writes rows::

    job = enqueue(store, "train", requested_by="ada", server="web-1:4242")
    start(store, job.id)
    report(store, job.id, "Training: als: iterations", 0.4)
    finish(store, job.id)                       # or finish(store, job.id, error="...")
    latest(store, "train").state               # "done"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, exists, func, insert, select, update
from sqlalchemy.sql.elements import ColumnElement

from recsys.store.engine import translate_errors, write_transaction
from recsys.store.repository import Store
from recsys.store.schema import JOB_ERROR_MAX, JOB_STAGE_MAX, JOB_STATES, job_leases, jobs, utcnow

QUEUED, RUNNING, DONE, FAILED = JOB_STATES
ACTIVE = (QUEUED, RUNNING)
#: What a job that was running or queued on a server that stopped says.
INTERRUPTED = "Interrupted: the app server running it stopped before it finished; start it again."


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    state: str
    stage: str
    fraction: float
    requested_by: str | None
    server: str
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    error: str | None
    params: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    estimate_s: float | None = None
    cancel_requested: bool = False
    fence: int | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def cancelled(self) -> bool:
        """Ended because someone cancelled it."""
        return self.state == FAILED and self.cancel_requested


def _job(row: Row[Any]) -> Job:
    return Job(**row._mapping)


def _write(store: Store, stmt: Any) -> Any:
    with translate_errors(store.engine.url), write_transaction(store.engine) as conn:
        return conn.execute(stmt)


def _read(store: Store, stmt: Any) -> list[Job]:
    with translate_errors(store.engine.url), store.engine.connect() as conn:
        return [_job(r) for r in conn.execute(stmt)]


#: A fence: (lease name, generation). A write made under a fence happens only while that lease
#: still has that generation (:mod:`recsys.jobs.fence`).
Fence = tuple[str, int]
#: What a fenced job's row says when a newer job of its kind took its lease.
SUPERSEDED = (
    "Stopped: this job lost its lock (its database connection dropped) and a newer job of its kind took over; "
    "nothing of it was published."
)
CANCELLED = "Cancelled; nothing of it was stored."


def _fenced(fence: Fence | None) -> ColumnElement[bool]:
    """A WHERE clause that holds only while ``fence`` is current (always, without a fence)."""
    if fence is None:
        return and_(True)
    name, generation = fence
    return exists().where(job_leases.c.name == name, job_leases.c.generation == generation)


def enqueue(
    store: Store,
    kind: str,
    *,
    requested_by: str | None,
    server: str,
    params: dict[str, Any] | None = None,
    estimate_s: float | None = None,
) -> Job:
    """Add a queued job of ``kind`` requested by ``requested_by`` on ``server``, with what it is
    to run (``params``, JSON) and its expected wall time."""
    now = utcnow()
    result = _write(
        store,
        insert(jobs).values(
            kind=kind,
            state=QUEUED,
            stage="Waiting for its turn",
            fraction=0.0,
            requested_by=requested_by,
            server=server,
            requested_at=now,
            updated_at=now,
            params=params,
            estimate_s=estimate_s,
        ),
    )
    found = get(store, int(result.inserted_primary_key[0]))
    assert found is not None
    return found


def get(store: Store, job_id: int) -> Job | None:
    rows = _read(store, select(jobs).where(jobs.c.id == job_id))
    return rows[0] if rows else None


def start(store: Store, job_id: int, *, server: str | None = None, fence: Fence | None = None) -> bool:
    """Claim a queued job for ``server`` and mark it running under ``fence``; False when it is no
    longer queued (another worker took it, or it was cancelled)."""
    now = utcnow()
    values: dict[str, Any] = {"state": RUNNING, "stage": "Starting", "started_at": now, "updated_at": now}
    if server is not None:
        values["server"] = server
    if fence is not None:
        values["fence"] = fence[1]
    result = _write(
        store,
        update(jobs).where(jobs.c.id == job_id, jobs.c.state == QUEUED, _fenced(fence)).values(**values),
    )
    return bool(result.rowcount)


def report(store: Store, job_id: int, stage: str, fraction: float, fence: Fence | None = None) -> bool:
    """Record a running job's stage text and overall fraction (also its heartbeat); False when the
    row was not written (the job is no longer running, or ``fence`` is no longer current)."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    result = _write(
        store,
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.state == RUNNING, _fenced(fence))
        .values(stage=stage[:JOB_STAGE_MAX], fraction=fraction, updated_at=utcnow()),
    )
    return bool(result.rowcount)


def finish(
    store: Store,
    job_id: int,
    error: str | None = None,
    *,
    fence: Fence | None = None,
    result: dict[str, Any] | None = None,
) -> bool:
    """Mark the job done (with its ``result``), or failed with a one-line ``error``; under a
    ``fence`` only while it is current (False: a newer job took the lease, nothing written)."""
    now = utcnow()
    values: dict[str, Any] = {"finished_at": now, "updated_at": now}
    if error is None:
        values.update(state=DONE, stage="Done", fraction=1.0, result=result)
    else:
        values.update(state=FAILED, error=" ".join(error.split())[:JOB_ERROR_MAX])
    written = _write(store, update(jobs).where(jobs.c.id == job_id, _fenced(fence)).values(**values))
    return bool(written.rowcount)


def request_cancel(store: Store, job_id: int) -> Job | None:
    """Ask a job to stop: a queued one ends at once (failed, "Cancelled ..."), a running one at its
    next progress report. Returns the job as it is now (None: no such job)."""
    now = utcnow()
    _write(
        store,
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.state == QUEUED)
        .values(state=FAILED, cancel_requested=True, error=CANCELLED, finished_at=now, updated_at=now),
    )
    _write(store, update(jobs).where(jobs.c.id == job_id, jobs.c.state == RUNNING).values(cancel_requested=True))
    return get(store, job_id)


def cancel_requested(store: Store, job_id: int) -> bool:
    with translate_errors(store.engine.url), store.engine.connect() as conn:
        return bool(conn.scalar(select(jobs.c.cancel_requested).where(jobs.c.id == job_id)))


def queued(store: Store, kinds: tuple[str, ...]) -> list[Job]:
    """Queued jobs of these kinds on every server, oldest first."""
    return _read(store, select(jobs).where(jobs.c.kind.in_(kinds), jobs.c.state == QUEUED).order_by(jobs.c.id))


def requested_since(store: Store, kinds: tuple[str, ...], requested_by: str, since: datetime) -> list[datetime]:
    """When ``requested_by`` requested jobs of these kinds since ``since`` (any state), oldest first
    (a rate limit every server counts the same way)."""
    stmt = (
        select(jobs.c.requested_at)
        .where(jobs.c.kind.in_(kinds), jobs.c.requested_by == requested_by, jobs.c.requested_at >= since)
        .order_by(jobs.c.requested_at)
    )
    with translate_errors(store.engine.url), store.engine.connect() as conn:
        return [r[0] for r in conn.execute(stmt)]


def requested_jobs_since(store: Store, kinds: tuple[str, ...], since: datetime) -> list[Job]:
    """Every job of these kinds requested since ``since`` (any state, any requester), oldest first
    (limits keyed by something in the params: a demo visitor's session and address)."""
    stmt = select(jobs).where(jobs.c.kind.in_(kinds), jobs.c.requested_at >= since).order_by(jobs.c.requested_at)
    return _read(store, stmt)


def finished(store: Store, kind: str, limit: int = 20) -> list[Job]:
    """The newest jobs of ``kind`` that ended done, newest first (time-estimate calibration)."""
    stmt = select(jobs).where(jobs.c.kind == kind, jobs.c.state == DONE).order_by(jobs.c.id.desc()).limit(limit)
    return _read(store, stmt)


def count_ahead(store: Store, kinds: tuple[str, ...], job_id: int) -> int:
    """How many active jobs of these kinds were requested before ``job_id``."""
    stmt = select(func.count()).where(jobs.c.kind.in_(kinds), jobs.c.state.in_(ACTIVE), jobs.c.id < job_id)
    with translate_errors(store.engine.url), store.engine.connect() as conn:
        return int(conn.scalar(stmt) or 0)


def abandon(store: Store, job_ids: list[int], reason: str = INTERRUPTED) -> None:
    """Mark queued / running jobs whose server is gone (or that were superseded) as failed."""
    if not job_ids:
        return
    now = utcnow()
    _write(
        store,
        update(jobs)
        .where(jobs.c.id.in_(job_ids), jobs.c.state.in_(ACTIVE))
        .values(state=FAILED, error=reason[:JOB_ERROR_MAX], finished_at=now, updated_at=now),
    )


def active(store: Store, kinds: tuple[str, ...]) -> list[Job]:
    """Queued and running jobs of these kinds on every server, oldest first."""
    return _read(store, select(jobs).where(jobs.c.kind.in_(kinds), jobs.c.state.in_(ACTIVE)).order_by(jobs.c.id))


def latest(store: Store, kind: str) -> Job | None:
    """The newest job of ``kind`` (any state), or None."""
    rows = _read(store, select(jobs).where(jobs.c.kind == kind).order_by(jobs.c.id.desc()).limit(1))
    return rows[0] if rows else None


def recent(store: Store, kinds: tuple[str, ...], limit: int = 10) -> list[Job]:
    """The newest jobs of these kinds, newest first."""
    return _read(store, select(jobs).where(jobs.c.kind.in_(kinds)).order_by(jobs.c.id.desc()).limit(limit))
