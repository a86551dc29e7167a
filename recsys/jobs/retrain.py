"""Scheduled retraining (issue 22 item 5): the worker retrains when enough new ratings have
arrived, or when the live model is older than a set interval, never twice at once.

**The schedule** (:class:`Schedule`): ``after_ratings`` (retrain once the live model has not seen
this many rating changes: new, changed or removed ratings) and ``every_s`` (retrain once the live
model is this old); either may be off. The server's defaults come from
``CINEBLEND_RETRAIN_AFTER_RATINGS`` (a count; 0 or unset: off) and ``CINEBLEND_RETRAIN_EVERY``
(``"6h"``, ``"30m"``, ``"1d"``, ``"90s"`` or seconds; unset: off); an admin's choice on the data
page is kept in the store (:data:`SETTING_KEY`) and then wins on every server and worker.

**What the live model has not seen** (:func:`unseen_ratings`): rating changes in the store
after the moment the training that made the live version read the ratings (recorded by the
training job, :func:`record_training`), else after the version's own time stamp.

**Never twice at once** (:func:`check`): every worker checks every :data:`CHECK_S` seconds; the
check holds the schedule's lock (an advisory lock on PostgreSQL, a file lock on SQLite:
:func:`recsys.jobs.locks.exclusive`), re-reads the training jobs inside it, and only queues a training
when none is queued or running; the training itself holds the training job's lock. A scheduled
training that failed is not tried again before :data:`RETRY_S`.

Example::

    schedule = Schedule(after_ratings=50, every_s=None)
    state = status(settings, store)      # state.unseen == 12, state.due is False
    check(settings, store, runner)       # queues a training once 50 are unseen
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from recsys.config import Settings
from recsys.errors import CineBlendError, ConfigError
from recsys.jobs import runner as jobs
from recsys.jobs.locks import BusyError, exclusive
from recsys.models.artifacts import latest_version
from recsys.store import Store
from recsys.store import jobs as rows
from recsys.store.engine import translate_errors
from recsys.store.schema import interaction_history, utcnow
from recsys.timefmt import parse_time

log = logging.getLogger(__name__)

AFTER_RATINGS_ENV = "CINEBLEND_RETRAIN_AFTER_RATINGS"
EVERY_ENV = "CINEBLEND_RETRAIN_EVERY"
#: Seconds between two looks of a worker at the schedule (``CINEBLEND_RETRAIN_CHECK_S`` in tests).
CHECK_S = 60.0
CHECK_ENV = "CINEBLEND_RETRAIN_CHECK_S"
#: A scheduled training that failed is not queued again before this many seconds.
RETRY_S = 600.0
#: The store setting holding an admin's schedule: ``{"after_ratings": int|None, "every_s": float|None}``.
SETTING_KEY = "retrain_schedule"
#: The store setting the training job writes: ``{"version": ..., "ratings_until": ISO time}``.
SEEN_KEY = "retrain_seen"
#: Who a scheduled training is requested by in the job row.
REQUESTED_BY = None
SCHEDULED = "the retraining schedule"

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$", re.IGNORECASE)
_UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_every(text: str | None) -> float | None:
    """``"6h"`` -> 21600.0; ``""`` / None / ``"0"`` -> None (off); anything else: ConfigError.

    >>> parse_every("90m"), parse_every("1d"), parse_every("45"), parse_every(None)
    (5400.0, 86400.0, 45.0, None)
    """
    if text is None or not str(text).strip():
        return None
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"{EVERY_ENV} must be a duration such as 30m, 6h or 1d (or seconds), got {text!r}.")
    seconds = float(match.group(1)) * _UNIT_S[match.group(2).lower()]
    return seconds or None


def parse_after(text: str | None) -> int | None:
    """``"50"`` -> 50; ``""`` / None / ``"0"`` -> None (off); anything else: ConfigError."""
    if text is None or not str(text).strip():
        return None
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ConfigError(f"{AFTER_RATINGS_ENV} must be a whole number of ratings, got {text!r}.") from None
    if value < 0:
        raise ConfigError(f"{AFTER_RATINGS_ENV} must not be negative, got {value}.")
    return value or None


def human_every(seconds: float | None) -> str:
    """``21600`` -> ``"6 h"``; None -> ``"off"``."""
    if not seconds:
        return "off"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


@dataclass(frozen=True)
class Schedule:
    after_ratings: int | None = None
    every_s: float | None = None
    source: str = "server settings"  # or "set by <admin> on <time>"

    @property
    def off(self) -> bool:
        return not self.after_ratings and not self.every_s


def env_schedule() -> Schedule:
    """The server's defaults (ConfigError for a value that is not a count or a duration)."""
    return Schedule(parse_after(os.environ.get(AFTER_RATINGS_ENV)), parse_every(os.environ.get(EVERY_ENV)))


def current_schedule(store: Store) -> Schedule:
    """The admin's schedule from the store when one was saved, else the server's defaults."""
    info = store.setting_info(SETTING_KEY)
    if info is None:
        return env_schedule()
    value, when, by = info
    value = value if isinstance(value, dict) else {}
    after = value.get("after_ratings")
    every = value.get("every_s")
    return Schedule(
        int(after) if after else None,
        float(every) if every else None,
        f"set by {by or 'an admin'} on {when.day} {when:%b %Y, %H:%M} UTC",
    )


