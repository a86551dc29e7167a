"""Evaluations in the background: one at a time per server, queued, cancellable, rate-limited
per user, with a cost estimate from the data size (no streamlit here; the page polls).

:class:`EvaluationQueue` owns one worker thread that runs the submitted jobs in order; a job's
``work(progress)`` returns the stored run's id. The page keeps nothing but the job id: it can be
left and reopened while the run goes on. :meth:`EvaluationQueue.cancel` sets the job's flag, and
the job's progress callback raises :class:`Cancelled` at the next progress report (every stage
reports often), so a cancelled run stops within a second or two and stores nothing. Across
processes (the CLI and the app on one data folder) the job's ``work`` takes the evaluation lock
(:mod:`recsys.locks`), so two never run at once.

**Cost model** (:func:`estimate_seconds`): measured on ml-latest-small on the shared 2-core
machine (100k ratings, 600 tested users, 7,900 items: ALS fit 2-3 s, scoring 7 s for both
splits, 0.8 s per re-blended configuration, 8 s per new-user draw); each part scales with what
drives it: the fits with ratings x factors x iterations, scoring with users x items x scorers,
each evaluated configuration (models, sweep steps, grid cells) with users x items.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from recsys.errors import CineBlendError, EvaluationError
from recsys.evaluation.config import EvaluationConfig
from recsys.evaluation.grid import grid_points
from recsys.models import registry
from recsys.progress import Progress

log = logging.getLogger(__name__)

#: a run whose estimate passes this is "expensive": testers and demo sessions confirm first
EXPENSIVE_S = 60.0
#: per-user rate limit: at most this many evaluation runs started in the window
RUNS_PER_WINDOW = 6
WINDOW_S = 600.0

_FIT_S_PER_RATING_FACTOR_ITER = 8.5e-8
_SCORE_S_PER_USER_ITEM_SCORER = 2.0e-7
_EVAL_S_PER_USER_ITEM = 1.75e-7
_SPLIT_S_PER_RATING = 1.3e-5
_NEW_USER_OVERHEAD_S = 4.0


class Cancelled(EvaluationError):
    """The run was cancelled by its user."""


@dataclass(frozen=True)
class DataSize:
    """What an evaluation's cost depends on: ratings, users who can be tested, items."""

    ratings: int
    users: int
    items: int


def estimate_seconds(size: DataSize, config: EvaluationConfig) -> float:
    """A run's expected wall time in seconds on this class of machine (module docstring)."""
    users = min(size.users, config.sample_users) if config.sample_users else size.users
    share = users / size.users if size.users else 1.0
    ratings = size.ratings * share
    items = size.items
    scorers = len(registry.names())
    n_models = scorers + 3
    steps = len(config.sweep_weights())
    cells = len(grid_points(config.grid, config.grid_step, config.hybrid_weights)) if config.grid else 0
    fit = _FIT_S_PER_RATING_FACTOR_ITER * ratings * config.factors * config.iterations
    score = _SCORE_S_PER_USER_ITEM_SCORER * users * items * scorers
    evaluate = _EVAL_S_PER_USER_ITEM * users * items
    split = _SPLIT_S_PER_RATING * ratings
    total = split + 2 * (fit + score + evaluate * (n_models + steps)) + evaluate * cells
    if config.segments and config.new_user_draws:
        new_user = fit + split + _SCORE_S_PER_USER_ITEM_SCORER * min(users, 100) * items * scorers * 2
        total += config.new_user_draws * (new_user + _NEW_USER_OVERHEAD_S)
    return total


def human_seconds(s: float) -> str:
    """``"about 40 s"``, ``"about 3 min"``."""
    if s < 90:
        return f"about {max(1, round(s)):d} s"
    return f"about {round(s / 60):d} min"


