"""The lab's jobs (an evaluation, ``tune``) on the store-backed job runner (:mod:`recsys.jobs.runner`),
and the small API the lab page calls: :func:`enqueue_evaluation`, :func:`enqueue_tune`,
:func:`status`, :func:`cancel`.

Both kinds run on the ``lab`` lane, one at a time per worker, and hold the same lock as the CLI's
``evaluate`` / ``tune`` (:func:`lock_path`, keyed by the store URL: an advisory lock on
PostgreSQL), so a page run and a CLI run never overlap on any server. Their rows are in the
store: every server's lab shows a run queued or running anywhere, and its requester (or an admin)
can cancel it from any server (the job stops at its next progress report, within a second or
two, and stores nothing). Limits kept from the in-memory queue this replaces, now counted in the
store so every server counts the same: one active lab job per user, at most
:data:`~recsys.evaluation.background.RUNS_PER_WINDOW` started per
:data:`~recsys.evaluation.background.WINDOW_S` per user. ``tune`` is for analysts and admins
(checked when requested and again when it starts).

A demo session's run "with app users' ratings" reads the shared store's ratings, as it did before
the job runner (:class:`recsys.app.demo.DemoStore` routes ``all_interactions`` to the shared store):
the persona's own clicks live in that browser session only, which a worker process cannot see,
and they are no app user's ratings.

Progress text is in plain words (:func:`plain_stage`: "Scoring 603 test users"); the job's
fraction is the share of the whole run's work done (:mod:`recsys.evaluation.pace`). The time left
(:func:`status`) blends the estimate (the stage schedule scaled by the data size, then by how long
the last runs on this store took against their own estimates: :func:`calibrated`) with the run's
own pace, which takes over from 15% of the work on. Measured with ``bench/time_left.py`` on the
mirror (see :mod:`recsys.evaluation.pace`).

Example::

    job = enqueue_evaluation(settings, store, "ada", EvaluationConfig(), estimate_s=45.0)
    status(store, job.id).text      # "Scoring 603 test users: about 30 s left"
    cancel(settings, store, job.id, "ada")
"""

from __future__ import annotations

import logging
import re
import statistics
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from recsys.access import roles
from recsys.config import Settings
from recsys.errors import EvaluationError, ModelError
from recsys.evaluation import visitors
from recsys.evaluation.background import RUNS_PER_WINDOW, WINDOW_S, human_seconds
from recsys.evaluation.config import EvaluationConfig
from recsys.evaluation.pace import Schedule, evaluation_schedule, evaluation_seconds, time_left, tune_schedule
from recsys.jobs import runner as jobs
from recsys.progress import OverallProgress, Phase, Progress
from recsys.store import Store
from recsys.store import jobs as rows
from recsys.store.schema import utcnow

log = logging.getLogger(__name__)

EVALUATE = "evaluate"
TUNE = "tune"
LAB_JOBS = (EVALUATE, TUNE)
LANE = "lab"
#: How many finished runs of a kind scale the next estimate (their median actual / estimated).
CALIBRATION_RUNS = 5
#: The scale factor is kept within these bounds (a run on an idle machine, one on a loaded one).
CALIBRATION_BOUNDS = (0.3, 3.0)

TUNE_NOT_ALLOWED = "Only analysts and admins may run tune; ask an admin to grant you the analyst role."


def lock_path(settings: Settings, kind: str) -> Path:
    """The one lock of an evaluation / tuning, whoever runs it (page job, CLI)."""
    return jobs.job_lock(settings, kind)


# -- plain words ---------------------------------------------------------------------------------

_SPLIT = re.compile(r"\((validation|test)\)")