def save_schedule(store: Store, after_ratings: int | None, every_s: float | None, by: str) -> Schedule:
    """Store an admin's schedule (every server and worker uses it from its next check)."""
    if after_ratings is not None and after_ratings < 0:
        raise ConfigError("The number of new ratings must not be negative.")
    if every_s is not None and every_s < 0:
        raise ConfigError("The interval must not be negative.")
    store.set_setting(SETTING_KEY, {"after_ratings": after_ratings or None, "every_s": every_s or None}, by)
    return current_schedule(store)


def record_training(store: Store, version: str, ratings_until: datetime) -> None:
    """What the training job calls once it has published ``version``: the ratings it read
    ended at ``ratings_until``."""
    store.set_setting(SEEN_KEY, {"version": version, "ratings_until": ratings_until.isoformat()}, "training")


def _seen_until(store: Store, version: str) -> datetime | None:
    seen = store.get_setting(SEEN_KEY)
    if isinstance(seen, dict) and seen.get("version") == version:
        return parse_time(str(seen.get("ratings_until")))
    return parse_time(version)


def unseen_ratings(store: Store, since: datetime | None) -> int:
    """Rating changes (new, changed, removed) stored after ``since`` (all of them when None)."""
    stmt = select(func.count()).select_from(interaction_history)
    if since is not None:
        stmt = stmt.where(interaction_history.c.created_at > since)
    with translate_errors(store.engine.url), store.engine.connect() as conn:
        return int(conn.scalar(stmt) or 0)


@dataclass(frozen=True)
class Status:
    """What the data page shows and what the check decides from."""

    schedule: Schedule
    version: str | None  # the live model version (None: none yet)
    trained_at: datetime | None
    unseen: int
    next_due: datetime | None  # by the interval (None: no interval)
    due: bool
    reason: str  # why it is due, or why not, in one line
    active: rows.Job | None  # a training queued or running


def status(settings: Settings, store: Store, now: datetime | None = None) -> Status:
    now = now or utcnow()
    schedule = current_schedule(store)
    version = latest_version(settings.models_dir)
    trained_at = _seen_until(store, version) if version else None
    unseen = unseen_ratings(store, trained_at)
    active = next(iter(rows.active(store, (jobs.TRAIN, jobs.FETCH_BUILD))), None)
    next_due = trained_at + timedelta(seconds=schedule.every_s) if schedule.every_s and trained_at else None
    due, reason = False, "Scheduled retraining is off."
    if version is None:
        reason = "No trained model yet: train one first."
    elif active is not None:
        reason = "A training is queued or running."
    elif schedule.after_ratings and unseen >= schedule.after_ratings:
        due, reason = True, f"{unseen:,} ratings not seen by the live model (threshold {schedule.after_ratings:,})."
    elif next_due is not None and now >= next_due:
        due, reason = True, f"The live model is older than {human_every(schedule.every_s)}."
    elif not schedule.off:
        reason = "Not due yet."
    if due:
        failed = _recent_failure(store, now)
        if failed is not None:
            due, reason = False, f"The last scheduled training failed ({failed}); trying again later."
    return Status(schedule, version, trained_at, unseen, next_due, due, reason, active)


def _recent_failure(store: Store, now: datetime) -> str | None:
    for job in rows.recent(store, (jobs.TRAIN,), 1):
        scheduled = (job.params or {}).get("scheduled")
        if (
            scheduled
            and job.state == rows.FAILED
            and job.finished_at
            and (now - job.finished_at).total_seconds() < RETRY_S
        ):
            return job.error or "failed"
    return None


def lock_path(settings: Settings) -> Path:
    return settings.data_dir / ".retrain-schedule.lock"


def check(settings: Settings, store: Store, runner: jobs.JobRunner, now: datetime | None = None) -> rows.Job | None:
    """Queue a training when one is due (the job, or None). Under the schedule's lock, so two
    workers checking at once queue at most one; the training jobs are re-read inside it."""
    try:
        with exclusive(lock_path(settings), "retraining schedule", store_url=settings.store_url):
            state = status(settings, store, now)
            if not state.due:
                return None
            job = runner.submit(jobs.TRAIN, REQUESTED_BY, params={"scheduled": True, "reason": state.reason})
            log.info("scheduled retraining queued (job %d): %s", job.id, state.reason)
            return job
    except BusyError:
        return None  # another worker is checking right now
    except CineBlendError as exc:
        log.warning("scheduled retraining not queued: %s", exc)
        return None


def check_interval() -> float:
    try:
        return max(float(os.environ.get(CHECK_ENV, CHECK_S)), 0.1)
    except ValueError:
        return CHECK_S


def _record(settings: Settings, version: str, started: datetime) -> None:
    with Store.open(settings.store_url) as store:
        record_training(store, version, started)


def _check_task(settings: Settings, store: Store, runner: jobs.JobRunner) -> None:
    check(settings, store, runner)


jobs.PERIODIC["retrain"] = (check_interval, _check_task)
if _record not in jobs.TRAINED:
    jobs.TRAINED.append(_record)
