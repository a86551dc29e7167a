"""Team-draft interleaving (issue 23): who picks when, which arm a card is credited to, and the
session preference built from it, on hand-written rankings with scripted coin flips."""

from __future__ import annotations

import random
from collections.abc import MutableSequence, Sequence
from typing import Any

from recsys.experiments.interleaving import credit, preferred, team_draft


class Scripted(random.Random):
    """A 'random' source whose shuffles put the arms in the given orders, one per round."""

    def __init__(self, orders: Sequence[Sequence[str]]) -> None:
        super().__init__(0)
        self.orders = list(orders)

    def shuffle(self, x: MutableSequence[Any], *args: Any, **kw: Any) -> None:
        x[:] = list(self.orders.pop(0))


A = ["a", "b", "c", "d", "e"]
B = ["b", "f", "a", "g", "c"]


def test_team_draft_picks_each_arms_best_unpicked_title_in_the_flipped_order() -> None:
    merged = team_draft({"A": A, "B": B}, 6, rng=Scripted([["A", "B"], ["B", "A"], ["A", "B"]]))
    # round 1: A takes a, B takes b; round 2: B takes f, A skips b (taken) and takes c;
    # round 3: A takes d, B skips a and takes g
    assert merged == [("a", "A"), ("b", "B"), ("f", "B"), ("c", "A"), ("d", "A"), ("g", "B")]


def test_team_draft_when_both_arms_want_the_same_title_the_first_picker_gets_it() -> None:
    merged = team_draft({"A": A, "B": B}, 2, rng=Scripted([["B", "A"]]))
    assert merged == [("b", "B"), ("a", "A")]  # B picked b first, so A's "b" would be a duplicate


def test_team_draft_arm_out_of_titles_sits_out_and_length_is_bounded() -> None:
    merged = team_draft({"A": ["a"], "B": ["b", "c", "d"]}, 10, rng=Scripted([["A", "B"]] * 5))
    assert merged == [("a", "A"), ("b", "B"), ("c", "B"), ("d", "B")]


def test_team_draft_is_stable_for_one_seed() -> None:
    first = team_draft({"A": A, "B": B}, 5, seed=1234)
    assert all(team_draft({"A": A, "B": B}, 5, seed=1234) == first for _ in range(5))
    assert {arm for _, arm in first} == {"A", "B"}


def test_credit_counts_each_click_for_the_arm_that_placed_it() -> None:
    merged = [("a", "A"), ("b", "B"), ("f", "B"), ("c", "A")]
    assert credit(merged, ["b", "f", "zz"]) == {"A": 0, "B": 2}
    assert credit(merged, ["a", "b"]) == {"A": 1, "B": 1}


def test_preferred_needs_a_strict_lead() -> None:
    assert preferred({"A": 0, "B": 2}) == "B"
    assert preferred({"A": 1, "B": 1}) is None
    assert preferred({"A": 0, "B": 0}) is None
    assert preferred({"A": 3, "B": 1, "C": 2}) == "A"