def plain_stage(stage: str, done: float, total: float | None) -> str:
    """What an evaluation or tuning stage means to a person.

    >>> plain_stage("evaluate: scoring", 10, 603)
    'Scoring 603 test users'
    >>> plain_stage("evaluation: scoring users (validation)", 400, 2000)
    'Scoring and ranking users (validation split): 400 of 2,000'
    >>> plain_stage("tune: ALS grid", 2, 12)
    'Trying ALS settings (3 of 12)'
    """
    n = int(total or 0)
    split = _SPLIT.search(stage)
    on = f" ({split.group(1)} split)" if split else ""
    if stage.startswith("evaluation: scoring users"):
        return f"Scoring and ranking users{on}: {int(done):,} of {n:,}"
    if stage.startswith("evaluate: scoring"):
        return f"Scoring {n:,} test users{on}"
    if stage.startswith("evaluate: users"):
        return f"Preparing {n:,} test users{on}"
    if stage.startswith("evaluation: loading data"):
        return "Loading the ratings"
    if stage.startswith("evaluation: fitting models"):
        return "Fitting the models"
    if stage.startswith("evaluation: models"):
        return f"Ranking with each model{on}"
    if stage.startswith("evaluation: ranking stages"):
        return f"Trying the ranking-stage settings ({min(int(done) + 1, n)} of {n})" if n else "Trying ranking stages"
    if stage.startswith("evaluation: served lists"):
        return "Ranking the served lists at the longest cut-off (test split)"
    if stage.startswith("evaluation: segments"):
        return "Measuring segments and new users"
    if stage.startswith("new users"):
        return "Simulating new users " + stage.removeprefix("new users ").strip()
    if stage.startswith("tune: loading data"):
        return "Loading the ratings"
    if stage.startswith("tune: splitting"):
        return "Splitting the ratings (validation and test)"
    if stage.startswith("tune: catalogue scorers"):
        return "Fitting the catalogue scorers"
    if stage.startswith("tune: hybrid"):
        return "Scoring validation users with the best ALS settings"
    if stage.startswith("tune: test"):
        return "Checking the chosen settings on the test split"
    if stage.startswith("tune: ALS grid"):
        return f"Trying ALS settings ({min(int(done) + 1, n)} of {n})" if n else "Trying ALS settings"
    if stage.startswith("tune: weight grid"):
        return f"Trying weight combinations ({min(int(done) + 1, n)} of {n})" if n else "Trying weight combinations"
    text = stage.split(": ", 1)[-1]
    return text[:1].upper() + text[1:]


def _plain(progress: Progress, schedule: Schedule) -> Progress:
    """Reports in plain words, with the whole job's fraction done (:mod:`recsys.evaluation.pace`)
    as the one count the job's row keeps."""
    tracker = schedule.tracker()

    def report(stage: str, done: float, total: float | None) -> None:
        progress(plain_stage(stage, done, total), tracker(stage, done, total), 1.0)

    return report


# -- the jobs ------------------------------------------------------------------------------------


def _params() -> dict[str, Any]:
    job = jobs.current()
    if job is None or job.params is None:
        raise EvaluationError("This job has no settings; queue it again from the lab.")
    return job.params


def _run_evaluation(settings: Settings, progress: OverallProgress) -> None:
    from recsys.catalog.queries import Catalog
    from recsys.evaluation import runner, runs
    from recsys.models.service import Recommender

    params = _params()
    job = jobs.current()
    config = EvaluationConfig.from_dict(params["config"])
    report = _plain(progress.phase("run"), evaluation_schedule(config))
    name, notes = params.get("name"), params.get("notes")
    who = job.requested_by if job else None
    with Catalog(settings.parquet_dir) as catalog, Store.open(settings.store_url) as store:
        try:
            recommender: Recommender | None = Recommender.load_latest(settings.models_dir)
        except ModelError:
            recommender = None  # the run fits its own content model
        try:
            result = runner.evaluate_catalogue(
                config, catalog=catalog, store=store, recommender=recommender, progress=report
            )
        except Exception as exc:  # kept in the run history with its reason, then reported as before
            cancelled = isinstance(exc, jobs.JobCancelled)
            reason = "Cancelled before it finished; no figures." if cancelled else str(exc) or type(exc).__name__
            outcome = "cancelled" if cancelled else "failed"
            runs.record_failure(store, config, who, outcome, reason, name=name, notes=notes)
            raise
        report("saving the run", 1, 1)
        run_id = runs.save(
            store,
            result,
            name=name,
            notes=notes,
            created_by=who,
            model_version=(recommender.version or "unsaved") if recommender is not None else "none",
            catalogue_build=runner.catalogue_stamp(settings.parquet_dir),
            dataset=runs.dataset_label(settings.movielens_url, config.with_app_data, config.sample_users)
            + (", TV only" if config.tv_only else ""),
        )
    jobs.set_result({"run_id": run_id})


