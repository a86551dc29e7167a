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
from recsys.evaluation.splits import PROTOCOLS
from recsys.evaluation.splits import Protocol as SplitProtocol
from recsys.evaluation.sweep import content_weights, step_weights
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
CONTENT = registry.SCORERS["content"].model
ALS = registry.SCORERS["als"].model
POPULARITY_IMDB = registry.SCORERS["popularity"].model
STAGES = ("validation", "test")

_ALS_DEFAULTS = ALSConfig()


def model_names() -> tuple[str, ...]:
    """The rows of a run, in order: the baseline, one per registered scorer, the two hybrids."""
    return (POPULARITY, *(spec.model for spec in registry.SCORERS.values()), HYBRID, BEST)


def dump_names() -> dict[str, str]:
    """File name (without .parquet) of each model's top-K lists in a dump."""
    return {
        POPULARITY: "popularity",
        **{spec.model: spec.dump for spec in registry.SCORERS.values()},
        HYBRID: "hybrid",
        BEST: "hybrid_best",
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
    pass the live weights). ``sweep``: ``(start, stop, step)`` of the content weight, ALS ``1 -
    content``, popularity ``popularity_weight``, the other scorers at their current weights.
    ``factors`` .. ``iterations``: the ALS hyperparameters. ``seed``: the random protocol's seed.
    ``compare``: the configurations of the default significance test (``None``: best sweep step
    vs the current hybrid). ``measure_plain``: also time one plain evaluation of the current
    hybrid (scoring every user from scratch) to compare the sweep's cost with.
    """

    protocol: SplitProtocol = "temporal"
    k: int = 10
    metric: str = "ndcg"
    sweep: tuple[float, float, float] = (0.0, 1.0, 0.1)
    popularity_weight: float = 0.1
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

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise EvaluationError(f"Unknown protocol {self.protocol!r}; use one of {', '.join(PROTOCOLS)}.")
        if not 1 <= self.k <= 1000:
            raise EvaluationError(f"K must be between 1 and 1000, got {self.k}.")
        if self.metric not in M.ranking_metrics():
            known = ", ".join(M.ranking_metrics())
            raise EvaluationError(f"Unknown metric {self.metric!r}; use one of {known}.")
        content_weights(*self.sweep)
        step_weights(0.0, self.popularity_weight)
        if self.weights is not None:
            try:
                object.__setattr__(self, "weights", check_weights(self.weights))
            except ModelError as exc:
                raise EvaluationError(str(exc)) from None
        if self.factors < 1 or self.iterations < 1:
            raise EvaluationError("ALS needs at least 1 factor and 1 iteration.")
        if not (self.regularization >= 0 and self.alpha > 0):
            raise EvaluationError("ALS needs regularisation >= 0 and alpha > 0.")
        if self.min_positives < 2:
            raise EvaluationError("min_positives must be at least 2 (one to train on, one to test).")
        object.__setattr__(self, "sweep", tuple(float(x) for x in self.sweep))

    @property
    def hybrid_weights(self) -> Weights:
        return dict(self.weights) if self.weights is not None else registry.default_weights()

    def content_weights(self) -> list[float]:
        return content_weights(*self.sweep)

    def sweep_weights(self) -> list[Weights]:
        """The blend weights of every sweep step."""
        return [step_weights(c, self.popularity_weight, self.hybrid_weights) for c in self.content_weights()]

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
        for key in ("sweep", "compare"):
            if values.get(key) is not None:
                values[key] = tuple(values[key])
        return cls(**values)

    def key(self) -> str:
        """A stable text form (cache keys)."""
        return json.dumps(self.to_dict(), sort_keys=True)
