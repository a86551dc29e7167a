"""Background jobs in the store: one row per request, with its state and overall progress.

Every app server writes the jobs it runs here and reads everyone's, so the data page of any
server shows a job started on another one. :mod:`recsys.jobs` runs them; this module only reads
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

from sqlalchemy import Row, insert, select, update

from recsys.store.engine import translate_errors, write_transaction
from recsys.store.repository import Store
from recsys.store.schema import JOB_ERROR_MAX, JOB_STAGE_MAX, JOB_STATES, jobs, utcnow

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

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


def _job(row: Row[Any]) -> Job:
    return Job(**row._mapping)


def _write(store: Store, stmt: Any) -> Any:
    with translate_errors(store.engine.url), write_transaction(store.engine) as conn:
        return conn.execute(stmt)


def _read(store: Store, stmt: Any) -> list[Job]:
    with translate_errors(store.engine.url), store.engine.connect() as conn:
        return [_job(r) for r in conn.execute(stmt)]


def enqueue(store: Store, kind: str, *, requested_by: str | None, server: str) -> Job:
    """Add a queued job of ``kind`` requested by ``requested_by`` on ``server``."""
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
        ),
    )
    found = get(store, int(result.inserted_primary_key[0]))
    assert found is not None
    return found


def get(store: Store, job_id: int) -> Job | None:
    rows = _read(store, select(jobs).where(jobs.c.id == job_id))
    return rows[0] if rows else None


def start(store: Store, job_id: int) -> None:
    now = utcnow()
    _write(
        store,
        update(jobs).where(jobs.c.id == job_id).values(state=RUNNING, stage="Starting", started_at=now, updated_at=now),
    )


def report(store: Store, job_id: int, stage: str, fraction: float) -> None:
    """Record a running job's stage text and overall fraction (also its heartbeat)."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    _write(
        store,
        update(jobs)
        .where(jobs.c.id == job_id, jobs.c.state == RUNNING)
        .values(stage=stage[:JOB_STAGE_MAX], fraction=fraction, updated_at=utcnow()),
    )


def finish(store: Store, job_id: int, error: str | None = None) -> None:
    """Mark the job done, or failed with a one-line ``error``."""
    now = utcnow()
    values: dict[str, Any] = {"finished_at": now, "updated_at": now}
    if error is None:
        values.update(state=DONE, stage="Done", fraction=1.0)
    else:
        values.update(state=FAILED, error=" ".join(error.split())[:JOB_ERROR_MAX])
    _write(store, update(jobs).where(jobs.c.id == job_id).values(**values))


def abandon(store: Store, job_ids: list[int], reason: str = INTERRUPTED) -> None:
    """Mark queued / running jobs whose server is gone as failed."""
    if not job_ids:
        return
    now = utcnow()
    _write(
        store,
        update(jobs)
        .where(jobs.c.id.in_(job_ids), jobs.c.state.in_(ACTIVE))
        .values(state=FAILED, error=reason, finished_at=now, updated_at=now),
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
