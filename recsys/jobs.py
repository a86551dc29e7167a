"""Background jobs of an app server (download and build, training, and any kind registered),
run one at a time per lane, with their state and progress in the store.

Each app server process has one :class:`JobRunner` per store (:func:`runner`). A request
(:meth:`JobRunner.submit`) is refused with one line saying what runs when a job of the same kind
is running on any server (its job lock is held: a PostgreSQL advisory lock, or a file lock on
SQLite, :mod:`recsys.locks`) or already queued on this one; otherwise it is queued and this
server's worker thread for the kind's lane runs it when the lane is free, so jobs of one lane
(fetch / build / train share the ``data`` lane) never run in parallel on one server. Progress goes
to the job's row (:mod:`recsys.store.jobs`) as one overall fraction and a stage text
(:class:`recsys.progress.OverallProgress`), at most about twice a second, so every server's data
page can show it. A job row left queued or running by a server that died is marked failed
("Interrupted ...") by the next request of its kind, or when a restarted server on that host
starts its runner.

Other modules add kinds with :func:`register` (the evaluation lab registers ``evaluate`` on its
own lane)::

    register(JobKind("evaluate", "Evaluation", "evaluation", phases=lambda s: [Phase("run", "Evaluating")],
                     run=my_function, lane="evaluate"))
"""

from __future__ import annotations

import logging
import os
import queue
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from recsys.config import Settings
from recsys.errors import CineBlendError
from recsys.locks import exclusive, is_held
from recsys.progress import OverallProgress, Phase, Progress, null_progress
from recsys.store import Store
from recsys.store import jobs as rows
from recsys.store.jobs import Job

log = logging.getLogger(__name__)

#: Seconds between two progress writes of one job within one stage (a new stage is written at once).
REPORT_INTERVAL_S = 0.5


class JobRefused(CineBlendError):
    """A job of this kind is running (on some server) or queued (on this one)."""


@dataclass(frozen=True)
class JobKind:
    """A kind of background job: ``label`` is its title ("Download and build"), ``what`` its
    name in a sentence ("download and build"); ``run(settings, progress)`` does the work,
    reporting through ``progress.phase(name)`` for each of ``phases(settings)``; ``done`` is the
    line shown when it has finished."""

    kind: str
    label: str
    what: str
    phases: Callable[[Settings], list[Phase]]
    run: Callable[[Settings, OverallProgress], None]
    lane: str = "data"
    done: str = "Done."


KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    KINDS[kind.kind] = kind


def _host() -> str:
    return socket.gethostname()


#: This process's name in job rows: host, pid and a random tag (a restarted container may reuse
#: the pid; the tag tells its jobs from the ones of the process before it).
SERVER_ID = f"{_host()}:{os.getpid()}:{secrets.token_hex(3)}"


def server_label(server: str) -> str:
    """``"web-1:4242:a1b2c3"`` -> ``"web-1 (pid 4242)"``."""
    parts = server.split(":")
    return f"{parts[0]} (pid {parts[1]})" if len(parts) >= 2 else server


def job_lock(settings: Settings, kind: str) -> Path:
    """The lock that one job of ``kind`` holds while it runs (a file name or an advisory key)."""
    return settings.data_dir / f".job-{kind}.lock"


def when(moment: datetime | None) -> str:
    """``"4 Dec 2026, 18:40 UTC"``."""
    return "-" if moment is None else f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def describe(job: Job) -> str:
    """One line saying what a job is doing, e.g. for a refusal."""
    spec = KINDS.get(job.kind)
    what = spec.what if spec else job.kind
    who = f" by {job.requested_by}" if job.requested_by else ""
    if job.state == rows.RUNNING:
        return (
            f"A {what} started{who} at {when(job.started_at)} is running on {server_label(job.server)}"
            f" ({job.stage}, {job.fraction:.0%})."
        )
    return f"A {what} requested{who} at {when(job.requested_at)} is queued on {server_label(job.server)}."


