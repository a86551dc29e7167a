"""The ranking stages after the blend, in the order they run, with their default strengths.

Adding a stage is one module with a class implementing
:class:`~recsys.models.rerank.base.Stage` and one :func:`register` line below. The feed, the CLI
and the evaluation's "served" ranking all call :func:`apply` (one code path); strengths are a
``{stage name: strength}`` mapping like the scorer weights, missing names at their defaults.

The defaults (popularity 0.15, calibration 0.5, the family filter on, MMR off) are what the
evaluation chose on the validation split of ml-latest-small on the mirror catalogue (``python -m
recsys evaluate``, the stage grid of :mod:`recsys.evaluation.served`): the strongest setting,
calibration first, whose validation NDCG@10 stays within 2% of the best setting's (0.1351 against
0.1372); on test the served ranking scored NDCG@10 0.1348 against 0.1363 for the blend alone,
miscalibration 0.690 against 0.720, popularity lift 1.14 against 1.25.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from recsys.errors import ModelError
from recsys.models.rerank.base import Pool, Stage, Taste
from recsys.models.rerank.calibration import Calibration
from recsys.models.rerank.maturity import MaturityFilter
from recsys.models.rerank.mmr import MMRDiversity
from recsys.models.rerank.popularity import PopularityCorrection

Strengths = dict[str, float]

#: Candidates the stages choose from: the blend's best ``max(POOL_SIZE, 3 n)``. 200 keeps a
#: genre fan's pool rich enough in that genre (measured on the mirror, 13 liked horror films: the
#: blend's top 10 holds 2 horror films, its top 50 10, its top 200 59). Cost of every stage on it:
#: ``recommend_feed`` for both sections, 100 MovieLens profiles of 15 likes, p50 3.40 -> 3.93 ms.
POOL_SIZE = 200


@dataclass(frozen=True)
class StageSpec:
    name: str
    label: str
    stage: Stage
    default: float
    grid: tuple[float, ...]  # strengths tried on validation (0 = off)
    help: str = ""


STAGES: dict[str, StageSpec] = {}


def register(spec: StageSpec) -> StageSpec:
    STAGES[spec.name] = spec
    return spec


def names() -> tuple[str, ...]:
    return tuple(STAGES)


def default_strengths() -> Strengths:
    return {name: spec.default for name, spec in STAGES.items()}


def no_stages() -> Strengths:
    """Every stage off: the blend's own order (the reference the stages are measured against)."""
    return dict.fromkeys(STAGES, 0.0)


def check_strengths(strengths: Mapping[str, float] | None) -> Strengths:
    """Every registered stage with a strength in [0, 1] (missing names at their defaults)."""
    out = default_strengths()
    for name, value in (strengths or {}).items():
        if name not in STAGES:
            raise ModelError(f"Unknown ranking stage {name!r}; choose from: {', '.join(STAGES)}.")
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ModelError(f"The strength of {name} must be a number, got {value!r}.") from None
        if not math.isfinite(v) or not 0.0 <= v <= 1.0:
            raise ModelError(f"The strength of {name} must be between 0 and 1, got {value!r}.")
        out[name] = v
    return out


def parse_strengths(text: str) -> Strengths:
    """``"calibration=0.5,popularity=0.2"`` -> the named stages' checked strengths only (the CLI's
    ``--stages``; the recommender fills the others with its own)."""
    pairs: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq:
            raise ModelError(f"Write stage strengths as name=value pairs, e.g. calibration=0.5 (got {part!r}).")
        pairs[name.strip()] = value.strip()  # type: ignore[assignment]  # checked below
    checked = check_strengths(pairs)
    return {name: checked[name] for name in pairs}


def active(strengths: Mapping[str, float]) -> bool:
    return any(v > 0 for v in strengths.values())


def apply(pool: Pool, taste: Taste, n: int, strengths: Mapping[str, float]) -> np.ndarray:
    """Run every stage with a positive strength in order; the final ``n`` positions (into the
    candidate set), best first."""
    for name, spec in STAGES.items():
        strength = float(strengths.get(name, 0.0))
        if strength > 0 and len(pool):
            pool = spec.stage.rerank(pool, taste, n, strength)
    return pool.positions[:n]


register(
    StageSpec(
        "maturity",
        "Family filter",
        MaturityFilter(),
        default=1.0,
        grid=(1.0,),
        help="profiles of mostly Family / Animation likes get no Horror, Thriller, Crime, War ...",
    )
)
register(
    StageSpec(
        "popularity",
        "Popularity correction",
        PopularityCorrection(),
        default=0.15,
        grid=(0.0, 0.15, 0.3, 0.5),
        help="titles more voted than what the person likes give way (per e-fold of votes)",
    )
)
register(
    StageSpec(
        "calibration",
        "Calibration",
        Calibration(),
        default=0.5,
        grid=(0.0, 0.2, 0.3, 0.4, 0.5, 0.7),
        help="the list's genre and language shares follow the likes' (Steck 2018)",
    )
)
register(
    StageSpec(
        "mmr",
        "MMR diversity",
        MMRDiversity(),
        default=0.0,
        grid=(0.0,),
        help="trades score against genre overlap with the titles above",
    )
)