@dataclass
class EvalJob:
    """One submitted evaluation; read by the page, written by the worker thread."""

    id: str
    user: str
    config: EvaluationConfig
    estimate_s: float
    work: Callable[[Progress], int] = field(repr=False)
    state: str = "queued"  # queued, running, done, failed, cancelled
    stage: str = ""
    done: float = 0.0
    total: float = 0.0
    submitted_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    run_id: int | None = None
    error: str | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event, repr=False)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    def elapsed(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.time()) - self.started_at

    def remaining(self) -> float:
        """Seconds left by the estimate (0 when it is already over)."""
        return max(self.estimate_s - self.elapsed(), 0.0)

    def fraction(self) -> float:
        """Share of the estimated time elapsed (capped below 1 until the run ends)."""
        if self.state == "done":
            return 1.0
        if not self.estimate_s:
            return 0.0
        return min(self.elapsed() / self.estimate_s, 0.99)

    def progress(self, stage: str, done: float, total: float | None) -> None:
        if self.cancel_requested.is_set():
            raise Cancelled("The evaluation was cancelled; nothing was stored.")
        self.stage, self.done, self.total = stage, float(done), float(total or 0)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends (tests, the CLI); True when it did."""
        return self.finished.wait(timeout)


class EvaluationQueue:
    """One worker thread running submitted evaluations one after another (module docstring)."""

    def __init__(self, runs_per_window: int = RUNS_PER_WINDOW, window_s: float = WINDOW_S) -> None:
        self.runs_per_window = runs_per_window
        self.window_s = window_s
        self._jobs: dict[str, EvalJob] = {}
        self._queue: queue.Queue[EvalJob] = queue.Queue()
        self._starts: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def submit(
        self, user: str, config: EvaluationConfig, estimate_s: float, work: Callable[[Progress], int]
    ) -> EvalJob:
        """Queue a run for ``user``; refuses (EvaluationError) a user who has a run queued or
        running, or who started :attr:`runs_per_window` runs in the last :attr:`window_s`."""
        now = time.time()
        with self._lock:
            if any(j.user == user and j.active for j in self._jobs.values()):
                raise EvaluationError("You already have an evaluation queued or running; wait for it or cancel it.")
            starts = self._starts.setdefault(user, deque())
            while starts and now - starts[0] > self.window_s:
                starts.popleft()
            if len(starts) >= self.runs_per_window:
                wait = self.window_s - (now - starts[0])
                raise EvaluationError(
                    f"At most {self.runs_per_window} evaluations per {self.window_s / 60:g} minutes per user; "
                    f"try again in {human_seconds(wait).removeprefix('about ')}."
                )
            starts.append(now)
            job = EvalJob(uuid.uuid4().hex[:12], user, config, estimate_s, work)
            self._jobs[job.id] = job
            self._queue.put(job)
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._run, name="cineblend-evaluation", daemon=True)
                self._worker.start()
        return job

    def get(self, job_id: str | None) -> EvalJob | None:
        return self._jobs.get(job_id) if job_id else None

    def position(self, job: EvalJob) -> int:
        """How many jobs run or wait before ``job`` (0: it is running or next)."""
        with self._lock:
            ahead = [j for j in self._jobs.values() if j.active and j.submitted_at < job.submitted_at]
        return len(ahead)

    def cancel(self, job_id: str, user: str) -> bool:
        """Ask ``user``'s job to stop; False when there is no such active job of theirs."""
        job = self._jobs.get(job_id)
        if job is None or job.user != user or not job.active:
            return False
        job.cancel_requested.set()
        return True

    def _run(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=5.0)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            self._execute(job)

    def _execute(self, job: EvalJob) -> None:
        if job.cancel_requested.is_set():
            job.state, job.error = "cancelled", "Cancelled before it started."
            job.finished_at = time.time()
            job.finished.set()
            return
        job.state, job.started_at = "running", time.time()
        try:
            job.run_id = job.work(job.progress)
            job.state = "done"
        except Cancelled as exc:
            job.state, job.error = "cancelled", str(exc)
        except CineBlendError as exc:  # e.g. no testable user, another process evaluating
            job.state, job.error = "failed", str(exc)
        except Exception as exc:  # a bug must not kill the worker: the page shows it
            log.exception("evaluation job %s failed", job.id)
            job.state, job.error = "failed", f"The evaluation failed: {exc}"
        finally:
            job.finished_at = time.time()
            job.finished.set()


#: The server's queue (one per process: Streamlit serves every session from one process).
QUEUE = EvaluationQueue()
