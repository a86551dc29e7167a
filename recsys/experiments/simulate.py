"""Simulated testers, to show that the experiments find the better setting and how many sessions
each method needs (issue 23, item 5; ``bench/experiments.py`` runs it on held-out MovieLens users).

A simulated session is one held-out user (drawn at random) shown ``n`` cards: A/B shows the list
of the user's arm (a seeded random half of the users per arm), interleaving the team-draft merge
of both arms' lists. The user *clicks* (likes) a card when its title is among their held-out
positives, with the position bias of an examination model: the card at position ``i`` (1-based)
is looked at with probability ``1 / log2(i + 1)`` (1.0, 0.63, 0.5, 0.43, ...), the discount of
DCG. The verdict is the page's: interleaving's sign test over sessions with a preference, A/B's
comparison of the like rates with the tester as the unit, both at level 0.05.

**Sessions needed** (:func:`sessions_needed`): for each size ``N`` of a doubling grid, ``runs``
independent seeded replicates of ``N`` sessions; the smallest ``N`` at which at least ``power``
(0.8) of the replicates reach a confident verdict *for the arm that is better offline*. Fixed
sizes, not peeking after every session, so the 5% level holds.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from recsys.experiments.interleaving import credit, preferred, team_draft
from recsys.experiments.stats import compare_clustered, sign_test

#: Session counts tried, doubling.
GRID: tuple[int, ...] = (25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600)


def examined(position: int) -> float:
    """Probability that the card at ``position`` (1-based) is looked at: ``1 / log2(position + 1)``."""
    return 1.0 / math.log2(position + 1)


@dataclass(frozen=True)
class Outcome:
    """One replicate: the winner named with confidence (None: no confident verdict)."""

    winner: str | None
    p_value: float


def run_interleaving(
    lists: Mapping[str, Mapping[int, Sequence[str]]],
    positives: Mapping[int, frozenset[str]],
    sessions: int,
    n: int,
    rng: random.Random,
) -> Outcome:
    """``sessions`` interleaved sessions; the sign test between the two arms."""
    a, b = list(lists)
    users = sorted(positives)
    wins = {a: 0, b: 0}
    for _ in range(sessions):
        user = rng.choice(users)
        merged = team_draft({arm: lists[arm].get(user, ()) for arm in (a, b)}, n, rng=rng)
        liked = positives[user]
        clicks = [item for i, (item, _) in enumerate(merged, 1) if item in liked and rng.random() < examined(i)]
        votes = {a: 0, b: 0}
        votes.update(credit(merged, clicks))
        best = preferred(votes)
        if best is not None:
            wins[best] += 1
    p = sign_test(wins[a], wins[b])
    leader = a if wins[a] > wins[b] else b if wins[b] > wins[a] else None
    return Outcome(leader if p < 0.05 else None, p)


def run_ab(
    lists: Mapping[str, Mapping[int, Sequence[str]]],
    positives: Mapping[int, frozenset[str]],
    sessions: int,
    n: int,
    rng: random.Random,
) -> Outcome:
    """``sessions`` A/B sessions (each user in one arm, a seeded random half each); the page's
    test of the two like rates with the tester as the unit."""
    a, b = list(lists)
    users = sorted(positives)
    arm_of = {u: (a if rng.random() < 0.5 else b) for u in users}
    shown: dict[int, int] = {}
    liked_n: dict[int, int] = {}
    for _ in range(sessions):
        user = rng.choice(users)
        cards = list(lists[arm_of[user]].get(user, ()))[:n]
        liked = positives[user]
        shown[user] = shown.get(user, 0) + len(cards)
        liked_n[user] = liked_n.get(user, 0) + sum(
            1 for i, item in enumerate(cards, 1) if item in liked and rng.random() < examined(i)
        )
    units = {arm: [(liked_n[u], shown[u]) for u in shown if arm_of[u] == arm] for arm in (a, b)}
    cmp = compare_clustered(units[a], units[b])
    winner = (b if cmp.diff > 0 else a) if cmp.p_value < 0.05 and cmp.diff != 0 else None
    return Outcome(winner, cmp.p_value)


def sessions_needed(
    lists: Mapping[str, Mapping[int, Sequence[str]]],
    positives: Mapping[int, frozenset[str]],
    better: str,
    *,
    method: str,
    n: int = 8,
    runs: int = 40,
    power: float = 0.8,
    seed: int = 0,
    grid: Sequence[int] = GRID,
) -> tuple[int | None, dict[int, float], int]:
    """The smallest session count at which ``power`` of ``runs`` replicates name ``better`` with
    confidence (None: not within the grid), the share of correct verdicts per size tried, and how
    many replicates in all confidently named the *other* arm (a wrong verdict)."""
    run = run_interleaving if method == "interleave" else run_ab
    shares: dict[int, float] = {}
    wrong = 0
    for size in grid:
        correct = 0
        for r in range(runs):
            rng = random.Random(f"{seed}:{method}:{size}:{r}")
            winner = run(lists, positives, size, n, rng).winner
            correct += winner == better
            wrong += winner is not None and winner != better
        shares[size] = correct / runs
        if shares[size] >= power:
            return size, shares, wrong
    return None, shares, wrong
