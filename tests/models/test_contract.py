"""Contract tests every registered scorer (and the hybrid) must pass, LensKit style.

Parametrised over :data:`recsys.models.registry.SCORERS`, so a newly registered scorer is held
to the same contract without touching this file: ids kept in order, finite scores for known
titles, NaN for unknown ones, an empty or dislikes-only profile handled as the contract says
(no signal -> ``prepare`` returns None and every score is NaN; a profile-independent scorer gives
the same scores as for anyone), the same scores after save / load, no mutation by ``prepare`` /
``score``, contributions that name only liked titles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import polars as pl
import pytest

from recsys.errors import ModelError
from recsys.models import (
    ALSConfig,
    PopularityScorer,
    Profile,
    TfidfConfig,
    TrainingData,
    WeightedHybrid,
    registry,
)
from recsys.models.base import ProfileLike, Scorer
from tests.models.conftest import CLUSTERS, make_ratings, make_titles
from tests.support.narrow import present

UNKNOWN = "tt9999999"
PROFILE = [("tt0000001", 1), ("tt0000002", 2), ("tt0000101", 1), ("tt0000005", -1)]
OTHER = [("tt0000008", 2), ("tt0000009", 1), ("tt0000012", -1)]
DISLIKES_ONLY = [(t, -1) for t in CLUSTERS["crime"][:3]]
ALS_SMALL = ALSConfig(factors=8, iterations=10, random_state=3, num_threads=1)
CONFIGS = {"content": TfidfConfig(min_df=1), "als": ALS_SMALL}


def _data() -> TrainingData:
    return TrainingData(titles=make_titles(), ratings=make_ratings())


def _scorer(name: str) -> Callable[[], Scorer]:
    def build() -> Scorer:
        return registry.SCORERS[name].build(CONFIGS.get(name)).fit(_data())

    return build


def _hybrid() -> WeightedHybrid:
    return WeightedHybrid.from_configs(CONFIGS).fit(_data())


class Ranker(Protocol):
    """What the contract asks of every scorer and of the hybrid (which has no ``prepare``)."""

    def score(self, profile: ProfileLike, candidates: Sequence[str]) -> np.ndarray: ...

    def candidate_scorer(self, candidates: Sequence[str]) -> Callable[[ProfileLike], np.ndarray]: ...

    def save(self, directory: Path) -> None: ...


def _load(name: str) -> Callable[[Path], Ranker]:
    return WeightedHybrid.load if name == "hybrid" else registry.SCORERS[name].load


NAMES = [*registry.SCORERS, "hybrid"]


@pytest.fixture(scope="module", params=NAMES)
def named(request: pytest.FixtureRequest) -> tuple[str, Ranker]:
    name = request.param
    return name, (_hybrid() if name == "hybrid" else _scorer(name)())


@pytest.fixture(scope="module", params=list(registry.SCORERS))
def single(request: pytest.FixtureRequest) -> tuple[str, Scorer]:
    """Each registered scorer alone (the parts of the contract the hybrid does not have)."""
    return request.param, _scorer(request.param)()


def known_candidates() -> list[str]:
    # titles every scorer knows: catalogue titles that MovieLens users also rated
    rated = set(make_ratings()["tconst"].to_list())
    return [t for t in make_titles()["tconst"].to_list() if t in rated]


def test_every_registered_scorer_is_covered() -> None:
    assert set(NAMES) >= {"content", "als", "taste", "popularity", "hybrid"}


def test_scores_follow_candidate_order(named: tuple[str, Ranker]) -> None:
    _, scorer = named
    cands = known_candidates()
    forward = scorer.score(PROFILE, cands)
    backward = scorer.score(PROFILE, cands[::-1])
    np.testing.assert_allclose(forward, backward[::-1], rtol=1e-6)
    assert forward.shape == (len(cands),) and forward.dtype == np.float64


def test_finite_for_known_nan_for_unknown(named: tuple[str, Ranker]) -> None:
    _, scorer = named
    cands = known_candidates()
    scores = scorer.score(PROFILE, [UNKNOWN, *cands, "not-a-title"])
    assert np.isnan(scores[0]) and np.isnan(scores[-1])
    assert np.isfinite(scores[1:-1]).all()


def test_profile_forms_are_equivalent(named: tuple[str, Ranker]) -> None:
    _, scorer = named
    cands = known_candidates()
    frame = pl.DataFrame({"tconst": [t for t, _ in PROFILE], "value": [v for _, v in PROFILE]})
    np.testing.assert_allclose(scorer.score(frame, cands), scorer.score(PROFILE, cands))
    np.testing.assert_allclose(scorer.score(Profile.of(PROFILE), cands), scorer.score(PROFILE, cands))


def test_candidate_scorer_equals_score(named: tuple[str, Ranker]) -> None:
    _, scorer = named
    cands = [*known_candidates(), UNKNOWN]
    fn = scorer.candidate_scorer(cands)
    for profile in (PROFILE, OTHER):
        np.testing.assert_allclose(fn(profile), scorer.score(profile, cands), rtol=1e-12)


def test_same_scores_after_save_and_load(named: tuple[str, Ranker], tmp_path: Path) -> None:
    name, scorer = named
    cands = [*known_candidates(), UNKNOWN]
    scorer.save(tmp_path / "s")
    loaded = _load(name)(tmp_path / "s")
    for profile in (PROFILE, OTHER, DISLIKES_ONLY, []):
        np.testing.assert_array_equal(loaded.score(profile, cands), scorer.score(profile, cands))


def test_scoring_other_profiles_does_not_change_the_model(named: tuple[str, Ranker]) -> None:
    _, scorer = named
    cands = known_candidates()
    first = scorer.score(PROFILE, cands)
    scorer.score(OTHER, cands)
    scorer.score(DISLIKES_ONLY, cands)
    scorer.score([], cands)
    np.testing.assert_array_equal(scorer.score(PROFILE, cands), first)


def test_prepare_never_mutates_the_scorer(single: tuple[str, Scorer]) -> None:
    """A prepared query keeps its scores while other users are prepared and scored, and the
    scorer gives the same scores afterwards (one instance serves every session)."""
    _, scorer = single
    cands = known_candidates()
    block = scorer.candidates(cands)
    query = scorer.prepare(Profile.of(PROFILE))
    assert query is not None  # PROFILE has known likes: every scorer has a signal
    before = query.scores(block)
    for profile in (OTHER, DISLIKES_ONLY, [(UNKNOWN, 1)], []):
        other = scorer.prepare(Profile.of(profile))
        if other is not None:
            other.scores(block)
            other.contributions(block, np.arange(len(block)))
    np.testing.assert_array_equal(query.scores(block), before)
    np.testing.assert_array_equal(present(scorer.prepare(Profile.of(PROFILE))).scores(block), before)
    np.testing.assert_array_equal(scorer.score(PROFILE, cands), before)


def test_load_of_missing_folder_says_how_to_fix(named: tuple[str, Ranker], tmp_path: Path) -> None:
    name, _ = named
    with pytest.raises(ModelError, match="python -m recsys train"):
        _load(name)(tmp_path / "nothing-here")


def _profile_independent(scorer: Ranker, cands: list[str], scores: np.ndarray) -> bool:
    return np.array_equal(scores, scorer.score(PROFILE, cands), equal_nan=True) and np.array_equal(
        scores, scorer.score(OTHER, cands), equal_nan=True
    )


@pytest.mark.parametrize("profile", [[], [(UNKNOWN, 1)]], ids=["empty", "unknown-only"])
def test_no_signal_means_no_query_or_a_profile_independent_score(single: tuple[str, Scorer], profile: list) -> None:
    """The contract: ``prepare`` returns None without signal (then every score is NaN); a scorer
    that ignores the profile (popularity) always answers and gives everyone the same scores."""
    _, scorer = single
    cands = known_candidates()
    scores = scorer.score(profile, cands)
    if scorer.prepare(Profile.of(profile)) is None:
        assert np.isnan(scores).all()
    else:
        assert np.isfinite(scores).all()
        assert _profile_independent(scorer, cands, scores)


@pytest.mark.parametrize("name", ["content", "als", "taste"])
def test_personal_scorers_have_no_signal_for_an_empty_profile(name: str) -> None:
    scorer = _scorer(name)()
    assert scorer.prepare(Profile.of([])) is None
    assert np.isnan(scorer.score([], known_candidates())).all()


def test_dislikes_only_never_promote_the_disliked_cluster(single: tuple[str, Scorer]) -> None:
    """Disliking three crime titles: no scorer may treat that as liking crime. Either it has no
    signal (NaN), ignores the profile, or ranks the remaining crime titles below the rest."""
    _, scorer = single
    rated = {t for t, _ in DISLIKES_ONLY}
    cands = [t for t in known_candidates() if t not in rated]
    scores = scorer.score(DISLIKES_ONLY, cands)
    if np.isnan(scores).all() or _profile_independent(scorer, cands, scores):
        return
    crime = [i for i, t in enumerate(cands) if t in CLUSTERS["crime"]]
    rest = [i for i, t in enumerate(cands) if t not in CLUSTERS["crime"]]
    assert np.nanmean(scores[crime]) < np.nanmean(scores[rest])


def test_dislikes_only_hybrid_keeps_crime_off_the_top() -> None:
    hybrid = _hybrid()
    rated = {t for t, _ in DISLIKES_ONLY}
    cands = [t for t in known_candidates() if t not in rated]
    scores = hybrid.score(DISLIKES_ONLY, cands)
    assert np.isfinite(scores).all()  # popularity still scores every title
    assert cands[int(np.nanargmax(scores))] not in CLUSTERS["crime"]


def test_empty_profile_hybrid_is_the_popularity_order() -> None:
    """With no signal the personal scorers are NaN (counted 0), so the blend orders by the
    popularity prior alone."""
    hybrid = _hybrid()
    cands = known_candidates()
    scores = hybrid.score([], cands)
    pop = hybrid["popularity"].score([], cands)
    assert np.isfinite(scores).all()
    assert list(np.argsort(-scores, kind="stable")) == list(np.argsort(-pop, kind="stable"))


def test_contributions_name_only_liked_titles(single: tuple[str, Scorer]) -> None:
    _, scorer = single
    cands = [*known_candidates(), UNKNOWN]
    block = scorer.candidates(cands)
    query = present(scorer.prepare(Profile.of(PROFILE)))
    positions = np.arange(len(block))
    names, contrib = query.contributions(block, positions)
    liked = {t for t, v in PROFILE if v > 0}
    assert set(names) <= liked
    assert contrib.shape == (len(positions), len(names))
    if names:  # a scorer that splits its score: liked titles explain the known candidates
        assert np.isfinite(contrib[:-1]).all()
        assert np.abs(contrib[:-1]).sum() > 0


def test_popularity_ignores_the_profile() -> None:
    pop = PopularityScorer().fit(TrainingData(titles=make_titles()))
    cands = ["tt0000103", "tt0000001", "tt0000108"]
    np.testing.assert_array_equal(pop.score([], cands), [95.0, 80.0, 8.0])
    np.testing.assert_array_equal(pop.score(PROFILE, cands), [95.0, 80.0, 8.0])
