"""The scorer registry: one ``register`` line makes a new scorer part of the hybrid, the weights
syntax, the evaluation's model rows and the recommender's output; and the weights rules.

The toy scorer below ("recency": newer titles score higher, whoever asks) implements the
contract in a few lines; the ``toy`` fixture registers it and unregisters it afterwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recsys.errors import EvaluationError, ModelError
from recsys.evaluation import runner
from recsys.evaluation.runner import EvaluationConfig, run_evaluation
from recsys.models import Recommender, RecommenderConfig, TrainingData, WeightedHybrid, registry
from recsys.models.base import (
    Block,
    ItemIndex,
    Profile,
    ScorerBase,
    gather,
    load_npz,
    read_json,
    require,
    write_json,
)
from recsys.models.registry import ScorerSpec, check_weights, parse_weights
from recsys.models.rerank.registry import no_stages
from tests.models.conftest import make_ratings, make_titles, small_scorer_configs
from tests.support.narrow import present

TOY = "recency"


@dataclass(frozen=True)
class RecencyConfig:
    base_year: int = 1900


class RecencyQuery:
    def scores(self, block: Block) -> np.ndarray:
        return np.array(block.data, dtype=np.float64, copy=True)

    def contributions(self, block: Block, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        return [], np.zeros((len(positions), 0))


class RecencyScorer(ScorerBase):
    """Years since ``base_year``: the newest title scores highest; ignores the profile."""

    name = TOY

    def __init__(self, config: RecencyConfig | None = None) -> None:
        self.config = config or RecencyConfig()
        self.items: ItemIndex | None = None
        self.values: np.ndarray | None = None

    def fit(self, data: TrainingData, progress: object = None) -> RecencyScorer:
        titles = data.titles
        self.items = ItemIndex(titles["tconst"].to_list())
        self.values = titles["start_year"].cast(pl.Float64).to_numpy() - self.config.base_year
        return self

    def candidates(self, tconsts: Sequence[str]) -> Block:
        assert self.items is not None and self.values is not None
        positions = self.items.lookup(tconsts)
        return Block(tconsts, positions, gather(self.values, positions))

    def prepare(self, profile: Profile) -> RecencyQuery:
        return RecencyQuery()

    def save(self, directory: Path) -> None:
        assert self.items is not None and self.values is not None
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / "recency.npz", values=self.values)
        self.items.save(directory / "items.json")
        write_json(directory / "config.json", {"base_year": self.config.base_year})

    @classmethod
    def load(cls, directory: Path) -> RecencyScorer:
        require(directory, "recency.npz", "items.json", "config.json")
        scorer = cls(RecencyConfig(**read_json(directory / "config.json")))
        scorer.items = ItemIndex.load(directory / "items.json")
        scorer.values = load_npz(directory / "recency.npz")["values"]
        return scorer


@pytest.fixture
def toy() -> Iterator[ScorerSpec]:
    spec = registry.register(
        ScorerSpec(
            TOY,
            "Recency (toy)",
            RecencyScorer,
            RecencyScorer.load,
            RecencyConfig,
            0.0,
            catalogue_only=True,
            help="newer titles first",
            model="recency (toy)",
        )
    )
    try:
        yield spec
    finally:
        registry.unregister(TOY)
    assert TOY not in registry.names()


def _year(tconst: str) -> int:
    titles = make_titles()
    return dict(zip(titles["tconst"].to_list(), titles["start_year"].to_list(), strict=True))[tconst]


# --- a registered toy scorer takes part everywhere -------------------------------------------


def test_toy_appears_in_the_registry_names_and_weights(toy: ScorerSpec) -> None:
    assert registry.names() == ("content", "als", "taste", "popularity", TOY)
    assert registry.default_weights()[TOY] == 0.0
    assert parse_weights("recency=1,content=0") == {
        "content": 0.0,
        "als": 0.0,
        "taste": 0.0,
        "popularity": 0.0,
        TOY: 1.0,
    }
    assert "recency 0.00" in registry.format_weights(registry.default_weights())


def test_toy_is_built_fitted_and_blended_by_the_hybrid(toy: ScorerSpec) -> None:
    hybrid = WeightedHybrid.from_configs(small_scorer_configs())
    assert list(hybrid.scorers) == list(registry.names())
    assert isinstance(hybrid[TOY], RecencyScorer)
    hybrid.fit(TrainingData(titles=make_titles(), ratings=make_ratings()))
    cands = ["tt0000001", "tt0000016", "tt0000011", "tt9999999"]  # 1994, 2015, 2010, unknown
    scores = hybrid.score([("tt0000005", 1)], cands, weights={TOY: 1.0})
    assert np.isnan(scores[3])
    assert [cands[i] for i in np.argsort(-scores[:3])] == ["tt0000016", "tt0000011", "tt0000001"]


def test_toy_gets_its_own_evaluation_row_and_weight_column(toy: ScorerSpec) -> None:
    assert runner.model_names() == (
        "popularity",
        "content",
        "ALS",
        "taste",
        "popularity (IMDb)",
        "recency (toy)",
        "hybrid (current)",
        "hybrid (best sweep step)",
        "served (hybrid + ranking stages)",
    )
    config = EvaluationConfig(factors=4, iterations=3, k=2, sweep=(0.0, 1.0, 0.5), min_positives=4)
    result = run_evaluation(make_titles(), make_ratings(), config, configs=small_scorer_configs())
    assert result.models["model"].to_list() == list(runner.model_names())
    row = result.models.filter(pl.col("model") == "recency (toy)").row(0, named=True)
    assert row["recency_weight"] == 1.0 and row["content_weight"] == 0.0
    # the toy's lists are the newest unrated titles: every list is sorted by year, newest first
    for top in result.tops["recency (toy)"].values():
        years = [_year(t) for t in top]
        assert years == sorted(years, reverse=True)
    assert "recency=0.00" in result.sweep["model"][0]
    assert "recency_weight" in result.sweep.columns


def test_toy_component_is_a_column_of_the_recommendations(toy: ScorerSpec, tmp_path: Path) -> None:
    config = RecommenderConfig(scorers=small_scorer_configs(), stages=no_stages())
    rec = Recommender.fit(TrainingData(titles=make_titles(), ratings=make_ratings()), config)
    profile = [("tt0000001", 1), ("tt0000002", 1), ("tt0000003", 1), ("tt0000005", -1)]
    out = rec.recommend(profile, "movie", n=4, weights={TOY: 1.0})
    assert out.columns == ["tconst", "score", "rank", "reason", "content", "als", "taste", "popularity", TOY]
    # the newest unrated movies: Loud City (2015), Quiet Fields (2012), Orbit (2010), Laugh Forever (2006)
    assert out["tconst"].to_list() == ["tt0000016", "tt0000015", "tt0000011", "tt0000007"]
    assert out[TOY].is_finite().all() and out["content"].is_nan().all()
    # default weights (toy 0): the column is there, not computed
    assert rec.recommend(profile, "movie", n=3)[TOY].is_nan().all()
    # saved and loaded with the other scorers
    loaded = Recommender.load(rec.save(tmp_path / "models"))
    assert loaded.recommend(profile, "movie", n=4, weights={TOY: 1.0}).equals(out)


def test_a_name_is_registered_once_and_must_be_an_identifier(toy: ScorerSpec) -> None:
    with pytest.raises(ModelError, match="already registered"):
        registry.register(toy)
    bad = ScorerSpec("not a name", "x", RecencyScorer, RecencyScorer.load, RecencyConfig, 0.0)
    with pytest.raises(ModelError, match="identifiers"):
        registry.register(bad)
    assert "not a name" not in registry.names()


def test_unregister_removes_the_toy_everywhere(toy: ScorerSpec) -> None:
    registry.unregister(TOY)
    assert TOY not in registry.names()
    assert TOY not in WeightedHybrid.from_configs().scorers
    with pytest.raises(ModelError, match="Unknown scorer 'recency'"):
        parse_weights("recency=1")
    registry.register(toy)  # the fixture's finaliser unregisters it again


# --- weights ---------------------------------------------------------------------------------


def test_registered_scorers_and_their_defaults() -> None:
    assert registry.names() == ("content", "als", "taste", "popularity")
    assert registry.default_weights() == {"content": 0.5, "als": 0.2, "taste": 0.2, "popularity": 0.1}
    assert [s.model for s in registry.SCORERS.values()] == ["content", "ALS", "taste", "popularity (IMDb)"]
    assert registry.example() == "content=0.5,als=0.2,taste=0.2,popularity=0.1"


def test_weights_by_name_missing_names_weigh_zero() -> None:
    assert parse_weights("content=0.4,als=0.5") == {"content": 0.4, "als": 0.5, "taste": 0.0, "popularity": 0.0}
    assert parse_weights(" als = 1 , taste=0.25 ") == {"content": 0.0, "als": 1.0, "taste": 0.25, "popularity": 0.0}
    assert check_weights({"popularity": 2}) == {"content": 0.0, "als": 0.0, "taste": 0.0, "popularity": 2.0}


def test_legacy_positional_weights_are_content_als_popularity() -> None:
    expected = {"content": 0.5, "als": 0.4, "taste": 0.0, "popularity": 0.1}
    assert parse_weights("0.5,0.4,0.1") == expected
    assert check_weights([0.5, 0.4, 0.1]) == expected
    # one number per scorer is read in registry order
    assert check_weights([0.5, 0.2, 0.2, 0.1]) == registry.default_weights()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope=1", r"Unknown scorer 'nope' in the weights; known: content, als, taste, popularity\."),
        ("content=0,als=0", "must not all be zero"),
        ("0,0,0", "must not all be zero"),
        ("content=-0.1,als=1", r"weight of content must be a finite number >= 0, got '-0.1'"),
        ("content=nan,als=1", "finite number >= 0"),
        ("content=lots", "weight of content must be a number"),
        ("content=1,0.5", "Mix of name=value and plain numbers"),
        ("1,2", "one number per scorer"),
        ("", "name=value pairs such as content=0.5,als=0.2"),
    ],
)
def test_bad_weights_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        parse_weights(text)


def test_bad_weights_are_refused_by_every_consumer() -> None:
    with pytest.raises(EvaluationError, match="known: content, als, taste, popularity"):
        EvaluationConfig(weights={"nope": 1})
    with pytest.raises(ModelError, match="Unregistered scorer"):
        WeightedHybrid({"nope": RecencyScorer()})


def test_toy_is_tuned_swept_gridded_and_set_live_with_no_edit_elsewhere(toy: ScorerSpec, tmp_path: Path) -> None:
    """Issue 19: adding a scorer is one module + one registry line, including tune, the sweep,
    the grid, the lab's weight inputs and `weights set`."""
    from recsys.evaluation import grid
    from recsys.evaluation.tuning import TuneConfig
    from recsys.models import weights
    from recsys.store import Store

    # tune: a scorer that declares no grid is tried at 0, 0.1 and 0.2; a declared grid is used
    assert {w[TOY] for w in TuneConfig().weight_grid()} == {0.0, 0.1, 0.2}
    wide = dataclasses.replace(toy, weight_grid=(0.0, 0.3))
    registry.SCORERS[TOY] = wide
    tried = TuneConfig().weight_grid()
    assert {w[TOY] for w in tried} == {0.0, 0.3} and all(abs(sum(w.values()) - 1) < 1e-9 for w in tried)
    assert set(TuneConfig.quick().weight_grids()) == {"content", "taste", "popularity", TOY}
    # the sweep trades weight between the toy and content, through the live point
    live = {"content": 0.5, "als": 0.2, "taste": 0.2, "popularity": 0.1, TOY: 0.1}
    config = EvaluationConfig(weights=live, sweep=(0.0, 1.0, 0.5), sweep_pair=(TOY, "content"))
    steps = config.sweep_weights()
    assert [(w[TOY], w["content"]) for w in steps] == [(0.0, 0.6), (0.1, 0.5), (0.3, 0.3), (0.6, 0.0)]
    assert steps[config.live_step() or 0] == live
    # the grid over the toy and ALS holds the live point as a cell
    assert live in grid.grid_points((TOY, "als"), 0.5, live)
    # weights set, through the one audited write
    with Store.open("sqlite://") as store:
        store.create_user("root", "Root", "root@example.com", "h")
        weights.apply(store, parse_weights("recency=1,content=0.5"), by="root")
        assert weights.current(store)[TOY] == 1.0


def test_every_scorer_declares_what_tune_and_the_reasons_read() -> None:
    """Enumerates the registry: exactly one scorer takes the rest in tune, thresholds are cosines."""
    rest = [n for n, s in registry.SCORERS.items() if s.weight_grid is None]
    assert len(rest) == 1
    for name in registry.with_capability("named_at"):
        assert 0.0 < present(registry.SCORERS[name].named_at) <= 1.0
    assert all(registry.SCORERS[n].heir in (None, *registry.names()) for n in registry.names())
