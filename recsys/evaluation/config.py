"""An evaluation run's settings (:class:`EvaluationConfig`) and the names of its rows (the
baseline, one per registered scorer, the two hybrids) and of its dump files."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from recsys.columns import Columns as C
from recsys.errors import EvaluationError, ModelError
from recsys.evaluation import metrics as M
from recsys.evaluation.grid import check_pair, grid_values
from recsys.evaluation.splits import PROTOCOLS
from recsys.evaluation.splits import Protocol as SplitProtocol
from recsys.evaluation.sweep import content_weights, live_share, step_weights
from recsys.models import registry
from recsys.models.als import ALSConfig
from recsys.models.registry import Weights, check_weights

USER = C.ML_USER_ID  # the user column of the combined ratings (MovieLens ids, app users negative)
METRICS = M.ranking_metrics()  # the built-in metrics; the registry (recsys.evaluation.metrics) is live
LIST_MEASURES = M.list_measures()
SUMMARY = M.summary_names()
metric_label = M.metric_label

POPULARITY = "popularity"
HYBRID = "hybrid (current)"
BEST = "hybrid (best sweep step)"
SERVED = "served (hybrid + ranking stages)"  # what the feed ranks: live weights, then every stage
CONTENT = registry.SCORERS["content"].model
ALS = registry.SCORERS["als"].model
POPULARITY_IMDB = registry.SCORERS["popularity"].model
STAGES = ("validation", "test")

_ALS_DEFAULTS = ALSConfig()

#: Bounds on what one evaluation may cost (issue 10): checked by the config, so the CLI and the
#: page refuse the same settings with the same message.
MAX_K = 100
MAX_FACTORS = 256
MAX_ITERATIONS = 50
MAX_NEW_USER_DRAWS = 10
#: Cut-offs reported beside the run's own K (every ranking metric, every model, test split).
AT_KS: tuple[int, ...] = (5, 10, 20)
MAX_AT_KS = 5
#: Validation users the sweep, the grid and the ranking stages' settings are scored on by
#: default when there are more (:attr:`EvaluationConfig.sweep_users`).
SWEEP_USERS = 2_000


def model_names() -> tuple[str, ...]:
    """The rows of a run, in order: the baseline, one per registered scorer, the two hybrids."""
    return (POPULARITY, *(spec.model for spec in registry.SCORERS.values()), HYBRID, BEST, SERVED)


def dump_names() -> dict[str, str]:
    """File name (without .parquet) of each model's top-K lists in a dump."""
    return {
        POPULARITY: "popularity",
        **{spec.model: spec.dump for spec in registry.SCORERS.values()},
        HYBRID: "hybrid",
        BEST: "hybrid_best",
        SERVED: "served",
    }


MODELS = model_names()
DUMP_NAMES = dump_names()


def weight_column(name: str) -> str:
    """The frame column holding scorer ``name``'s weight, e.g. ``content_weight``."""
    return f"{name}_weight"