def _run_tune(settings: Settings, progress: OverallProgress) -> None:
    from recsys.catalog.queries import Catalog
    from recsys.evaluation.runner import evaluation_ratings
    from recsys.evaluation.tuning import TuneConfig, tune, write_tuned

    params = _params()
    config = TuneConfig.quick() if params.get("quick") else TuneConfig()
    from recsys.models.artifacts import latest_version

    # the catalogue scorers are reused when there is a live model (fitted on this catalogue)
    report = _plain(
        progress.phase("run"), _tune_schedule(config, reused=latest_version(settings.models_dir) is not None)
    )
    report("tune: loading data", 0, 2)
    with Catalog(settings.parquet_dir) as catalog:
        titles = catalog.all_titles()
        ratings = evaluation_ratings(catalog.movielens_ratings(in_catalog_only=True), None, titles["tconst"].to_list())
    report("tune: loading data", 1, 2)
    reuse = _live_catalogue_scorers(settings, titles)
    report("tune: loading data", 2, 2)
    result = tune(titles, ratings, config, reuse=reuse, progress=report)
    path = write_tuned(result, settings.models_dir)
    jobs.set_result({"tuned": str(path.name), "summary": result.render().splitlines()[:3]})


def _live_catalogue_scorers(settings: Settings, titles: Any) -> dict[str, Any]:
    """The live model's catalogue-only scorers (TF-IDF content, IMDb popularity) when they were
    fitted on this catalogue with the settings ``tune`` uses: refitting them cost 9-11 s of a
    14-29 s quick tune on the mirror, reusing them about 1 s (the model's load)."""
    from recsys.models import registry
    from recsys.models.config import RecommenderConfig, catalogue_fingerprint
    from recsys.models.service import Recommender

    try:
        model = Recommender.load_latest(settings.models_dir)
    except ModelError:
        return {}
    if model.catalogue != catalogue_fingerprint(titles):
        return {}
    base = RecommenderConfig()
    return {
        name: scorer
        for name, scorer in model.hybrid.scorers.items()
        if name in registry.SCORERS
        and model.config.scorer_config(name) == base.scorer_config(name)
        and registry.SCORERS[name].depends_on_catalogue_only(base.scorer_config(name))
    }


def _tune_schedule(config: Any, *, reused: bool = True) -> Schedule:
    return tune_schedule(len(config.factors) * len(config.regularization), len(config.weight_grid()), reused=reused)


def tune_estimate_s(quick: bool) -> float:
    """``tune``'s expected wall time on the mirror (its schedule's seconds)."""
    from recsys.evaluation.tuning import TuneConfig

    return _tune_schedule(TuneConfig.quick() if quick else TuneConfig()).total


def _admit(store: Store, requested_by: str | None, params: dict[str, Any] | None) -> None:
    """One active lab job per user; at most RUNS_PER_WINDOW requested per WINDOW_S; a demo
    visitor's run within the demo bounds and limits (:func:`recsys.evaluation.visitors.admit`)."""
    visitors.admit(store, params)
    if requested_by is None:
        return
    mine = [j for j in rows.active(store, LAB_JOBS) if j.requested_by == requested_by]
    if mine:
        raise jobs.JobRefused("You already have an evaluation queued or running; wait for it or cancel it.")
    now = utcnow()
    starts = rows.requested_since(store, LAB_JOBS, requested_by, now - timedelta(seconds=WINDOW_S))
    if len(starts) >= RUNS_PER_WINDOW:
        wait = WINDOW_S - (now - starts[-RUNS_PER_WINDOW]).total_seconds()
        raise jobs.JobRefused(
            f"At most {RUNS_PER_WINDOW} evaluations per {WINDOW_S / 60:g} minutes per user; "
            f"try again in {human_seconds(max(wait, 1)).removeprefix('about ')}."
        )


_RUN = [Phase("run", "")]  # the text is the plain stage alone

jobs.register(
    jobs.JobKind(
        EVALUATE,
        "Evaluation",
        "evaluation",
        phases=lambda settings: _RUN,
        run=_run_evaluation,
        lane=LANE,
        done="Evaluation stored.",
        single=False,
        admit=_admit,
    )
)
jobs.register(
    jobs.JobKind(
        TUNE,
        "Tune",
        "tuning",
        phases=lambda settings: _RUN,
        run=_run_tune,
        lane=LANE,
        done="Tuned settings written; the next training uses them.",
        single=False,
        admit=_admit,
        may_run=roles.may_apply_weights,
        not_allowed=TUNE_NOT_ALLOWED,
    )
)


# -- the API the page calls ----------------------------------------------------------------------


