"""The simulation of issue 23 (item 5), small and seeded: simulated testers click held-out
positives with position bias; interleaving names the arm that is better offline with far fewer
sessions than an A/B test, and neither names the worse arm."""

from __future__ import annotations

import random

from recsys.experiments.simulate import GRID, run_ab, run_interleaving, sessions_needed


def world(users: int = 60, seed: int = 7) -> tuple[dict[str, dict[int, list[str]]], dict[int, frozenset[str]]]:
    """Each user has 3 held-out positives among 40 titles; arm "good" ranks one of them in its top 3
    for 70% of users, arm "weak" for 35% (otherwise both rank unrelated titles)."""
    rng = random.Random(seed)
    lists: dict[str, dict[int, list[str]]] = {"good": {}, "weak": {}}
    positives: dict[int, frozenset[str]] = {}
    for u in range(users):
        titles = [f"t{u}-{i}" for i in range(40)]
        liked = titles[:3]
        positives[u] = frozenset(liked)
        for arm, hit in (("good", 0.7), ("weak", 0.35)):
            others = titles[3:]
            rng.shuffle(others)
            ranking = others[:8]
            if rng.random() < hit:
                ranking.insert(rng.randrange(3), liked[rng.randrange(3)])
            lists[arm][u] = ranking[:8]
    return lists, positives


def test_interleaving_needs_fewer_sessions_than_ab_and_both_pick_the_better_arm() -> None:
    lists, positives = world()
    inter, inter_shares, inter_wrong = sessions_needed(lists, positives, "good", method="interleave", runs=20, seed=1)
    ab, ab_shares, ab_wrong = sessions_needed(lists, positives, "good", method="ab", runs=20, seed=1)
    assert inter_wrong == ab_wrong == 0  # no replicate ever named the worse arm
    assert inter is not None and ab is not None
    assert inter < ab
    assert (inter, ab) == (100, 800)  # seeded; this small world: 8x fewer sessions
    assert inter_shares[inter] >= 0.8 and ab_shares[ab] >= 0.8
    assert list(inter_shares) == list(GRID[: GRID.index(inter) + 1])


def test_no_replicate_names_the_worse_arm() -> None:
    lists, positives = world()
    for r in range(20):
        assert run_interleaving(lists, positives, 400, 8, random.Random(r)).winner in ("good", None)
        assert run_ab(lists, positives, 400, 8, random.Random(r)).winner in ("good", None)


def test_identical_arms_give_no_verdict_most_of_the_time() -> None:
    lists, positives = world()
    same = {"A": lists["good"], "B": lists["good"]}
    verdicts = [run_interleaving(same, positives, 200, 8, random.Random(r)).winner for r in range(40)]
    assert sum(v is not None for v in verdicts) <= 4  # about 5% false verdicts at level 0.05
