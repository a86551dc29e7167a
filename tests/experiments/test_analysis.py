"""An experiment's results from hand-written exposure and action logs (issue 23): actions linked
to the card they answer, per-arm rates with Wilson intervals, the interleaving preference with
its sign test, the verdict and the exports."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from recsys.experiments.analysis import linked_actions, summarise
from recsys.experiments.arms import Arm, Experiment
from recsys.experiments.records import ACTION_SCHEMA, EXPOSURE_SCHEMA

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ARMS = (
    Arm("A", {"content": 0.5, "als": 0.2, "taste": 0.2, "popularity": 0.1}),
    Arm("B", {"content": 0.2, "als": 0.6, "taste": 0.2, "popularity": 0.0}),
)


def experiment(method: str) -> Experiment:
    return Experiment(1, "A vs B", "movie", method, ARMS, "running", T0, "ann", started_at=T0)


def exposures(rows: list[tuple[int, str, str, str, int]]) -> pl.DataFrame:
    """(minute, user-session, tconst, setting, position) -> exposure frame (user = session's first char)."""
    return pl.DataFrame(
        [
            (i + 1, T0 + timedelta(minutes=m), int(s[0]), s, f"r{m}", "movie", t, pos, arm, 1, "v1")
            for i, (m, s, t, arm, pos) in enumerate(rows)
        ],
        schema=EXPOSURE_SCHEMA,
        orient="row",
    )


def actions(rows: Sequence[tuple[float, int, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [(u, t, a, T0 + timedelta(minutes=m)) for m, u, t, a in rows], schema=ACTION_SCHEMA, orient="row"
    )


def test_an_action_answers_the_latest_card_shown_before_it_and_undo_cancels_it() -> None:
    shown = exposures([(0, "1s", "tt1", "A", 1), (0, "1s", "tt2", "B", 2), (5, "1s", "tt2", "B", 1)])
    acts = actions(
        [
            (1, 1, "tt1", "like"),
            (2, 1, "tt1", "removed"),  # Undo
            (6, 1, "tt2", "superlike"),
            (7, 1, "tt9", "like"),  # never shown: answers nothing
            (3, 2, "tt2", "like"),  # another person: never shown tt2
        ]
    )
    linked = linked_actions(shown, acts)
    assert linked.select("session", "tconst", "setting", "action").rows() == [("1s", "tt2", "B", "superlike")]


def test_ab_rates_per_card_with_wilson_intervals_and_testers_as_the_unit() -> None:
    # arm A: testers 1 and 2, 10 cards each, 2 and 1 likes (and a dislike);
    # arm B: testers 3 and 4, 10 cards each, 5 and 6 positives (likes, one superlike, one hide)
    rows = [(0, f"{u}s", f"a{i}", "A", i) for u in (1, 2) for i in range(10)]
    rows += [(0, f"{u}s", f"b{i}", "B", i) for u in (3, 4) for i in range(10)]
    rows += [(2, "1s", "a5", "A", 1)]  # a re-render after a click: one more exposure, not one more card
    acts = [(1, 1, "a0", "like"), (1, 1, "a1", "like"), (1, 2, "a2", "like"), (1, 2, "a3", "dislike")]
    acts += [(1, 3, f"b{i}", "like") for i in range(4)] + [(1, 3, "b4", "superlike"), (1, 3, "b5", "hide")]
    acts += [(1, 4, f"b{i}", "like") for i in range(6)]
    result = summarise(experiment("ab"), exposures(rows), actions(acts))
    a, b = result.arms
    assert (a.exposures, a.cards, a.sessions, a.testers) == (21, 20, 2, 2)
    assert (b.exposures, b.cards, b.sessions, b.testers) == (20, 20, 2, 2)
    assert a.rates["like"].count == 3 and a.rates["like"].rate == 0.15
    assert (a.rates["like"].low, a.rates["like"].high) == (
        pytest.approx(0.052368746, abs=1e-8),
        pytest.approx(0.360418865, abs=1e-8),
    )
    assert a.rates["dislike"].count == 1
    assert b.rates["positive"].count == 11 and b.rates["positive"].rate == 0.55
    assert b.rates["superlike"].count == 1 and b.rates["hide"].count == 1
    comparison = result.comparison
    assert comparison is not None
    # per tester (2, 10), (1, 10) against (5, 10), (6, 10): Var = 0.5 / (2 * 1 * 10²) = 0.0025 each,
    # se = 0.070711, difference 0.40, interval 0.40 ± 1.959964 * 0.070711
    assert comparison.diff == pytest.approx(0.4)
    assert (comparison.low, comparison.high) == (pytest.approx(0.261410, abs=1e-6), pytest.approx(0.538590, abs=1e-6))
    assert comparison.p_value == pytest.approx(1.5417e-08, rel=1e-3)
    assert result.verdict.decided and result.verdict.winner == "B" and result.leading() == "B"
    assert result.verdict.text == (
        "B preferred: positive rate 55.0% against 15.0% for A, difference 40.0% "
        "(95% interval 26.1% to 53.9%, testers as the unit; p = 1.54e-08)."
    )
    table = result.arms_table()
    assert table["like rate"].to_list() == [0.15, 0.5]
    assert table["cards"].to_list() == [20, 20]
    csv = result.to_csv()
    assert csv.splitlines()[0].startswith("arm,setting,exposures,cards,sessions,testers,likes,like rate")
    doc = json.loads(result.to_json())
    assert doc["verdict"]["winner"] == "B" and doc["arms"][0]["cards"] == 20


def test_ab_with_one_tester_in_an_arm_gives_no_verdict() -> None:
    rows = [(0, "1s", f"a{i}", "A", i) for i in range(10)] + [(0, "3s", f"b{i}", "B", i) for i in range(10)]
    acts = [(1, 3, f"b{i}", "like") for i in range(9)]  # 9 of 10 against 0 of 10: one person each
    result = summarise(experiment("ab"), exposures(rows), actions(acts))
    assert not result.verdict.decided
    assert result.verdict.text.startswith("Not enough data yet: arm A, B needs at least two testers")


def test_interleaving_sessions_prefer_the_arm_their_likes_credit_and_the_sign_test_decides() -> None:
    # ten sessions (users 1-9 and 0): sessions 1-9 like a card B placed, session 0 likes two of A's
    rows, acts = [], []
    for u in range(10):
        s = f"{u}s"
        rows += [(0, s, f"x{u}", "A", 1), (0, s, f"y{u}", "B", 2), (0, s, f"z{u}", "A", 3)]
        if u == 0:
            acts += [(1, 0, "x0", "like"), (1, 0, "z0", "superlike"), (1, 0, "y0", "like")]  # A 2 : B 1
        else:
            acts += [(1, u, f"y{u}", "like")]
    rows += [(0, "9t", "w", "A", 1)]  # a session with nothing liked prefers nobody
    result = summarise(experiment("interleave"), exposures(rows), actions(acts))
    pref = result.preference
    assert pref is not None
    assert pref.sessions == 11
    assert pref.wins == {"A": 1, "B": 9}
    assert pref.leader == "B" and pref.share == 0.9
    assert pref.p_value == 22 / 1024
    assert result.verdict.decided and result.verdict.winner == "B"
    assert result.verdict.text == (
        "B preferred: 90% of the 10 sessions with a preference chose it over A "
        "(95% interval 60% to 98%; sign test p = 0.021)."
    )


def test_too_little_data_says_how_many_more_sessions() -> None:
    rows = [(0, "1s", "x", "A", 1), (0, "1s", "y", "B", 2), (0, "2s", "x", "A", 1), (0, "2s", "y", "B", 2)]
    acts = [(1, 1, "y", "like"), (1, 2, "x", "like")]  # one session each way
    result = summarise(experiment("interleave"), exposures(rows), actions(acts))
    assert not result.verdict.decided
    assert result.leading() is None  # one session each way: nobody ahead
    # a 60% preference needs 194 sessions with a preference; 2 so far, every session had one
    assert result.verdict.more_sessions == 192
    assert result.verdict.text.startswith("Not enough data yet: about 192 more sessions needed")


def test_running_chart_is_cumulative_per_arm() -> None:
    rows = [(0, "1s", "a", "A", 1), (0, "2s", "b", "B", 1), (1, "3s", "c", "A", 1)]
    acts = [(0.5, 1, "a", "like"), (1.5, 3, "c", "dislike")]
    result = summarise(experiment("ab"), exposures(rows), actions(acts))
    chart = result.timeline.rows()
    assert chart == [
        (T0, "A", 1.0),  # minute 0: one card of A, liked
        (T0, "B", 0.0),
        (T0 + timedelta(minutes=1), "A", 0.5),  # minute 1: two cards of A, one liked
        (T0 + timedelta(minutes=1), "B", 0.0),
    ]
