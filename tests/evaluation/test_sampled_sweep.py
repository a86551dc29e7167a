"""Big data: the sweep, the grid and the ranking stages' settings score a seeded sample of the
validation users (``EvaluationConfig.sweep_users``) and the chosen ones are reported on every
user; each split is scored a block of users at a time. Small data behaves exactly as before."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from recsys.evaluation import runner, scoring
from recsys.evaluation.config import EvaluationConfig
from recsys.evaluation.grid import ALL_USERS
from recsys.evaluation.runner import run_evaluation, sweep_sample
from recsys.evaluation.sweep import best_step, step_label
from recsys.models import TfidfConfig
from tests.models.conftest import make_ratings, make_titles
from tests.support.narrow import present

CONFIGS = {"content": TfidfConfig(min_df=1)}
BASE: dict[str, Any] = dict(
    factors=4, iterations=3, k=3, min_positives=4, sweep=(0.0, 1.0, 0.25), grid_step=0.5, new_user_draws=0
)


def run(**kw: Any) -> runner.EvaluationResult:
    return run_evaluation(make_titles(), make_ratings(), EvaluationConfig(**{**BASE, **kw}), configs=CONFIGS)


def figures(r: runner.EvaluationResult) -> tuple[object, ...]:
    assert r.validation is not None and r.grid is not None and r.stage_grid is not None
    return (
        r.models.rows(),
        r.sweep.rows(),
        r.validation.models.rows(),
        r.validation.sweep.rows(),
        r.grid.rows(),
        r.stage_grid.rows(),
        r.tops,
        r.lists,
        r.at_k,
        {name: frame.rows() for name, frame in r.per_user.items()},
        r.best,
        r.stages,
        r.recommendation,
    )


@pytest.fixture(scope="module")
def everyone() -> runner.EvaluationResult:
    return run(sweep_users=None)


@pytest.fixture(scope="module")
def sampled() -> runner.EvaluationResult:
    return run(sweep_users=3)


def test_the_sample_is_seeded_and_covers_everyone_when_small() -> None:
    users = list(range(10, 110))
    first = sweep_sample(users, 10, 7)
    assert first == sweep_sample(users, 10, 7)  # the same sample twice
    assert len(first) == 10 and set(first) <= set(users) and first == sorted(first)
    assert first != sweep_sample(users, 10, 8)
    assert sweep_sample(users, 100, 7) == users == sweep_sample(users, None, 7)


def test_below_the_size_every_user_scores_every_step_as_before(
    everyone: runner.EvaluationResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert everyone.validation is not None
    n = everyone.counts["validation_users"]
    assert n > 3
    assert figures(run(sweep_users=n)) == figures(everyone)  # a sample as big as the population: all
    assert "sweep_users" not in everyone.validation.counts
    assert ALL_USERS not in present(everyone.grid).columns
    # one user per block gives the very figures, lists and per-user rows of one block
    monkeypatch.setattr(scoring, "BLOCK_BYTES", 1)
    assert figures(run(sweep_users=None)) == figures(everyone)


def test_above_the_size_the_sweep_grid_and_stages_score_a_sample(
    sampled: runner.EvaluationResult, everyone: runner.EvaluationResult
) -> None:
    val = sampled.validation
    assert val is not None and sampled.grid is not None and sampled.stage_grid is not None
    n = sampled.counts["validation_users"]
    assert val.counts["sweep_users"] == 3
    steps = [step_label(w) for w in sampled.config.sweep_weights()]
    assert {val.per_user[s].height for s in steps} == {3}  # every step on the sample
    assert set(sampled.stage_grid["users"].to_list()) == {3.0}  # every ranking-stages setting
    # the chosen step, cell and setting are reported on every validation user
    assert val.per_user[runner.BEST].height == val.per_user[runner.SERVED].height == n
    assert val.per_user[runner.HYBRID].height == n
    assert present(sampled.recommendation)["users"] == n
    best_cell = sampled.grid.with_row_index().filter(pl.col(ALL_USERS).is_not_null())
    assert best_cell.height == 1 and best_cell["index"][0] == best_step(sampled.grid["ndcg"].to_list())
    # the models, and everything on test, are not sampled: as without the sample
    assert val.models.filter(~pl.col("model").is_in([runner.BEST, runner.SERVED])).rows() == (
        present(everyone.validation).models.filter(~pl.col("model").is_in([runner.BEST, runner.SERVED])).rows()
    )
    assert {sampled.per_user[s].height for s in steps} == {sampled.counts["users"]}
    # the run's settings record the size; a run stored before the setting read back as unsampled
    assert sampled.to_dict()["config"]["sweep_users"] == 3
    old = {k: v for k, v in sampled.config.to_dict().items() if k != "sweep_users"}
    assert EvaluationConfig.from_dict(old).sweep_users is None


def test_the_text_report_says_the_sweep_was_sampled(
    sampled: runner.EvaluationResult, everyone: runner.EvaluationResult
) -> None:
    n = sampled.counts["validation_users"]
    assert f"scored a seeded sample of 3 of the {n:,} users" in runner.render_text(sampled)
    assert "seeded sample" not in runner.render_text(everyone)


def test_the_sample_is_the_same_twice(sampled: runner.EvaluationResult) -> None:
    assert figures(run(sweep_users=3)) == figures(sampled)


def test_sweep_users_is_checked() -> None:
    with pytest.raises(Exception, match="sweep-users"):
        EvaluationConfig(sweep_users=0)


def test_the_lab_progress_moves_while_a_split_is_scored() -> None:
    """One block held every user of the mirror's splits: the lab's bar sat at "0 of 597" for half
    the run. A split now takes at least ``scoring.PROGRESS_STEPS`` blocks when it has the users."""
    seen: dict[str, list[float]] = {}

    def progress(stage: str, done: float, total: float | None) -> None:
        if stage.startswith(runner.STAGE_USERS):
            seen.setdefault(stage, []).append(done / (total or 1))

    run_evaluation(
        make_titles(), make_ratings(), EvaluationConfig(**BASE, sweep_users=None), configs=CONFIGS, progress=progress
    )
    for stage in (f"{runner.STAGE_USERS} (validation)", f"{runner.STAGE_USERS} (test)"):
        shares = seen[stage]
        assert shares == sorted(shares) and shares[-1] == 1.0
        assert len({s for s in shares if 0 < s < 1}) >= 3  # the bar moves between the ends
    assert scoring.block_size(4, 40_000) == 157  # memory bounds the block
    assert scoring.block_size(4, 40_000, n_users=600) == 30  # and so does the progress
