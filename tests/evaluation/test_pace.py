"""The lab job's fraction done and time left (issue 19 item 5: a time left within 1.5x)."""

from __future__ import annotations

import pytest

from recsys.evaluation import jobs as lab_jobs
from recsys.evaluation.config import EvaluationConfig
from recsys.evaluation.pace import Schedule, Segment, evaluation_schedule, time_left, tune_schedule

# The stage reports of a default evaluation, in the order a real run on the mirror made them
# (first and last report of each stage; each split's users are scored block by block, every
# model, setting, step and cell per block; the new-user draws fit their own ALS).
RUN = [
    ("evaluation: loading data", 0, 2),
    ("evaluation: loading data", 2, 2),
    ("evaluation: fitting models", 1, 1),
    ("als: iterations", 0, 15),
    ("als: iterations", 15, 15),
    ("evaluation: scoring users (validation)", 0, 597),
    ("evaluation: models (validation)", 0, 597),  # per block: not the schedule's
    ("evaluation: weight sweep", 0, 597),
    ("evaluation: scoring users (validation)", 300, 597),
    ("evaluation: scoring users (validation)", 597, 597),
    ("als: iterations", 0, 15),  # test split
    ("als: iterations", 15, 15),
    ("evaluation: scoring users (test)", 0, 603),
    ("evaluation: scoring users (test)", 603, 603),
    ("evaluation: segments and new users", 0, 1),
    ("new users (draw 1 of 3)", 0, 100),
    ("als: iterations", 15, 15),  # a draw's own fit: not the schedule's
    ("new users (draw 3 of 3)", 99, 100),
]


def test_a_tiny_schedule_maps_reports_to_the_whole_jobs_fraction() -> None:
    tracker = Schedule(
        (Segment("load", 1.0), Segment("fit", 2.0), Segment("sweep", 1.0), Segment("fit", 4.0))
    ).tracker()
    assert tracker("load", 1, 1) == pytest.approx(1 / 8)
    assert tracker("fit", 1, 2) == pytest.approx(2 / 8)
    assert tracker("fit", 2, 2) == pytest.approx(3 / 8)
    assert tracker("unknown stage", 5, 5) == pytest.approx(3 / 8)
    assert tracker("sweep", 1, 1) == pytest.approx(4 / 8)
    assert tracker("load", 0, 1) == pytest.approx(4 / 8)  # an earlier stage: no step back
    assert tracker("fit", 1, 4) == pytest.approx(5 / 8)  # the second fit
    assert tracker("fit", 4, 4) == pytest.approx(1.0)


def test_an_evaluations_fraction_follows_its_stages_to_the_end() -> None:
    """On main, the first stage to end took the job's fraction to 100% (5% of its time in)."""
    tracker = evaluation_schedule(EvaluationConfig()).tracker()
    values = [round(tracker(*report), 2) for report in RUN]
    assert values == sorted(values)
    at = dict(zip(range(len(RUN)), values, strict=True))
    assert at[1] < 0.1  # loaded
    assert at[5] < 0.2  # the validation users start
    assert at[6] == at[7] == at[5]  # the per-block stages move nothing
    assert at[5] < at[8] < at[9]  # half the users, then all of them
    assert 0.45 < at[9] < 0.75  # the validation split (settings, sweep, grid) is the bigger part
    assert at[10] == at[9] and at[11] > at[10]  # the test split's fit
    assert at[16] == at[15]  # a draw's own fit moves nothing
    assert values[-1] == pytest.approx(1.0, abs=0.01)


def test_a_sampled_sweep_weighs_less() -> None:
    """With more validation users than sweep_users, the settings, steps and cells score a sample."""
    every = evaluation_schedule(EvaluationConfig(sweep_users=None), tested_users=20_000).total
    sampled = evaluation_schedule(EvaluationConfig(sweep_users=2_000), tested_users=20_000).total
    assert sampled < 0.7 * every
    assert (
        evaluation_schedule(EvaluationConfig(sweep_users=2_000)).total
        == evaluation_schedule(EvaluationConfig(sweep_users=None)).total
    )  # the mirror's 603 users: all of them


def test_the_shown_time_left_follows_the_runs_pace() -> None:
    assert time_left(100.0, 0.0, 0.0) == 100.0
    assert time_left(100.0, 30.0, 0.5) == pytest.approx(30.0)  # twice as fast as estimated
    assert time_left(30.0, 60.0, 0.5) == pytest.approx(60.0)  # twice as slow
    assert time_left(100.0, 40.0, 0.5, reported_s=30.0) == pytest.approx(20.0)  # 10 s into a silent stage
    assert time_left(None, 5.0, 0.05) is None
    assert time_left(None, 30.0, 0.5) == pytest.approx(30.0)


def test_tune_has_an_estimate() -> None:
    """On main, a tune job had no estimate: the lab showed no time left at all."""
    quick = lab_jobs.tune_estimate_s(quick=True)
    assert 3 < quick < 6  # measured 3.6-3.9 s on the mirror, idle
    assert lab_jobs.tune_estimate_s(quick=False) > 2 * quick  # 6 ALS settings, 122 combinations
    assert tune_schedule(1, 4, reused=False).total > tune_schedule(1, 4).total + 4