def calibrated(store: Store, kind: str, raw_estimate_s: float) -> float:
    """``raw_estimate_s`` scaled by the median (actual / raw estimate) of the last
    :data:`CALIBRATION_RUNS` finished jobs of ``kind`` on this store (1 with none)."""
    ratios = []
    for job in rows.finished(store, kind, CALIBRATION_RUNS * 2):
        raw = (job.params or {}).get("raw_estimate_s")
        if raw and job.started_at and job.finished_at:
            ratios.append((job.finished_at - job.started_at).total_seconds() / float(raw))
        if len(ratios) >= CALIBRATION_RUNS:
            break
    if not ratios:
        return raw_estimate_s
    low, high = CALIBRATION_BOUNDS
    return raw_estimate_s * min(max(statistics.median(ratios), low), high)


def enqueue_evaluation(
    settings: Settings,
    store: Store,
    who: str,
    config: EvaluationConfig,
    estimate_s: float,
    *,
    name: str | None = None,
    notes: str | None = None,
    visitor: dict[str, Any] | None = None,
) -> rows.Job:
    """Queue an evaluation of ``config`` for ``who`` (JobRefused with the reason: one per user
    at a time, the rate limit). ``estimate_s`` is the cost model's figure; ``name`` / ``notes``
    go to the stored run (a failed or cancelled run is kept with them too); ``visitor`` (from
    :func:`recsys.evaluation.visitors.visitor_params`) marks a demo visitor's run."""
    raw = evaluation_seconds(config, estimate_s)
    params = {"config": config.to_dict(), "raw_estimate_s": raw, "name": name, "notes": notes}
    params.update(visitor or {})
    runner = jobs.runner(settings, store)
    return runner.submit(EVALUATE, who, params=params, estimate_s=calibrated(store, EVALUATE, raw))


def enqueue_tune(settings: Settings, store: Store, who: str, *, quick: bool = True) -> rows.Job:
    """Queue ``tune`` (``quick``: the small grid) for an analyst or admin ``who``."""
    raw = tune_estimate_s(quick)
    params = {"quick": bool(quick), "raw_estimate_s": raw}
    return jobs.runner(settings, store).submit(TUNE, who, params=params, estimate_s=calibrated(store, TUNE, raw))


def cancel(settings: Settings, store: Store, job_id: int, who: str, *, any_job: bool = False) -> bool:
    """Ask ``who``'s lab job to stop (an admin: ``any_job``); False when there is none."""
    return jobs.runner(settings, store).cancel(job_id, who, any_job=any_job) is not None


@dataclass(frozen=True)
class Status:
    """A lab job as the page shows it."""

    job: rows.Job
    text: str  # one line in plain words
    fraction: float  # for a bar (elapsed against the estimate while running)
    elapsed_s: float
    left_s: float | None  # None: unknown (queued, or no estimate)
    ahead: int  # lab jobs waiting or running before it

    @property
    def run_id(self) -> int | None:
        value = (self.job.result or {}).get("run_id")
        return int(value) if value is not None else None


def status(store: Store, job_id: int) -> Status | None:
    """The job's state for the page (from the store: any server's job), or None."""
    job = rows.get(store, job_id)
    if job is None:
        return None
    now = utcnow()
    if job.state == rows.QUEUED:
        ahead = rows.count_ahead(store, LAB_JOBS, job.id)
        text = f"Queued: {ahead} lab job{'s' if ahead != 1 else ''} ahead of yours."
        return Status(job, text, 0.0, 0.0, None, ahead)
    end = job.finished_at or now
    elapsed = (end - job.started_at).total_seconds() if job.started_at else 0.0
    if job.state == rows.RUNNING:
        reported = (job.updated_at - job.started_at).total_seconds() if job.started_at else None
        left = time_left(job.estimate_s, elapsed, job.fraction, reported)
        if left is None:
            tail = f"{elapsed:.0f} s so far"
        else:
            tail = f"{human_seconds(left)} left ({elapsed:.0f} s so far)"
        share = elapsed / (elapsed + left) if left is not None and elapsed + left > 0 else job.fraction
        text = f"{job.stage or 'Starting'}: {tail}"
        return Status(job, text, min(share, 0.99), elapsed, left, 0)
    if job.state == rows.DONE:
        run = (job.result or {}).get("run_id")
        text = f"Run {run} finished in {elapsed:.0f} s." if run is not None else f"Finished in {elapsed:.0f} s."
        return Status(job, text, 1.0, elapsed, 0.0, 0)
    return Status(job, job.error or "The job failed.", job.fraction, elapsed, None, 0)


def mine(store: Store, who: str) -> rows.Job | None:
    """``who``'s active lab job, if any (the page finds it again from any server)."""
    return next((j for j in rows.active(store, LAB_JOBS) if j.requested_by == who), None)
