"""Demo visitors in the lab (issue 21, N8): runs bounded to cost less than a default run, and
limits per browser session and per client address counted in the store's job rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.evaluation import jobs as lab_jobs
from recsys.evaluation import visitors
from recsys.evaluation.background import DataSize, estimate_seconds
from recsys.evaluation.config import EvaluationConfig
from recsys.jobs import runner as jobs
from recsys.store import Store
from recsys.store import jobs as rows

MIRROR_SIZE = DataSize(ratings=100_626, users=610, items=9_622)
COSTLIEST = EvaluationConfig(factors=256, iterations=50, sweep=(0.0, 1.0, 0.05), grid_step=0.1, new_user_draws=10)


def test_the_costliest_demo_run_costs_less_than_a_default_run() -> None:
    default = estimate_seconds(MIRROR_SIZE, EvaluationConfig())
    assert (
        estimate_seconds(MIRROR_SIZE, COSTLIEST) / default > 4
    )  # what a visitor could queue before (5.2x in wall time)
    bounded = visitors.bounded(COSTLIEST)
    assert visitors.demo_problems(bounded) == []
    assert (bounded.sample_users, bounded.grid, bounded.segments, bounded.factors, bounded.iterations) == (
        200,
        None,
        False,
        32,
        15,
    )
    assert round(estimate_seconds(MIRROR_SIZE, bounded) / default, 2) == 0.26


def _queue(store: Store, who: str, config: EvaluationConfig, session: str, client: str) -> rows.Job:
    params = {"config": config.to_dict(), **visitors.visitor_params(session, client)}
    lab_jobs._admit(store, who, params)
    return rows.enqueue(store, lab_jobs.EVALUATE, requested_by=who, server="web-a:1:aaaaaa", params=params)


def test_a_costly_demo_run_is_refused_on_the_server(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'app.db'}") as store:
        params = {"config": COSTLIEST.to_dict(), **visitors.visitor_params("s1", "203.0.113.9")}
        with pytest.raises(jobs.JobRefused) as refused:
            lab_jobs._admit(store, "ml-414 (demo 1a2b3c)", params)
        assert str(refused.value) == (
            "Demo runs are limited to a sample of at most 200 users, no 2-D grid, no segments or new-user "
            "draws, at most 32 ALS factors and 15 iterations, a sweep step of at least 0.1. "
            "Create an account for the full lab."
        )
        lab_jobs._admit(store, "ann", {"config": COSTLIEST.to_dict()})  # an account's run is not a demo's


def test_demo_limits_are_per_session_and_per_client_and_survive_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    cheap = visitors.bounded(EvaluationConfig())
    with Store.open(url) as store:
        # two visitors of the same persona on different addresses: each gets a run
        first = _queue(store, "ml-414 (demo aaaaaa)", cheap, "session-a", "203.0.113.9")
        _queue(store, "ml-414 (demo bbbbbb)", cheap, "session-b", "198.51.100.7")
        # a second tab on the first address waits for the first run
        with pytest.raises(jobs.JobRefused, match="A demo evaluation from this browser is queued or running"):
            _queue(store, "ml-414 (demo cccccc)", cheap, "session-c", "203.0.113.9")
        rows.finish(store, first.id)
        rows.finish(store, _queue(store, "ml-414 (demo aaaaaa)", cheap, "session-a", "203.0.113.9").id)
    with Store.open(url) as store:  # a restarted server counts the same rows
        with pytest.raises(jobs.JobRefused, match="At most 2 demo evaluations per 10 minutes per browser session"):
            _queue(store, "ml-414 (demo aaaaaa)", cheap, "session-a", "203.0.113.9")
        rows.finish(store, _queue(store, "ml-414 (demo dddddd)", cheap, "session-d", "203.0.113.9").id)
        rows.finish(store, _queue(store, "ml-414 (demo eeeeee)", cheap, "session-e", "203.0.113.9").id)
        with pytest.raises(jobs.JobRefused, match="At most 4 demo evaluations per 10 minutes per address; try"):
            _queue(store, "ml-414 (demo ffffff)", cheap, "session-f", "203.0.113.9")
        _queue(store, "ml-414 (demo gggggg)", cheap, "session-g", "192.0.2.1")  # another address is not blocked