@dataclass(frozen=True)
class EvaluationConfig:
    """Everything that determines an evaluation's figures (the page's controls, the CLI's flags).

    ``weights``: the current hybrid weights ``{scorer: weight}`` (an old ``(content, als,
    popularity)`` tuple is read in that order); ``None`` means the registry's defaults (callers
    pass :func:`recsys.models.weights.current`). ``sweep``: ``(start, stop, step)`` of the share of
    ``sweep_pair[0]`` in the pair's current total weight, the other scorers at their current
    weights (``popularity_weight``: override popularity's; ``None`` keeps it), the live share
    always added (:mod:`recsys.evaluation.sweep`).
    ``factors`` .. ``iterations``: the ALS hyperparameters. ``seed``: the random protocol's seed.
    ``compare``: the configurations of the default significance test (``None``: best sweep step
    vs the current hybrid). ``measure_plain``: also time one plain evaluation of the current
    hybrid (scoring every user from scratch) to compare the sweep's cost with.
    ``sample_users``: evaluate on a seeded sample of this many users (of those with
    ``min_positives`` positives; ``None``: all) for quick runs on big datasets. ``grid``: the
    pair of scorers whose weights the 2-D grid varies on validation (``None``: no grid),
    ``grid_step`` its resolution (:mod:`recsys.evaluation.grid`). ``segments``: the activity and
    popularity breakdowns (:mod:`recsys.evaluation.segments`); ``new_user_draws``: seeded draws
    of the simulated new user after onboarding (0: not simulated). ``tv_only``: evaluate TV on
    the app's own ratings of TV titles (:mod:`recsys.evaluation.tv`; needs ``with_app_data``).
    ``at_ks``: further cut-offs at which every model's ranking metrics are reported on the test
    split (the run's ``k`` still chooses and is the main figure; ``()``: none). A run stored
    before this setting existed has no ``at_ks`` in its document and reads back as ``()``.
    ``sweep_users``: on a validation split with more tested users than this, the sweep steps,
    the 2-D grid's cells and the ranking stages' settings are scored on a seeded sample of this
    many validation users (``seed``), and the step, cell and setting chosen there are then
    reported on every validation user; with fewer users (``None``: always) every user scores
    every step, as before the setting existed (a stored run without it reads back as ``None``).
    The test split is never sampled.
    """

    protocol: SplitProtocol = "temporal"
    k: int = 10
    metric: str = "ndcg"
    sweep: tuple[float, float, float] = (0.0, 1.0, 0.1)
    popularity_weight: float | None = None
    sweep_pair: tuple[str, str] = ("content", "als")
    weights: Mapping[str, float] | None = None
    with_app_data: bool = False
    factors: int = _ALS_DEFAULTS.factors
    regularization: float = _ALS_DEFAULTS.regularization
    alpha: float = _ALS_DEFAULTS.alpha
    iterations: int = _ALS_DEFAULTS.iterations
    seed: int = 42
    min_positives: int = 5
    compare: tuple[str, str] | None = None
    measure_plain: bool = False
    sample_users: int | None = None
    grid: tuple[str, str] | None = ("content", "als")
    grid_step: float = 0.25
    segments: bool = True
    new_user_draws: int = 3
    tv_only: bool = False
    at_ks: tuple[int, ...] = AT_KS
    sweep_users: int | None = SWEEP_USERS

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise EvaluationError(f"Unknown protocol {self.protocol!r}; use one of {', '.join(PROTOCOLS)}.")
        if not 1 <= self.k <= MAX_K:
            raise EvaluationError(f"K must be between 1 and {MAX_K}, got {self.k}.")
        if self.metric not in M.ranking_metrics():
            known = ", ".join(M.ranking_metrics())
            raise EvaluationError(f"Unknown metric {self.metric!r}; use one of {known}.")
        content_weights(*self.sweep)
        object.__setattr__(self, "sweep_pair", check_pair(self.sweep_pair))
        step_weights(0.0, None, self.sweep_pair, self.popularity_weight)
        if self.weights is not None:
            try:
                object.__setattr__(self, "weights", check_weights(self.weights))
            except ModelError as exc:
                raise EvaluationError(str(exc)) from None
        if not 1 <= self.factors <= MAX_FACTORS:
            raise EvaluationError(f"ALS factors must be between 1 and {MAX_FACTORS}, got {self.factors}.")
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise EvaluationError(f"ALS iterations must be between 1 and {MAX_ITERATIONS}, got {self.iterations}.")
        if self.sample_users is not None and self.sample_users < 1:
            raise EvaluationError(f"--sample-users must be at least 1, got {self.sample_users}.")
        if self.sweep_users is not None and self.sweep_users < 1:
            raise EvaluationError(f"--sweep-users must be at least 1, got {self.sweep_users}.")
        if not 0 <= self.new_user_draws <= MAX_NEW_USER_DRAWS:
            raise EvaluationError(
                f"New-user draws must be between 0 and {MAX_NEW_USER_DRAWS}, got {self.new_user_draws}."
            )
        if self.tv_only and not self.with_app_data:
            raise EvaluationError("TV can only be evaluated on the app's ratings (MovieLens has no TV): add app data.")
        if self.grid is not None:
            object.__setattr__(self, "grid", check_pair(self.grid))
            grid_values(self.grid_step)
        if not (self.regularization >= 0 and self.alpha > 0):
            raise EvaluationError("ALS needs regularisation >= 0 and alpha > 0.")
        if self.min_positives < 2:
            raise EvaluationError("min_positives must be at least 2 (one to train on, one to test).")
        object.__setattr__(self, "sweep", tuple(float(x) for x in self.sweep))
        at_ks = tuple(sorted({int(c) for c in self.at_ks}))
        if len(at_ks) > MAX_AT_KS or any(not 1 <= c <= MAX_K for c in at_ks):
            raise EvaluationError(
                f"Extra cut-offs: at most {MAX_AT_KS} values between 1 and {MAX_K}, got {list(self.at_ks)}."
            )
        object.__setattr__(self, "at_ks", at_ks)

    @property
    def cutoffs(self) -> tuple[int, ...]:
        """Every cut-off reported: the extra ones and the run's own K, ascending."""
        return tuple(sorted({*self.at_ks, self.k})) if self.at_ks else ()

    @property
    def hybrid_weights(self) -> Weights:
        return dict(self.weights) if self.weights is not None else registry.default_weights()

    def content_weights(self) -> list[float]:
        """The sweep's shares: the configured range plus the live share (when the popularity
        override leaves the live weights on the line), in order."""
        shares = content_weights(*self.sweep)
        live = live_share(self.hybrid_weights, self.sweep_pair)
        base = self.hybrid_weights
        on_line = self.popularity_weight is None or float(base.get("popularity", 0.0)) == self.popularity_weight
        if live is not None and on_line and all(abs(live - s) > 1e-9 for s in shares):
            shares = sorted([*shares, live])
        return shares

    def sweep_weights(self) -> list[Weights]:
        """The blend weights of every sweep step."""
        return [
            step_weights(c, self.hybrid_weights, self.sweep_pair, self.popularity_weight)
            for c in self.content_weights()
        ]

    def live_step(self) -> int | None:
        """The position of the step that equals the live weights (None if none does)."""
        live = {n: round(float(v), 6) for n, v in self.hybrid_weights.items()}
        for i, w in enumerate(self.sweep_weights()):
            if all(abs(w.get(n, 0.0) - v) <= 1e-6 for n, v in live.items()):
                return i
        return None

    def als_config(self, base: ALSConfig | None = None) -> ALSConfig:
        """``base`` (the trained model's, else the defaults) with this run's hyperparameters."""
        return dataclasses.replace(
            base or ALSConfig(),
            factors=int(self.factors),
            regularization=float(self.regularization),
            alpha=float(self.alpha),
            iterations=int(self.iterations),
        )

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["weights"] = dict(self.weights) if self.weights is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values.setdefault("at_ks", ())  # stored before the extra cut-offs existed
        values.setdefault("sweep_users", None)  # stored before the sweep was sampled: every user
        for key in ("sweep", "compare", "grid", "sweep_pair", "at_ks"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def key(self) -> str:
        """A stable text form (cache keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)
