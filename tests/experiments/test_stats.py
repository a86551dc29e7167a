"""The experiments' statistics on hand-computed cases (issue 23): Wilson intervals of the A/B
rates, the exact sign test of interleaving, the two-rate comparison and the power estimates."""

from __future__ import annotations

import pytest

from recsys.experiments.stats import (
    NEVER,
    cards_needed,
    compare_clustered,
    compare_rates,
    sessions_needed,
    sign_test,
    wilson,
)


def test_wilson_interval_of_three_likes_in_twenty_cards() -> None:
    # p = 0.15, z = 1.959964: centre (0.15 + 0.096039) / 1.192073, half 0.124767 / 1.192073
    low, high = wilson(3, 20)
    assert low == pytest.approx(0.052368746, abs=1e-8)
    assert high == pytest.approx(0.360418865, abs=1e-8)


def test_wilson_interval_at_the_edges_stays_in_zero_one() -> None:
    assert wilson(0, 5) == (0.0, pytest.approx(0.434482465, abs=1e-8))
    assert wilson(5, 5) == (pytest.approx(0.565517535, abs=1e-8), 1.0)
    assert wilson(0, 0) == (0.0, 1.0)  # nothing shown: nothing known
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson(6, 5)


def test_sign_test_exact_binomial_p_values() -> None:
    assert sign_test(1, 9) == 22 / 1024  # 2 * (C(10,0) + C(10,1)) / 2^10
    assert sign_test(9, 1) == 22 / 1024
    assert sign_test(2, 8) == pytest.approx(2 * (1 + 10 + 45) / 1024)  # 0.109375: not significant
    assert sign_test(5, 5) == 1.0
    assert sign_test(0, 0) == 1.0
    assert sign_test(0, 6) == 2 / 64  # 0.03125: six of six sessions suffice


def test_compare_rates_difference_interval_and_p_value() -> None:
    result = compare_rates(10, 100, 20, 100)
    assert result.diff == pytest.approx(0.10)
    assert result.low == pytest.approx(0.000149, abs=1e-6)  # Newcombe: just above 0
    assert result.high == pytest.approx(0.199474, abs=1e-6)
    assert result.p_value == pytest.approx(0.047670, abs=1e-6)  # pooled z = 2.1106
    assert compare_rates(0, 0, 3, 10).p_value == 1.0  # an arm with nothing shown decides nothing


def test_power_estimates() -> None:
    assert sessions_needed(0.6) == 194
    assert sessions_needed(0.4) == 194  # symmetric: which arm leads does not matter
    assert sessions_needed(0.7) == 47
    assert sessions_needed(0.5) == NEVER
    assert sessions_needed(1.0) == 6  # sign_test(0, 6) = 0.031 < 0.05 <= sign_test(0, 5)
    assert sessions_needed(0.9) == 10
    assert cards_needed(0.10, 0.12) == 3841
    assert cards_needed(0.10, 0.15) == 686
    assert cards_needed(0.1, 0.1) == NEVER


def test_compare_clustered_uses_testers_as_the_unit() -> None:
    result = compare_clustered([(1, 10), (3, 10)], [(5, 10), (7, 10)])
    # R_a = 0.2, R_b = 0.6; Var = ((1-2)² + (3-2)²) / (2 * 1 * 10²) = 0.01 each; se = 0.141421
    assert result.diff == pytest.approx(0.4)
    assert (result.low, result.high) == (pytest.approx(0.122819, abs=1e-6), pytest.approx(0.677181, abs=1e-6))
    assert result.p_value == pytest.approx(0.0046777, abs=1e-6)
    # testers who disagree (0 and 4 likes of 10; 2 and 10 of 10): the per-card test of the same
    # 4 / 20 against 12 / 20 says p = 0.0098, the testers say this could well be chance
    split = compare_clustered([(0, 10), (4, 10)], [(2, 10), (10, 10)])
    assert split.p_value == pytest.approx(0.371093, abs=1e-6)  # se = sqrt(0.04 + 0.16)
    assert compare_rates(0 + 4, 20, 2 + 10, 20).p_value == pytest.approx(0.009823, abs=1e-6)
    assert compare_clustered([(1, 10)], [(5, 10), (7, 10)]).p_value == 1.0  # one tester: no test
