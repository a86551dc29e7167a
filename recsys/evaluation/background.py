"""An evaluation's cost estimate from the data size, and the lab's limits (the runs themselves
are store-backed jobs: :mod:`recsys.evaluation.jobs`).

**Cost model** (:func:`estimate_seconds`): measured on ml-latest-small on the 2-core machine,
idle, after the block-wise scoring of issue 22 (100k ratings, 600 tested users, 7,900 ranked
items; a default run 18-22 s: ALS fit 0.15 s per split, scoring 0.37 s per split, 0.1 s per
sweep step and model, 0.06 s per grid cell, 0.2 s per ranking-stage setting, 1.05 s per new-user
draw); each part scales with what drives it: the fits with ratings x factors x iterations,
scoring with users x items x scorers, each evaluated configuration (models, sweep steps, grid
cells, stage settings) with users x items, the validation sweep, grid and settings with at most
``sweep_users`` users. A busy machine takes up to twice as long; the time left shown while a
run goes trusts the run's own pace (:mod:`recsys.evaluation.pace`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from recsys.errors import EvaluationError
from recsys.evaluation.config import EvaluationConfig
from recsys.evaluation.grid import grid_points
from recsys.models import registry

log = logging.getLogger(__name__)

#: a run whose estimate passes this is "expensive": testers and demo sessions confirm first
EXPENSIVE_S = 60.0
#: per-user rate limit: at most this many evaluation runs started in the window
RUNS_PER_WINDOW = 6
WINDOW_S = 600.0

_FIT_S_PER_RATING_FACTOR_ITER = 3.0e-9
_SCORE_S_PER_USER_ITEM_SCORER = 1.6e-8
_EVAL_S_PER_USER_ITEM = 1.7e-8
_CELL_S_PER_USER_ITEM = 1.1e-8
_STAGE_S_PER_USER_ITEM = 3.5e-8
_SPLIT_S_PER_RATING = 1.7e-6
_LOAD_S = 0.8
_NEW_USER_OVERHEAD_S = 0.6


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
    from recsys.evaluation.served import strength_grid

    users = min(size.users, config.sample_users) if config.sample_users else size.users
    share = users / size.users if size.users else 1.0
    swept = min(users, config.sweep_users) if config.sweep_users else users  # validation's sample
    ratings = size.ratings * share
    items = size.items
    scorers = len(registry.names())
    n_models = scorers + 3
    steps = len(config.sweep_weights())
    cells = len(grid_points(config.grid, config.grid_step, config.hybrid_weights)) if config.grid else 0
    fit = _FIT_S_PER_RATING_FACTOR_ITER * ratings * config.factors * config.iterations
    score = _SCORE_S_PER_USER_ITEM_SCORER * users * items * scorers
    per_config = _EVAL_S_PER_USER_ITEM * items
    total = _LOAD_S + _SPLIT_S_PER_RATING * ratings + 2 * (fit + score) + per_config * (2 * users * n_models)
    total += per_config * steps * (users + swept)  # the steps on test, and on validation's sample
    total += _CELL_S_PER_USER_ITEM * items * swept * cells  # the grid: validation only
    total += _STAGE_S_PER_USER_ITEM * items * (swept * len(strength_grid()) + users)  # + the served one on test
    if config.segments and config.new_user_draws:
        new_user = (
            fit + _SPLIT_S_PER_RATING * ratings + _SCORE_S_PER_USER_ITEM_SCORER * min(users, 100) * items * scorers * 2
        )
        total += config.new_user_draws * (new_user + _NEW_USER_OVERHEAD_S)
    return total


def human_seconds(s: float) -> str:
    """``"about 40 s"``, ``"about 3 min"``."""
    if s < 90:
        return f"about {max(1, round(s)):d} s"
    return f"about {round(s / 60):d} min"
