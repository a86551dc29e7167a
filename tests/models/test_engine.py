"""The fused feed engine (recsys/models/engine.py): the same blend as zscore_blend, from terms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recsys.models import Recommender
from recsys.models.audience import maturity
from recsys.models.base import Profile
from recsys.models.engine import DenseTerm, fused_blend, term_of, zscores_of
from recsys.models.hybrid import zscore_blend, zscores_at
from recsys.models.registry import SCORERS
from recsys.models.rerank.registry import no_stages
from tests.models.conftest import CLUSTERS, make_ratings, make_titles, small_config, training_data


def test_fused_blend_is_zscore_blend_by_hand() -> None:
    # a = [1, 2, 3, 4]: position 3 removed -> mean 2, std sqrt(2/3); b constant where scored
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([5.0, np.nan, 5.0, 5.0])
    c = np.array([np.nan, np.nan, 1.0, np.nan])
    weights = {"a": 1.0, "b": 1.0, "c": 0.0}
    removed = np.array([3])
    got, stats = fused_blend({n: DenseTerm(v) for n, v in {"a": a, "b": b, "c": c}.items()}, weights, 4, removed)
    std = math.sqrt(2 / 3)
    assert stats["a"] == pytest.approx((2.0, std))
    assert stats["b"] == (5.0, 0.0)
    np.testing.assert_allclose(got[:3], [-1 / std / 2, 0.0, 1 / std / 2])
    assert np.isnan(got[3])
    want, want_stats = zscore_blend({"a": a, "b": b, "c": c}, weights, removed)
    np.testing.assert_allclose(got, want)
    assert stats.keys() == want_stats.keys()


def test_a_candidate_no_weighted_scorer_scores_is_nan() -> None:
    a = np.array([1.0, np.nan, 3.0])
    got, _ = fused_blend({"a": DenseTerm(a)}, {"a": 1.0}, 3)
    np.testing.assert_allclose(got, [-1.0, np.nan, 1.0])  # z over the two it scores


@pytest.fixture(scope="module")
def rec() -> Recommender:
    return Recommender.fit(training_data(make_titles(), make_ratings()), small_config())


PROFILES = [
    [(t, 1) for t in CLUSTERS["crime"][:3]],
    [(CLUSTERS["scifi"][0], 2), (CLUSTERS["comedy"][0], -1), (CLUSTERS["romance"][0], 1), (CLUSTERS["scifi"][1], 1)],
    [(CLUSTERS["comedy"][3], 1), (CLUSTERS["comedy"][4], 1), (CLUSTERS["comedy"][0], 1)],
]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("name", list(SCORERS))
def test_every_scorers_term_matches_its_scores(rec: Recommender, profile: list, name: str) -> None:
    """Each registered scorer's fused term (or the dense fallback) gives the scores, their moments
    and the values at any position of ``scores(block)``."""
    query = rec.hybrid.scorers[name].prepare(Profile.of(profile))
    if query is None:
        pytest.skip("no signal for this profile")
    for sec in rec.sections.values():
        block = sec.blocks[name]
        raw = query.scores(block)
        term = term_of(query, block)
        ok = ~np.isnan(raw)
        count, s1, s2 = term.moments()
        assert count == int(ok.sum())
        assert s1 == pytest.approx(float(raw[ok].sum()), rel=1e-9, abs=1e-9)
        assert s2 == pytest.approx(float(np.dot(raw[ok], raw[ok])), rel=1e-9, abs=1e-9)
        positions = np.arange(len(sec))[::-1]
        np.testing.assert_allclose(term.at(positions), raw[positions], rtol=1e-12, equal_nan=True)
        out = np.zeros(len(sec))
        where = term.add_to(out, 2.0, 0.5)
        scored = np.arange(len(sec)) if where is None else np.sort(where)
        np.testing.assert_array_equal(scored, np.flatnonzero(ok))
        np.testing.assert_allclose(out[ok], (raw[ok] - 0.5) * 2.0, rtol=1e-9, atol=1e-12)
        assert not out[~ok].any()


@pytest.mark.parametrize("profile", PROFILES)
def test_feed_blend_equals_the_reference_blend(rec: Recommender, profile: list) -> None:
    """The served scores and components are zscore_blend's over the scorers' full score arrays."""
    prof = Profile.of(profile)
    weights = rec.effective_weights(prof, None)
    queries = rec.queries(prof, weights)
    for kind, sec in rec.sections.items():
        removed = rec._removed(sec, prof, [])
        active = {n: q for n, q in queries.items() if weights.get(n) and n not in sec.blind}
        raws = {n: q.scores(sec.blocks[n]) for n, q in active.items()}
        want, stats = zscore_blend(raws, weights, removed)
        got, got_stats = fused_blend(
            {n: term_of(q, sec.blocks[n]) for n, q in active.items()}, weights, len(sec), removed
        )
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, equal_nan=True)
        top = np.arange(len(sec))
        for n in active:
            np.testing.assert_allclose(
                zscores_of(term_of(active[n], sec.blocks[n]), got_stats[n], top, removed),
                zscores_at(raws[n], stats[n], top, removed),
                rtol=1e-9,
                atol=1e-12,
                equal_nan=True,
            )
        if not sec.blind:
            served = rec.recommend(profile, kind, n=len(sec), stages=no_stages())
            order = np.lexsort((np.arange(len(want)), -np.nan_to_num(want, nan=-np.inf)))
            finite = [i for i in order if np.isfinite(want[i])]
            assert served["tconst"].to_list()[: len(finite)] == [sec.tconsts[i] for i in finite]


def test_sections_hold_each_titles_maturity(rec: Recommender) -> None:
    """The per-title maturity the reasons index (children's 1, mature 2) is the genres' own."""
    for sec in rec.sections.values():
        assert sec.maturity.tolist() == [maturity(g) for g in sec.genres]
    assert 1 in rec.sections["movie"].maturity.tolist() or 2 in rec.sections["movie"].maturity.tolist()
