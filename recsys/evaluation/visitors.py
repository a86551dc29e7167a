"""Lab limits for demo visitors: people trying a persona without an account (issue 21, N8).

A demo visitor shares the server with the testers, so their evaluations are bounded to cost no
more than a default run, and counted per browser session and per client address (not per persona
name, which every visitor of that persona shares), in the store's ``jobs`` rows: every server
counts the same and a restart forgets nothing.

Bounds (:func:`demo_problems`, enforced when the job is admitted, :func:`bounded` for the page):
a seeded sample of at most :data:`SAMPLE_USERS` users, no 2-D grid, no segments or new-user
draws, no plain-hybrid timing, ALS factors and iterations at most the defaults, at most
no finer sweep than :data:`SWEEP_STEP`. Measured with the cost model
(:func:`recsys.evaluation.background.estimate_seconds`) on the mirror's data size (100,626
ratings, 610 users, 9,622 titles): a default run is ~16 s; the costliest run a demo visitor
could queue before (factors 256, iterations 50, sweep step 0.05, grid step 0.1, 10 new-user draws)
is 4.7x that (the audit measured 5.2x in wall time); the costliest bounded run is 0.26x
(``tests/evaluation/test_visitors.py``).

Limits (:func:`admit`): one active lab job per session and per client; at most
:data:`RUNS_PER_SESSION` runs per session and :data:`RUNS_PER_CLIENT` per client in
:data:`~recsys.evaluation.background.WINDOW_S`.

Example: ``visitor_params("3f2a...", "203.0.113.9")`` goes into the job's params as
``{"visitor": {"session": "<sha256 prefix>", "client": "203.0.113.9"}}``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta
from typing import Any

from recsys.evaluation.background import WINDOW_S, human_seconds
from recsys.evaluation.config import _ALS_DEFAULTS, EvaluationConfig
from recsys.jobs.runner import JobRefused
from recsys.store import Store
from recsys.store import jobs as rows
from recsys.store.schema import utcnow

#: Users a demo evaluation samples (seeded): a quick, representative run.
SAMPLE_USERS = 200
#: The finest sweep step a demo run may use (the default's: 11 shares from 0 to 1, plus the live one).
SWEEP_STEP = 0.1
#: Runs a demo browser session may request per window, and a client address (several tabs).
RUNS_PER_SESSION = 2
RUNS_PER_CLIENT = 4
VISITOR = "visitor"
SIGN_UP = "Create an account for the full lab."


def visitor_params(session_id: str, client: str) -> dict[str, Any]:
    """The job params that mark a run as a demo visitor's (the session id hashed: never stored)."""
    return {VISITOR: {"session": session_tag(session_id), "client": str(client)}}


def session_tag(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


def demo_problems(config: EvaluationConfig) -> list[str]:
    """What makes ``config`` costlier than a demo visitor may run (empty: within bounds)."""
    problems = []
    if config.sample_users is None or config.sample_users > SAMPLE_USERS:
        problems.append(f"a sample of at most {SAMPLE_USERS} users")
    if config.grid is not None:
        problems.append("no 2-D grid")
    if config.segments or config.new_user_draws:
        problems.append("no segments or new-user draws")
    if config.measure_plain:
        problems.append("no plain-hybrid timing")
    if config.factors > _ALS_DEFAULTS.factors or config.iterations > _ALS_DEFAULTS.iterations:
        problems.append(f"at most {_ALS_DEFAULTS.factors} ALS factors and {_ALS_DEFAULTS.iterations} iterations")
    if _too_fine(config):
        problems.append(f"a sweep step of at least {SWEEP_STEP:g}")
    return problems


def _too_fine(config: EvaluationConfig) -> bool:
    """More sweep steps than the same range at :data:`SWEEP_STEP` (the live point counts in both)."""
    coarse = replace(config, sweep=(*config.sweep[:2], max(config.sweep[2], SWEEP_STEP)))
    return len(config.content_weights()) > len(coarse.content_weights())


def bounded(config: EvaluationConfig) -> EvaluationConfig:
    """``config`` brought within the demo bounds (what the page queues for a visitor).

    >>> c = bounded(EvaluationConfig(factors=256, sample_users=None))
    >>> (c.factors, c.sample_users, c.grid, c.segments, demo_problems(c))
    (32, 200, None, False, [])
    """
    sweep = (*config.sweep[:2], SWEEP_STEP) if _too_fine(config) else config.sweep
    return replace(
        config,
        sample_users=min(config.sample_users or SAMPLE_USERS, SAMPLE_USERS),
        grid=None,
        segments=False,
        new_user_draws=0,
        measure_plain=False,
        factors=min(config.factors, _ALS_DEFAULTS.factors),
        iterations=min(config.iterations, _ALS_DEFAULTS.iterations),
        sweep=sweep,
    )


def admit(store: Store, params: dict[str, Any] | None) -> None:
    """Refuse a demo visitor's run (:class:`recsys.jobs.runner.JobRefused`, one line saying why) beyond
    the bounds or the per-session / per-client limits; runs of signed-in accounts pass."""
    visitor = (params or {}).get(VISITOR)
    if not isinstance(visitor, dict):
        return
    config = EvaluationConfig.from_dict((params or {}).get("config") or {})
    problems = demo_problems(config)
    if problems:
        raise JobRefused(f"Demo runs are limited to {', '.join(problems)}. {SIGN_UP}")
    session, client = visitor.get("session"), visitor.get("client")
    kinds = ("evaluate", "tune")
    for job in rows.active(store, kinds):
        theirs = (job.params or {}).get(VISITOR) or {}
        if theirs.get("session") == session or theirs.get("client") == client:
            raise JobRefused("A demo evaluation from this browser is queued or running; wait for it or cancel it.")
    now = utcnow()
    window = timedelta(seconds=WINDOW_S)
    recent = [
        (job.requested_at, (job.params or {}).get(VISITOR) or {})
        for job in rows.requested_jobs_since(store, kinds, now - window)
    ]
    for key, value, limit, who in (
        ("session", session, RUNS_PER_SESSION, "browser session"),
        ("client", client, RUNS_PER_CLIENT, "address"),
    ):
        times = sorted(at for at, v in recent if v.get(key) == value)
        if len(times) >= limit:
            wait = WINDOW_S - (now - times[-limit]).total_seconds()
            raise JobRefused(
                f"At most {limit} demo evaluations per {WINDOW_S / 60:g} minutes per {who}; try again in "
                f"{human_seconds(max(wait, 1)).removeprefix('about ')}. {SIGN_UP}"
            )