class JobRunner:
    """The background jobs of one app server process on one store."""

    def __init__(self, settings: Settings, store: Store, server: str = SERVER_ID) -> None:
        self.settings = settings
        self.store = store
        self.server = server
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending: set[int] = set()  # queued or running here
        self._queues: dict[str, queue.Queue[int]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._forget_previous_life()

    # -- requests ----------------------------------------------------------------------------

    def submit(self, kind: str, requested_by: str | None) -> Job:
        """Queue a job of ``kind``; raises JobRefused (one line saying what runs) when one of that
        kind is running anywhere or already queued here."""
        spec = KINDS[kind]
        with self._lock:
            for job in rows.active(self.store, (kind,)):
                if job.server == self.server and job.id in self._pending:
                    raise JobRefused(f"{describe(job)} Wait for it to finish.")
                if job.state == rows.RUNNING and self._lock_held(kind):
                    raise JobRefused(f"{describe(job)} Wait for it to finish.")
                if job.state == rows.RUNNING or job.server == self.server:
                    rows.abandon(self.store, [job.id])  # its server is gone
            job = rows.enqueue(self.store, kind, requested_by=requested_by, server=self.server)
            self._pending.add(job.id)
            self._queue(spec.lane).put(job.id)
        log.info("queued %s job %d for %s", kind, job.id, requested_by)
        return job

    def busy(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def wait_idle(self, timeout: float) -> bool:
        """Block until this server has no queued or running job (True) or ``timeout`` passes."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    # -- the workers -------------------------------------------------------------------------

    def _queue(self, lane: str) -> queue.Queue[int]:
        if lane not in self._queues:
            self._queues[lane] = queue.Queue()
            thread = threading.Thread(target=self._work, args=(lane,), name=f"cineblend-jobs-{lane}", daemon=True)
            self._threads[lane] = thread
            thread.start()
        return self._queues[lane]

    def _work(self, lane: str) -> None:
        q = self._queues[lane]
        while True:
            job_id = q.get()
            try:
                self._run(job_id)
            except Exception:  # the worker must survive anything, or the lane stops for good
                log.exception("job %d: the job runner failed", job_id)
            finally:
                with self._idle:
                    self._pending.discard(job_id)
                    self._idle.notify_all()

    def _run(self, job_id: int) -> None:
        job = rows.get(self.store, job_id)
        if job is None or job.state != rows.QUEUED:
            return
        spec = KINDS[job.kind]
        sink = _reporter(self.store, job_id)

        try:
            with exclusive(job_lock(self.settings, job.kind), spec.what, JobRefused, store_url=self.settings.store_url):
                rows.start(self.store, job_id)
                _abandon_others(self.store, job.kind, job_id)
                log.info("%s job %d started", job.kind, job_id)
                spec.run(self.settings, OverallProgress(spec.phases(self.settings), sink))
        except CineBlendError as exc:
            log.warning("%s job %d failed: %s", job.kind, job_id, exc)
            rows.finish(self.store, job_id, error=str(exc))
        except Exception as exc:
            log.exception("%s job %d failed", job.kind, job_id)
            rows.finish(
                self.store, job_id, error=f"Unexpected error ({type(exc).__name__}: {exc}); see the server log."
            )
        else:
            rows.finish(self.store, job_id)
            log.info("%s job %d done", job.kind, job_id)

    # -- clean-up ----------------------------------------------------------------------------

    def _lock_held(self, kind: str) -> bool:
        return is_held(job_lock(self.settings, kind), store_url=self.settings.store_url)

    def _forget_previous_life(self) -> None:
        """Jobs this host's earlier processes left queued or running (they died) fail now."""
        host, pid = self.server.split(":")[:2]
        stale = []
        for job in rows.active(self.store, tuple(KINDS)):
            parts = job.server.split(":")
            if len(parts) < 3 or parts[0] != host or job.server == self.server:
                continue
            if parts[1] == pid or not _alive(int(parts[1])):
                stale.append(job.id)
        rows.abandon(self.store, stale)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_RUNNERS: dict[tuple[str, str], JobRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def runner(settings: Settings, store: Store) -> JobRunner:
    """This process's runner for the store at ``settings.store_url`` (created once)."""
    key = (settings.store_url, str(settings.data_dir.resolve()))
    with _RUNNERS_LOCK:
        if key not in _RUNNERS:
            _RUNNERS[key] = JobRunner(settings, store)
        return _RUNNERS[key]


@contextmanager
def recorded(settings: Settings, kind: str, requested_by: str, progress: Progress | None = None) -> Iterator[Progress]:
    """Run a job of ``kind`` in this process, in the block (the CLI's ``train``): it holds the
    kind's job lock (JobRefused with what runs when one runs anywhere), has its row in the store
    like a data page job, and the yielded Progress (for the kind's first phase) also feeds
    ``progress``. A failure in the block marks the row failed and propagates."""
    spec = KINDS[kind]
    with (
        exclusive(job_lock(settings, kind), spec.what, JobRefused, store_url=settings.store_url),
        Store.open(settings.store_url) as store,
    ):
        job = rows.enqueue(store, kind, requested_by=requested_by, server=SERVER_ID)
        rows.start(store, job.id)
        _abandon_others(store, kind, job.id)
        phases = spec.phases(settings)
        overall = OverallProgress(phases, _reporter(store, job.id)).phase(phases[0].name)
        echo = progress or null_progress

        def both(stage: str, done: float, total: float | None) -> None:
            echo(stage, done, total)
            overall(stage, done, total)

        try:
            yield both
        except BaseException as exc:
            rows.finish(store, job.id, error=str(exc) or type(exc).__name__)
            raise
        rows.finish(store, job.id)


def _abandon_others(store: Store, kind: str, job_id: int) -> None:
    """Called with the kind's lock held: any other row of the kind still "running" belongs to a
    process that died (it would hold the lock)."""
    rows.abandon(store, [j.id for j in rows.active(store, (kind,)) if j.state == rows.RUNNING and j.id != job_id])


def _reporter(store: Store, job_id: int) -> Callable[[str, float], None]:
    """A progress sink writing to the job's row: a new stage at once, counts within a stage at
    most every :data:`REPORT_INTERVAL_S`."""
    last: dict[str, float] = {}

    def sink(text: str, fraction: float) -> None:
        now, stage = time.monotonic(), text.split(" (")[0]
        if stage not in last or now - last[stage] >= REPORT_INTERVAL_S:
            last.clear()
            last[stage] = now
            rows.report(store, job_id, text, fraction)

    return sink


def wait_all(timeout: float) -> bool:
    """Block until every runner of this process is idle (tests, a clean shutdown)."""
    deadline = time.monotonic() + timeout
    with _RUNNERS_LOCK:
        runners = list(_RUNNERS.values())
    return all(r.wait_idle(max(deadline - time.monotonic(), 0.0)) for r in runners)


# -- the data page's jobs --------------------------------------------------------------------


def _fetch_build_phases(settings: Settings) -> list[Phase]:
    from recsys.catalog.download import sources

    files = len(sources(settings, None))
    return [
        Phase("fetch", "Downloading", weight=3, parts=2 * files),  # each file: download, check
        Phase("build", "Building the catalogue", weight=3),
        Phase("train", "Training the recommender", weight=2, parts=4),
    ]


def _fetch_build(settings: Settings, progress: OverallProgress) -> None:
    from recsys.catalog.build import build
    from recsys.catalog.download import fetch
    from recsys.pipeline import train_model

    progress.enter("fetch")
    fetch(settings, progress=progress.phase("fetch"))
    progress.enter("build")
    build(settings, progress=progress.phase("build"))
    progress.enter("train")
    train_model(settings, progress=progress.phase("train"))


def _train(settings: Settings, progress: OverallProgress) -> None:
    from recsys.pipeline import train_model

    progress.enter("train")
    train_model(settings, progress=progress.phase("train"))


FETCH_BUILD = "fetch_build"
TRAIN = "train"
DATA_JOBS = (FETCH_BUILD, TRAIN)

register(
    JobKind(
        FETCH_BUILD,
        "Download and build",
        "download and build",
        phases=_fetch_build_phases,
        run=_fetch_build,
        done="Catalogue and recommender ready. Sign in or register to start rating.",
    )
)
register(
    JobKind(
        TRAIN,
        "Retrain",
        "training",
        phases=lambda settings: [Phase("train", "Training the recommender", parts=4)],
        run=_train,
        done="New model trained; every feed uses it from its next click.",
    )
)
