"""An evaluation's cost estimate from the data size, and the lab's limits (the runs themselves
are store-backed jobs: :mod:`recsys.evaluation.jobs`).

**Cost model** (:func:`estimate_seconds`): measured on ml-latest-small on the shared 2-core
machine (100k ratings, 600 tested users, 7,900 items: ALS fit 2-3 s, scoring 7 s for both
splits, 0.8 s per re-blended configuration, 8 s per new-user draw); each part scales with what
drives it: the fits with ratings x factors x iterations, scoring with users x items x scorers,
each evaluated configuration (models, sweep steps, grid cells) with users x items.
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
