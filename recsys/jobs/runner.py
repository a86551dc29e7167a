"""Background jobs of an app server (download and build, training, and any kind registered),
run one at a time per lane, with their state and progress in the store.

Each app server process has one :class:`JobRunner` per store (:func:`runner`). A request
(:meth:`JobRunner.submit`) is refused with one line saying what runs when a job of the same kind
is running on any server (its job lock is held: a PostgreSQL advisory lock, or a file lock on
SQLite, :mod:`recsys.jobs.locks`) or already queued on this one; otherwise it is queued and this
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

import contextvars
import importlib
import logging
import os
import queue
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from recsys.config import Settings
from recsys.errors import CineBlendError
from recsys.jobs.fence import Fence, Fenced, running_under
from recsys.jobs.locks import Held, exclusive, is_held
from recsys.progress import OverallProgress, Phase, Progress, null_progress
from recsys.store import Store
from recsys.store import jobs as rows
from recsys.store.jobs import Job

log = logging.getLogger(__name__)

#: Seconds between two progress writes of one job within one stage (a new stage is written at once).
REPORT_INTERVAL_S = 0.5


class JobRefused(CineBlendError):
    """A job of this kind is running (on some server) or queued (on this one)."""


class JobCancelled(CineBlendError):
    """Someone cancelled the running job; it stops at its next progress report."""


#: Seconds between two checks of a queued job waiting for its kind's lock (another server runs one).
LOCK_POLL_S = 1.0

_JOB: contextvars.ContextVar[Job | None] = contextvars.ContextVar("cineblend_job", default=None)
_RESULT: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("cineblend_job_result", default=None)


def current() -> Job | None:
    """The job this thread runs (its ``params`` say what to do), or None outside a job."""
    return _JOB.get()


def set_result(result: dict[str, Any]) -> None:
    """Record what the running job made (stored with its row when it ends done)."""
    _RESULT.set(result)


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
    #: True: at most one job of the kind queued or running (a second request is refused). False:
    #: requests queue up (``admit`` decides who may add one) and run one at a time.
    single: bool = True
    #: Refuses a request (JobRefused) from ``requested_by`` with ``params``: per-user limits.
    admit: Callable[[Store, str | None, dict[str, Any] | None], None] | None = None
    #: Whether the requester's role (read from the store, at the request and again when the job
    #: starts) allows it; ``None``: anyone.
    may_run: Callable[[str | None], bool] | None = None
    #: What a refused requester is told.
    not_allowed: str = "You may not start this job."


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


#: Where an app server's jobs run: ``worker`` (default): in a worker process (``python -m recsys
#: worker``; the app starts a local one when none is alive); ``thread``: in the server's own
#: threads (tests that hook a job inside the server).
JOBS_ENV = "CINEBLEND_JOBS"
#: A worker whose heartbeat is older than this is taken for dead (the app starts a local one).
WORKER_STALE_S = 15.0
#: Seconds between two looks of a worker at the queue (also its heartbeat).
WORKER_POLL_S = 1.0


#: How much lower than the web servers' a worker process's CPU priority is (``nice``; 0: the same).
WORKER_NICE_ENV = "CINEBLEND_WORKER_NICE"
WORKER_NICE = 10


def lower_priority() -> int:
    """Lower this (worker) process's CPU priority by ``CINEBLEND_WORKER_NICE`` (default
    :data:`WORKER_NICE`) so that, on a machine it shares with app servers, a click's run gets the
    CPU before an evaluation's next step; returns the niceness now. Measured with
    ``bench/click_latency.py --during-job`` on the mirror (2 cores shared with other work, 40
    clicks a block): feed click p50 during an evaluation / idle 1.87x and 1.15x in two runs at
    niceness 0, 1.06x and 1.06x at 10 (the bare-button floor moved 2.3x, 1.4x, 1.2x, 1.1x with the
    machine's load). The price: under contention the evaluation itself runs slower.
    """
    try:
        step = int(os.environ.get(WORKER_NICE_ENV, WORKER_NICE))
    except ValueError:
        step = WORKER_NICE
    try:
        return os.nice(max(step, 0))
    except OSError as exc:  # not allowed here: run at the same priority
        log.warning("could not lower the worker's priority: %s", exc)
        return os.nice(0)


def jobs_mode() -> str:
    mode = os.environ.get(JOBS_ENV, "worker").strip().lower()
    return mode if mode in ("worker", "thread") else "worker"


class JobRunner:
    """The background jobs of one app server process on one store (``mode`` thread: run here;
    worker: only queued here, a worker process runs them)."""

    def __init__(self, settings: Settings, store: Store, server: str = SERVER_ID, mode: str = "thread") -> None:
        self.settings = settings
        self.store = store
        self.server = server
        self.mode = mode
        self._spawned: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending: set[int] = set()  # queued or running here
        self._queues: dict[str, queue.Queue[int]] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._forget_previous_life()

    # -- requests ----------------------------------------------------------------------------

    def submit(
        self,
        kind: str,
        requested_by: str | None,
        params: dict[str, Any] | None = None,
        estimate_s: float | None = None,
    ) -> Job:
        """Queue a job of ``kind`` (with ``params``, JSON, and its expected wall time); raises
        JobRefused (one line saying why) when the requester's role does not allow it, when a
        single-run kind is running anywhere or queued, or when the kind's ``admit`` refuses."""
        spec = KINDS[kind]
        if not self._may_run(spec, requested_by):
            raise JobRefused(spec.not_allowed)
        with self._lock:
            if spec.single:
                for job in rows.active(self.store, (kind,)):
                    if job.server == self.server and job.id in self._pending:
                        raise JobRefused(f"{describe(job)} Wait for it to finish.")
                    if job.state == rows.RUNNING and self._lock_held(kind):
                        raise JobRefused(f"{describe(job)} Wait for it to finish.")
                    if job.state == rows.QUEUED and self.mode == "worker":
                        raise JobRefused(f"{describe(job)} Wait for it to finish.")
                    if job.state == rows.RUNNING or job.server == self.server:
                        rows.abandon(self.store, [job.id])  # its server is gone
            if spec.admit is not None:
                spec.admit(self.store, requested_by, params)
            job = rows.enqueue(
                self.store, kind, requested_by=requested_by, server=self.server, params=params, estimate_s=estimate_s
            )
            if self.mode == "thread":
                self._pending.add(job.id)
                self._queue(spec.lane).put(job.id)
        if self.mode == "worker":
            self.ensure_worker()
        log.info("queued %s job %d for %s", kind, job.id, requested_by)
        return job

    # -- worker processes --------------------------------------------------------------------

    def ensure_worker(self) -> None:
        """Start a local worker process (``python -m recsys worker``) unless one is alive on this
        store (a heartbeat in the last :data:`WORKER_STALE_S`): a single-machine install needs
        no separate worker, and its jobs still run outside the web server."""
        if workers_alive(self.store):
            return
        with self._lock:
            if self._spawned is not None and self._spawned.poll() is None:
                return
            log.info("no worker alive: starting a local one")
            self._spawned = subprocess.Popen(
                [sys.executable, "-m", "recsys", "worker", "--parent", str(os.getpid())],
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def serve(self, stop: threading.Event, parent_pid: int | None = None) -> None:
        """Be a worker: run queued jobs of every kind from every server, one at a time per lane,
        until ``stop`` is set (or ``parent_pid`` has exited and nothing runs here)."""
        load_kinds()
        lanes = sorted({k.lane for k in KINDS.values()})
        heartbeat = f"worker:{self.server}"
        threads = [
            threading.Thread(target=self._poll, args=(lane, stop), name=f"cineblend-worker-{lane}", daemon=True)
            for lane in lanes
        ]
        for thread in threads:
            thread.start()
        log.info("worker %s serving lanes %s", self.server, ", ".join(lanes))
        last_run: dict[str, float] = {}
        while not stop.wait(WORKER_POLL_S):
            try:
                beat(self.store, heartbeat, self.server)
            except CineBlendError as exc:
                log.warning("worker heartbeat failed: %s", exc)
            self._periodic(last_run)
            if parent_pid is not None and not _alive(parent_pid) and not self.busy():
                log.info("the app server that started this worker has stopped: the worker stops")
                stop.set()
        for thread in threads:
            thread.join()

    def _periodic(self, last_run: dict[str, float]) -> None:
        """Run each :data:`PERIODIC` task whose interval has passed (a worker's own schedule)."""
        now = time.monotonic()
        for name, (interval, task) in list(PERIODIC.items()):
            if now - last_run.get(name, -1e18) < interval():
                continue
            last_run[name] = now
            try:
                task(self.settings, self.store, self)
            except Exception:  # the worker must survive anything
                log.exception("periodic task %s failed", name)

    def _poll(self, lane: str, stop: threading.Event) -> None:
        kinds = tuple(k for k, spec in KINDS.items() if spec.lane == lane)
        while not stop.is_set():
            try:
                for job in rows.queued(self.store, kinds):
                    with self._idle:
                        self._pending.add(job.id)
                    try:
                        self._run(job.id)
                    finally:
                        with self._idle:
                            self._pending.discard(job.id)
                            self._idle.notify_all()
                    if stop.is_set():
                        break
            except Exception:  # the worker must survive anything
                log.exception("worker lane %s failed", lane)
            stop.wait(WORKER_POLL_S)

    def cancel(self, job_id: int, by: str | None, *, any_job: bool = False) -> rows.Job | None:
        """Ask job ``job_id`` to stop (``by`` must have requested it unless ``any_job``, an
        admin); None when there is no such active job of theirs. Works from any server."""
        job = rows.get(self.store, job_id)
        if job is None or not job.active or (not any_job and job.requested_by != by):
            return None
        log.info("%s job %d: cancel requested by %s", job.kind, job_id, by)
        return rows.request_cancel(self.store, job_id)

    def _may_run(self, spec: JobKind, requested_by: str | None) -> bool:
        if spec.may_run is None:
            return True
        user = self.store.get_user(requested_by) if requested_by else None
        return user is not None and spec.may_run(user.role)

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
        try:
            with self._kind_lock(job, spec) as held:
                if held is None:
                    return  # cancelled while it waited for the lock
                self._run_locked(job, spec, held)
        except CineBlendError as exc:  # the lock refused (single-run kinds) or the store failed
            log.warning("%s job %d failed: %s", job.kind, job_id, exc)
            rows.finish(self.store, job_id, error=str(exc))
        except Exception as exc:
            log.exception("%s job %d failed", job.kind, job_id)
            rows.finish(
                self.store, job_id, error=f"Unexpected error ({type(exc).__name__}: {exc}); see the server log."
            )

    @contextmanager
    def _kind_lock(self, job: Job, spec: JobKind) -> Iterator[Held | None]:
        """The kind's lock: refused at once for single-run kinds; queued kinds wait for it
        (another server runs one), checking every :data:`LOCK_POLL_S` whether they were cancelled."""
        path = job_lock(self.settings, job.kind)
        while True:
            try:
                with exclusive(path, spec.what, JobRefused, store_url=self.settings.store_url) as held:
                    yield held
                    return
            except JobRefused:
                if spec.single:
                    raise
            current = rows.get(self.store, job.id)
            if current is None or current.state != rows.QUEUED:
                yield None
                return
            time.sleep(LOCK_POLL_S)

    def _run_locked(self, job: Job, spec: JobKind, held: Held) -> None:
        job_id = job.id
        if not self._may_run(spec, job.requested_by):  # the role was taken away while it waited
            rows.abandon(self.store, [job_id], f"Not started: {spec.not_allowed}")
            return
        fence = Fence(self.store, job.kind, self.server, job_id, held.alive)
        if not rows.start(self.store, job_id, server=self.server, fence=fence.token):
            return  # cancelled meanwhile, or another worker took it
        _abandon_others(self.store, job.kind, job_id)
        started = rows.get(self.store, job_id) or job
        log.info("%s job %d started (lease generation %d)", job.kind, job_id, fence.generation)
        sink = _reporter(self.store, job_id, fence)
        result: dict[str, Any] | None = None
        try:
            with fence, running_under(fence):
                job_token, result_token = _JOB.set(started), _RESULT.set(None)
                try:
                    spec.run(self.settings, OverallProgress(spec.phases(self.settings), sink))
                    result = _RESULT.get()
                finally:
                    _JOB.reset(job_token)
                    _RESULT.reset(result_token)
                fence.verify()  # a job that lost its lock at the very end does not claim success
        except JobCancelled as exc:
            log.info("%s job %d cancelled", job.kind, job_id)
            rows.finish(self.store, job_id, error=str(exc) or rows.CANCELLED, fence=fence.token)
        except CineBlendError as exc:
            log.warning("%s job %d failed: %s", job.kind, job_id, exc)
            if not rows.finish(self.store, job_id, error=str(exc), fence=fence.token):
                log.warning("%s job %d: superseded; its row is left as the newer job wrote it", job.kind, job_id)
        except Exception as exc:
            log.exception("%s job %d failed", job.kind, job_id)
            rows.finish(
                self.store,
                job_id,
                error=f"Unexpected error ({type(exc).__name__}: {exc}); see the server log.",
                fence=fence.token,
            )
        else:
            if rows.finish(self.store, job_id, fence=fence.token, result=result):
                log.info("%s job %d done", job.kind, job_id)
            else:
                log.warning("%s job %d ended after losing its lease; its end was not recorded", job.kind, job_id)

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
            if job.state == rows.QUEUED and self.mode != "thread":
                continue  # waits for a worker: survives its web server's restart
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


def beat(store: Store, name: str, holder: str) -> None:
    """A worker's heartbeat (its lease row's renewal time)."""
    from recsys.jobs.fence import touch

    touch(store, name, holder)


def workers_alive(store: Store) -> bool:
    """Whether some worker process's heartbeat on this store is fresh."""
    from recsys.jobs.fence import fresh_holders

    return bool(fresh_holders(store, "worker:", WORKER_STALE_S))


#: Modules that register job kinds, periodic tasks or training hooks on import (plugins: they
#: import this module, never the other way round, so they are named here and loaded by name).
KIND_MODULES: tuple[str, ...] = ("recsys.evaluation.jobs", "recsys.jobs.retrain")

#: Tasks a worker process runs every so often, by name: (seconds between two runs, called
#: each time; task(settings, store, runner)). The retraining schedule registers one.
PERIODIC: dict[str, tuple[Callable[[], float], Callable[[Settings, Store, JobRunner], object]]] = {}
#: Called after a training job published a model version: hook(settings, version, the moment
#: the training started reading the ratings).
TRAINED: list[Callable[[Settings, str, datetime], None]] = []


def load_kinds() -> None:
    """Register the kinds defined outside this module (the lab's evaluate and tune)."""
    for name in KIND_MODULES:
        importlib.import_module(name)


def runner(settings: Settings, store: Store) -> JobRunner:
    """This process's runner for the store at ``settings.store_url`` (created once)."""
    load_kinds()
    key = (settings.store_url, str(settings.data_dir.resolve()))
    with _RUNNERS_LOCK:
        if key not in _RUNNERS:
            _RUNNERS[key] = JobRunner(settings, store, mode=jobs_mode())
        return _RUNNERS[key]


@contextmanager
def recorded(settings: Settings, kind: str, requested_by: str, progress: Progress | None = None) -> Iterator[Progress]:
    """Run a job of ``kind`` in this process, in the block (the CLI's ``train``): it holds the
    kind's job lock (JobRefused with what runs when one runs anywhere), has its row in the store
    like a data page job, and the yielded Progress (for the kind's first phase) also feeds
    ``progress``. A failure in the block marks the row failed and propagates."""
    spec = KINDS[kind]
    with (
        exclusive(job_lock(settings, kind), spec.what, JobRefused, store_url=settings.store_url) as held,
        Store.open(settings.store_url) as store,
    ):
        job = rows.enqueue(store, kind, requested_by=requested_by, server=SERVER_ID)
        fence = Fence(store, kind, SERVER_ID, job.id, held.alive)
        rows.start(store, job.id, fence=fence.token)
        _abandon_others(store, kind, job.id)
        phases = spec.phases(settings)
        overall = OverallProgress(phases, _reporter(store, job.id, fence)).phase(phases[0].name)
        echo = progress or null_progress

        def both(stage: str, done: float, total: float | None) -> None:
            echo(stage, done, total)
            overall(stage, done, total)

        with fence, running_under(fence):
            try:
                yield both
                fence.verify()
            except BaseException as exc:
                rows.finish(store, job.id, error=str(exc) or type(exc).__name__, fence=fence.token)
                raise
        rows.finish(store, job.id, fence=fence.token)


def _abandon_others(store: Store, kind: str, job_id: int) -> None:
    """Called with the kind's lock held: any other row of the kind still "running" belongs to a
    process that died (it would hold the lock)."""
    rows.abandon(store, [j.id for j in rows.active(store, (kind,)) if j.state == rows.RUNNING and j.id != job_id])


def _reporter(store: Store, job_id: int, fence: Fence | None = None) -> Callable[[str, float], None]:
    """A progress sink writing to the job's row: a new stage at once, counts within a stage at
    most every :data:`REPORT_INTERVAL_S`. It is also where a running job stops: it raises Fenced
    once the job's lock or lease is lost (or its row was closed by another server) and
    JobCancelled once someone asked it to stop (read with each write)."""
    last: dict[str, float] = {}

    def sink(text: str, fraction: float) -> None:
        if fence is not None:
            fence.check()
        now, stage = time.monotonic(), text.split(" (")[0]
        if stage not in last or now - last[stage] >= REPORT_INTERVAL_S:
            last.clear()
            last[stage] = now
            written = rows.report(store, job_id, text, fraction, fence.token if fence else None)
            if not written and fence is not None:
                fence.verify()
                raise Fenced("Stopped: another server closed this job's row; nothing of it was published.")
            if rows.cancel_requested(store, job_id):
                raise JobCancelled(rows.CANCELLED)

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
    from recsys.app.pipeline import train_model
    from recsys.catalog.build import build
    from recsys.catalog.download import fetch

    progress.enter("fetch")
    fetch(settings, progress=progress.phase("fetch"))
    progress.enter("build")
    build(settings, progress=progress.phase("build"))
    progress.enter("train")
    train_model(settings, progress=progress.phase("train"))


def _train(settings: Settings, progress: OverallProgress) -> None:
    from recsys.app.pipeline import train_model
    from recsys.store.schema import utcnow

    progress.enter("train")
    started = utcnow()  # the ratings it reads end here (or a little later: never earlier)
    path = train_model(settings, progress=progress.phase("train"))
    for hook in TRAINED:
        hook(settings, path.name, started)


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
        done="Catalogue and recommender ready.",
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
