"""Contract tests every scorer must pass (LensKit style): ids kept in order, finite scores for
known items, NaN for unknown ones, the same scores after save / load, no mutation by score()."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from recsys.errors import ModelError
from recsys.models import (
    ALSConfig,
    ALSScorer,
    PopularityScorer,
    Profile,
    TfidfConfig,
    TfidfScorer,
    WeightedHybrid,
)
from tests.models.conftest import make_ratings, make_titles

UNKNOWN = "tt9999999"
PROFILE = [("tt0000001", 1), ("tt0000002", 2), ("tt0000101", 1), ("tt0000005", -1)]
ALS_SMALL = ALSConfig(factors=8, iterations=10, random_state=3, num_threads=1)


def _content() -> TfidfScorer:
    return TfidfScorer(TfidfConfig(min_df=1)).fit(make_titles())


def _als() -> ALSScorer:
    return ALSScorer(ALS_SMALL).fit(make_ratings())


def _popularity() -> PopularityScorer:
    return PopularityScorer().fit(make_titles())


def _hybrid() -> WeightedHybrid:
    h = WeightedHybrid.from_configs(TfidfConfig(min_df=1), ALS_SMALL)
    return h.fit(make_titles(), make_ratings())


FACTORIES: dict[str, Callable[[], object]] = {
    "content": _content,
    "als": _als,
    "popularity": _popularity,
    "hybrid": _hybrid,
}


@pytest.fixture(scope="module", params=list(FACTORIES))
def scorer(request: pytest.FixtureRequest) -> object:
    return FACTORIES[request.param]()


def known_candidates() -> list[str]:
    # titles every scorer knows: catalogue titles that MovieLens users also rated
    rated = set(make_ratings()["tconst"].to_list())
    return [t for t in make_titles()["tconst"].to_list() if t in rated]


def test_scores_follow_candidate_order(scorer: object) -> None:
    cands = known_candidates()
    forward = scorer.score(PROFILE, cands)
    backward = scorer.score(PROFILE, cands[::-1])
    np.testing.assert_allclose(forward, backward[::-1], rtol=1e-6)
    assert forward.shape == (len(cands),) and forward.dtype == np.float64


def test_finite_for_known_nan_for_unknown(scorer: object) -> None:
    cands = known_candidates()
    scores = scorer.score(PROFILE, [UNKNOWN, *cands, "not-a-title"])
    assert np.isnan(scores[0]) and np.isnan(scores[-1])
    assert np.isfinite(scores[1:-1]).all()


def test_profile_forms_are_equivalent(scorer: object) -> None:
    cands = known_candidates()
    frame = pl.DataFrame({"tconst": [t for t, _ in PROFILE], "value": [v for _, v in PROFILE]})
    np.testing.assert_allclose(scorer.score(frame, cands), scorer.score(PROFILE, cands))
    np.testing.assert_allclose(scorer.score(Profile.of(PROFILE), cands), scorer.score(PROFILE, cands))


def test_same_scores_after_save_and_load(scorer: object, tmp_path: Path) -> None:
    cands = [*known_candidates(), UNKNOWN]
    scorer.save(tmp_path / "s")
    loaded = type(scorer).load(tmp_path / "s")
    np.testing.assert_array_equal(loaded.score(PROFILE, cands), scorer.score(PROFILE, cands))


def test_score_does_not_change_the_model(scorer: object) -> None:
    cands = known_candidates()
    first = scorer.score(PROFILE, cands)
    scorer.score([("tt0000008", 2), ("tt0000009", 1)], cands)
    np.testing.assert_array_equal(scorer.score(PROFILE, cands), first)


def test_load_of_missing_folder_says_how_to_fix(scorer: object, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="python -m recsys train"):
        type(scorer).load(tmp_path / "nothing-here")


@pytest.mark.parametrize("name", ["content", "als"])
def test_user_without_signal_gets_nan(name: str) -> None:
    scorer = FACTORIES[name]()
    cands = known_candidates()
    assert np.isnan(scorer.score([], cands)).all()
    assert np.isnan(scorer.score([(UNKNOWN, 1)], cands)).all()


def test_popularity_ignores_the_profile() -> None:
    pop = _popularity()
    cands = ["tt0000103", "tt0000001", "tt0000108"]
    np.testing.assert_array_equal(pop.score([], cands), [95.0, 80.0, 8.0])
    np.testing.assert_array_equal(pop.score(PROFILE, cands), [95.0, 80.0, 8.0])
