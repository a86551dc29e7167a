"""The scorer registry: every scorer the hybrid blends, by name, in one place.

The hybrid, the CLI (``--weights content=0.4,als=0.5,...``), the evaluation runner and page, and
the live weights (a name -> weight mapping in the store) all read :data:`SCORERS`. Adding a scorer
is one module implementing :class:`recsys.models.base.Scorer` plus one :func:`register` line
below; ``tests/models/test_registry.py`` proves it with a toy scorer.

Weights are non-negative numbers per registered name, not all zero. The default weights
(content 0.5, ALS 0.2, taste 0.2, popularity 0.1) are what ``python -m recsys tune`` chose on the
validation split of ml-latest-small on the mirror catalogue (NDCG@10 0.1371 on validation, 0.1364
on test, against 0.1290 for the previous defaults and 0.1260 for ALS alone; strict temporal
protocol). An old stored weight list
(the first version kept ``[content, als, popularity]``) is read in :data:`LEGACY_ORDER`.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recsys.errors import ModelError
from recsys.models.base import Scorer, TrainingData
from recsys.progress import Progress

Weights = dict[str, float]
LEGACY_ORDER = ("content", "als", "popularity")


@dataclass(frozen=True)
class ScorerSpec:
    """One registered scorer.

    ``factory(config)`` builds an unfitted scorer (``config`` an instance of ``config_type`` or
    None for its defaults); ``load(directory)`` reads a saved one. ``default_weight``: its weight
    in the default blend (chosen on validation, see ``python -m recsys tune``). ``catalogue_only``:
    it fits on the catalogue alone, so a retrain reuses it while the catalogue is unchanged.

    What the rest of the system reads from here, so a new scorer needs no edit elsewhere:

    - ``weight_grid``: the weights ``tune`` tries for it (``None``: it takes the rest, ``1 -``
      the others' sum; one scorer, ALS, does); ``quick_grid`` the small grid of ``tune --quick``.
    - capabilities: ``named_at`` (its queries measure item similarity, and a liked title at
      least this similar to a card may be named in the card's reason, "Because you liked X");
      ``collaborative`` (a card it leads is "Popular with people like you"); ``taste`` (a card
      it leads is explained by the genre taste, "Because you like crime shows").
    """

    name: str
    label: str
    factory: Callable[[Any], Scorer]
    load: Callable[[Any], Scorer]
    config_type: type
    default_weight: float
    catalogue_only: bool | Callable[[Any], bool] = False
    help: str = ""
    model: str = ""  # its row in the evaluation tables (default: the name)
    dump: str = ""  # file name (without .parquet) of its lists in an evaluation dump
    heir: str | None = None  # takes this scorer's weight in a section it cannot score at all
    weight_grid: tuple[float, ...] | None = (0.0, 0.1, 0.2)
    quick_grid: tuple[float, ...] | None = None  # default: (default_weight,)
    named_at: float | None = None
    collaborative: bool = False
    taste: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "model", self.model or self.name)
        object.__setattr__(self, "dump", self.dump or self.name)

    def tune_grid(self, quick: bool = False) -> tuple[float, ...] | None:
        """The weights ``tune`` tries for this scorer (None: it takes the rest)."""
        if self.weight_grid is None:
            return None
        if quick:
            return self.quick_grid if self.quick_grid is not None else (self.default_weight,)
        return self.weight_grid

    def build(self, config: Any = None) -> Scorer:
        return self.factory(config)

    def depends_on_catalogue_only(self, config: Any) -> bool:
        """True when a scorer with ``config`` fits on the catalogue alone (reusable)."""
        flag = self.catalogue_only
        return bool(flag(config)) if callable(flag) else flag

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if type(value) is Deferred:  # a built-in scorer's class, imported on first use
            value = value.resolve()
            object.__setattr__(self, name, value)
        return value


class Deferred:
    """``"module:Name"``, imported when first read through a :class:`ScorerSpec`.

    The built-in scorers register their classes this way, so importing the registry (the CLI's
    ``--help`` lists the scorer names, the lab reads the default weights) does not import
    scikit-learn and SciPy through ``content`` / ``als`` / ``taste``. With the other lazy imports
    of the CLI (issue 24), ``python -m recsys --help`` went from about 1.9 s against 0.24 s for
    ``import polars, numpy`` (7.8x) to 0.36 s against 0.32 s (1.1x, medians of
    ``bench/cli_startup.py``, 15 runs each, on a shared 2-core machine).
    A spec resolves the reference on the first read of ``factory``, ``load`` or ``config_type``;
    no reader ever sees a ``Deferred``. Example: ``Deferred("recsys.models.content:TfidfScorer")``.
    """

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def resolve(self) -> Any:
        module, _, attr = self.path.partition(":")
        value = importlib.import_module(module)
        for part in attr.split("."):
            value = getattr(value, part)
        return value

    def __repr__(self) -> str:
        return f"Deferred({self.path!r})"


def _deferred(module: str, scorer: str, config: str) -> tuple[Any, Any, Any]:
    """``factory, load, config_type`` of a built-in scorer in ``recsys.models.<module>``."""
    path = f"recsys.models.{module}"
    return Deferred(f"{path}:{scorer}"), Deferred(f"{path}:{scorer}.load"), Deferred(f"{path}:{config}")


SCORERS: dict[str, ScorerSpec] = {}


def register(spec: ScorerSpec) -> ScorerSpec:
    """Add ``spec`` to the registry (a name may be registered once)."""
    if spec.name in SCORERS:
        raise ModelError(f"A scorer named {spec.name!r} is already registered.")
    if not spec.name.isidentifier():
        raise ModelError(f"Scorer names are identifiers such as 'content'; got {spec.name!r}.")
    SCORERS[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a scorer (tests that register toys clean up with it)."""
    SCORERS.pop(name, None)


def names() -> tuple[str, ...]:
    """Registered scorer names in registry order."""
    return tuple(SCORERS)


def with_capability(flag: str) -> tuple[str, ...]:
    """Names of the scorers whose spec sets ``flag`` (``"collaborative"``, ``"taste"``) or
    gives it a value (``"named_at"``), in registry order."""
    return tuple(n for n, s in SCORERS.items() if getattr(s, flag) not in (None, False))


def named_at() -> dict[str, float]:
    """Scorer name -> the item similarity a liked title needs to be named through that scorer."""
    return {n: float(s.named_at) for n, s in SCORERS.items() if s.named_at is not None}


def default_weights() -> Weights:
    return {name: spec.default_weight for name, spec in SCORERS.items()}


def check_weights(
    weights: Mapping[str, float | str] | Sequence[float | str], known: Iterable[str] | None = None
) -> Weights:
    """Weights as ``{name: weight}`` over the registered scorers (missing names weigh 0).

    Accepts a mapping, or a sequence read in :data:`LEGACY_ORDER` (three numbers) or in registry
    order (one per scorer). Every weight finite and non-negative, not all zero; unknown names
    are an error that lists the known ones.
    """
    names_ = tuple(known) if known is not None else names()
    if isinstance(weights, Mapping):
        unknown = [k for k in weights if k not in names_]
        if unknown:
            raise ModelError(
                f"Unknown scorer {', '.join(map(repr, unknown))} in the weights; known: {', '.join(names_)}."
            )
        pairs = [(n, weights.get(n, 0.0)) for n in names_]
    else:
        values = list(weights)
        order = LEGACY_ORDER if len(values) == len(LEGACY_ORDER) else names_
        if len(values) != len(order):
            raise ModelError(
                f"Hybrid weights need one number per scorer ({', '.join(names_)}) or name=value pairs; "
                f"got {len(values)} numbers."
            )
        given = dict(zip(order, values, strict=True))
        pairs = [(n, given.get(n, 0.0)) for n in names_]
    out: Weights = {}
    for name, value in pairs:
        try:
            w = float(value)
        except (TypeError, ValueError):
            raise ModelError(f"The weight of {name} must be a number, got {value!r}.") from None
        if not math.isfinite(w) or w < 0:
            raise ModelError(f"The weight of {name} must be a finite number >= 0, got {value!r}.")
        out[name] = w
    if sum(out.values()) <= 0:
        raise ModelError("Hybrid weights must not all be zero; give at least one scorer a positive weight.")
    return out


def parse_weights(text: str) -> Weights:
    """``"content=0.4,als=0.5,popularity=0.1"`` (missing scorers weigh 0) or the old positional
    ``"0.5,0.4,0.1"`` (content, ALS, popularity)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise ModelError(f"--weights needs name=value pairs such as {example()}; got {text!r}.")
    if all("=" in p for p in parts):
        mapping: dict[str, Any] = {}
        for part in parts:
            key, _, value = part.partition("=")
            mapping[key.strip()] = value.strip()
        return check_weights(mapping)
    if any("=" in p for p in parts):
        raise ModelError(f"Mix of name=value and plain numbers in {text!r}; use {example()}.")
    return check_weights(parts)


def example() -> str:
    return ",".join(f"{n}={w:g}" for n, w in default_weights().items())


def section_weights(weights: Mapping[str, float], unscorable: Iterable[str]) -> Weights:
    """``weights`` for a section in which the scorers ``unscorable`` score no candidate: each
    passes its weight to its registered heir (ALS -> genre taste: with no TV ratings, ALS knows no
    show, and the taste learned from the films carries across). Example: ``{content: 0.5, als:
    0.2, taste: 0.2, popularity: 0.1}`` with ALS unscorable -> taste 0.4, ALS 0."""
    out = dict(weights)
    for name in unscorable:
        spec = SCORERS.get(name)
        if spec is None or spec.heir is None or spec.heir not in out or not out.get(name):
            continue
        out[spec.heir] = out[spec.heir] + out[name]
        out[name] = 0.0
    return out


def fit_catalogue_scorers(
    data: TrainingData, configs: Mapping[str, Any] | None = None, reuse: Mapping[str, Scorer] | None = None
) -> dict[str, Scorer]:
    """The registered scorers that fit on the catalogue alone (with ``configs[name]``, else their
    defaults), fitted on ``data`` once -- or taken from ``reuse`` -- to share between splits."""
    configs, reuse = configs or {}, reuse or {}
    out: dict[str, Scorer] = {}
    for name, spec in SCORERS.items():
        config = configs.get(name)
        if spec.depends_on_catalogue_only(config):
            out[name] = reuse.get(name) or spec.build(config).fit(data)
    return out


def fit_scorers(
    data: TrainingData,
    configs: Mapping[str, Any] | None = None,
    fitted: Mapping[str, Scorer] | None = None,
    progress: Progress | None = None,
) -> dict[str, Scorer]:
    """Every registered scorer: those in ``fitted`` as they are, the others fitted on ``data``."""
    configs, fitted = configs or {}, fitted or {}
    return {
        name: fitted[name] if name in fitted else spec.build(configs.get(name)).fit(data, progress)
        for name, spec in SCORERS.items()
    }


def format_weights(weights: Mapping[str, float]) -> str:
    """``"content 0.30, als 0.50, ..."`` (registry order, zero weights included)."""
    return ", ".join(f"{n} {float(weights.get(n, 0.0)):.2f}" for n in names())


# --- the registered scorers (order = display order) -------------------------------------------

#: A liked title is named for a card only when its content cosine to the card is at least this.
#: Measured on the mirror (20,000 random pairs of titles with 20k+ votes): no pair without a
#: shared genre reaches 0.676 (= same type, decade and runtime band, nothing else; 99th
#: percentile 0.66), and every pair at 0.70 or more shares a genre (at 0.65: 95%; at 0.5: 65%).
CONTENT_NAMED = 0.70
#: ... or its ALS item cosine (people who liked one liked the other) at least this: the 99th
#: percentile of the same random pairs on the mirror (median 0.01, 90th 0.28, 99th 0.62), so a
#: named pair is in the top 1% of co-liking; The Godfather / Saw IV is 0.598, Goodfellas 0.85.
ALS_NAMED = 0.62

register(
    ScorerSpec(
        "content",
        "Content (TF-IDF)",
        *_deferred("content", "TfidfScorer", "TfidfConfig"),
        0.5,
        catalogue_only=True,
        help="similarity of a title's genres, decade, people and tags to each liked title",
        weight_grid=(0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
        quick_grid=(0.2, 0.4),
        named_at=CONTENT_NAMED,
    )
)
register(
    ScorerSpec(
        "als",
        "Collaborative (ALS)",
        *_deferred("als", "ALSScorer", "ALSConfig"),
        0.2,
        help="implicit ALS on MovieLens + app ratings, new users folded in",
        model="ALS",
        heir="taste",
        weight_grid=None,  # ALS takes the rest in `tune`
        named_at=ALS_NAMED,
        collaborative=True,
    )
)
register(
    ScorerSpec(
        "taste",
        "Genre taste",
        *_deferred("taste", "GenreTasteScorer", "TasteConfig"),
        0.2,
        catalogue_only=True,
        help="the user's genre lift over the catalogue's base rates",
        weight_grid=(0.0, 0.05, 0.1, 0.2),
        quick_grid=(0.0, 0.1),
        taste=True,
    )
)
register(
    ScorerSpec(
        "popularity",
        "Popularity (IMDb)",
        *_deferred("popularity", "PopularityScorer", "PopularityConfig"),
        0.1,
        catalogue_only=lambda config: config is None or config.source == "imdb",
        help="Bayesian IMDb rating x log votes: the quality prior",
        model="popularity (IMDb)",
        dump="popularity_imdb",
        weight_grid=(0.0, 0.05, 0.1, 0.2),
        quick_grid=(0.1,),
    )
)
