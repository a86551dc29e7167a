"""An experiment's results: per-arm rates with intervals, the interleaving preference with its
sign test, a running chart, the offline figures of the same settings and a plain-language verdict.

**Linking actions to exposures.** A rating or a hide answers the latest exposure of the same
title to the same person shown before it (at most :data:`LINK_WINDOW` earlier); the *last* action
on a card counts, so a like that was undone counts as nothing. A card is counted once per session
(the feed re-renders after every click, so raw exposures grow with the clicks, not with what was
seen); raw exposures are reported beside it.

**Rates** are per card shown, with Wilson 95% intervals; the A/B comparison is the positive rate
(like or superlike) of the challenger minus the first arm's, tested with the *tester* as the unit
(:func:`recsys.experiments.stats.compare_clustered`: one person's cards are not independent).
**Interleaving**: each session's likes and superlikes vote for the arm that placed the card; a
session prefers the arm with the most votes; the sign test compares the two leading arms over
the sessions with a preference (sessions as independent units).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import polars as pl

from recsys.experiments import records
from recsys.experiments.arms import METHODS, Arm, Experiment
from recsys.experiments.interleaving import preferred
from recsys.experiments.stats import (
    NEVER,
    RateComparison,
    cards_needed,
    compare_clustered,
    sessions_needed,
    sign_test,
    wilson,
)
from recsys.store import lab
from recsys.store.repository import Store

ACTIONS = ("like", "superlike", "dislike", "hide")
POSITIVE = ("like", "superlike")
LINK_WINDOW = timedelta(hours=6)
#: The preference share assumed for the power estimate until the data shows a larger one, and the
#: largest one it believes (a 2 to 0 start is not a 100% preference).
ASSUMED_SHARE = 0.6
MAX_SHARE = 0.9
#: The relative lift of the positive rate assumed for an A/B power estimate (20%).
ASSUMED_LIFT = 0.2


@dataclass(frozen=True)
class Rate:
    count: int
    rate: float
    low: float
    high: float


@dataclass(frozen=True)
class ArmResult:
    arm: str
    setting: str
    exposures: int
    cards: int
    sessions: int
    testers: int
    rates: dict[str, Rate]
    offline: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Preference:
    """Interleaving: sessions shown, sessions preferring each arm, the two leading arms' test."""

    sessions: int
    wins: dict[str, int]
    leader: str | None
    runner_up: str | None
    share: float
    low: float
    high: float
    p_value: float


@dataclass(frozen=True)
class Verdict:
    text: str
    decided: bool
    winner: str | None = None
    more_sessions: int | None = None


@dataclass(frozen=True)
class Results:
    experiment: Experiment
    arms: list[ArmResult]
    preference: Preference | None
    comparison: RateComparison | None
    verdict: Verdict
    timeline: pl.DataFrame

    def leading(self) -> str | None:
        """The confident winner, else the arm ahead so far (most sessions preferring it; A/B: the
        highest positive rate), else None: what "Ship the winner" offers first."""
        if self.verdict.winner is not None:
            return self.verdict.winner
        if self.preference is not None:
            return self.preference.leader
        best = max(self.arms, key=lambda a: a.rates["positive"].rate, default=None)
        return best.arm if best is not None and best.rates["positive"].count else None

    def arms_table(self) -> pl.DataFrame:
        """One row per arm: exposures, cards, sessions, each rate with its interval, the offline
        figures (what the page shows and the CSV export holds)."""
        rows = []
        for a in self.arms:
            row: dict[str, Any] = {
                "arm": a.arm,
                "setting": a.setting,
                "exposures": a.exposures,
                "cards": a.cards,
                "sessions": a.sessions,
                "testers": a.testers,
            }
            for name in (*ACTIONS, "positive"):
                r = a.rates[name]
                row[f"{name}s"] = r.count
                row[f"{name} rate"] = round(r.rate, 4)
                row[f"{name} 95% low"] = round(r.low, 4)
                row[f"{name} 95% high"] = round(r.high, 4)
            if self.preference is not None:
                row["sessions preferring"] = self.preference.wins.get(a.arm, 0)
            for key, value in a.offline.items():
                row[key] = value
            rows.append(row)
        return pl.DataFrame(rows, infer_schema_length=None)

    def to_csv(self) -> str:
        return self.arms_table().write_csv()

    def to_dict(self) -> dict[str, Any]:
        exp = self.experiment
        return {
            "experiment": {
                "id": exp.id,
                "name": exp.name,
                "section": exp.section,
                "method": exp.method,
                "status": exp.status,
                "created_by": exp.created_by,
                "created_at": exp.created_at.isoformat(),
                "started_at": exp.started_at.isoformat() if exp.started_at else None,
                "stopped_at": exp.stopped_at.isoformat() if exp.stopped_at else None,
                "shipped_arm": exp.shipped_arm,
                "arms": [a.to_dict() for a in exp.arms],
            },
            "arms": [asdict(a) for a in self.arms],
            "preference": None if self.preference is None else asdict(self.preference),
            "comparison": None if self.comparison is None else asdict(self.comparison),
            "verdict": asdict(self.verdict),
            "timeline": [{**row, "at": row["at"].isoformat()} for row in self.timeline.to_dicts()],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)


def linked_actions(exposures: pl.DataFrame, actions: pl.DataFrame) -> pl.DataFrame:
    """The last action on each card a session was shown: ``[user_id, session, tconst, setting,
    action, at]`` (``action`` one of :data:`ACTIONS`; undone actions and unanswered cards left out).
    See the module docstring for the rule."""
    if exposures.height == 0 or actions.height == 0:
        return pl.DataFrame(
            schema={
                "user_id": pl.Int64,
                "session": pl.String,
                "tconst": pl.String,
                "setting": pl.String,
                "action": pl.String,
                "at": pl.Datetime("us", "UTC"),
            }
        )
    exp = exposures.select("id", "shown_at", "user_id", "tconst", "session", "setting").sort("shown_at")
    linked = (
        actions.sort("at")
        .join_asof(
            exp,
            left_on="at",
            right_on="shown_at",
            by=["user_id", "tconst"],
            strategy="backward",
            tolerance=LINK_WINDOW,
            check_sortedness=False,  # sorted by time above; polars cannot check it per group
        )
        .filter(pl.col("id").is_not_null())
    )
    last = linked.sort("at").group_by("session", "tconst", maintain_order=True).last()
    return last.filter(pl.col("action").is_in(ACTIONS)).select(
        "user_id", "session", "tconst", "setting", "action", "at"
    )


def analyse(store: Store, experiment: Experiment, *, offline: bool = True) -> Results:
    """Everything the results page, the CLI and the exports show for ``experiment``."""
    exposures = records.exposure_frame(store, experiment.id)
    users = exposures["user_id"].unique().to_list()
    since = experiment.started_at or experiment.created_at
    actions = records.actions_since(store, users, since)
    return summarise(experiment, exposures, actions, offline=offline_figures(store, experiment.arms) if offline else {})


def summarise(
    experiment: Experiment,
    exposures: pl.DataFrame,
    actions: pl.DataFrame,
    offline: Mapping[str, dict[str, float]] | None = None,
) -> Results:
    """:func:`analyse` on frames (``records.exposure_frame`` / ``records.actions_since``)."""
    answered = linked_actions(exposures, actions)
    cards = exposures.unique(["session", "tconst", "setting"]) if exposures.height else exposures
    arm_rows: list[ArmResult] = []
    for arm in experiment.arms:
        mine = exposures.filter(pl.col("setting") == arm.name)
        n_cards = cards.filter(pl.col("setting") == arm.name).height
        acts = answered.filter(pl.col("setting") == arm.name)["action"].to_list()
        rates: dict[str, Rate] = {}
        for name in (*ACTIONS, "positive"):
            k = sum(1 for a in acts if (a in POSITIVE if name == "positive" else a == name))
            k = min(k, n_cards)
            lo, hi = wilson(k, n_cards)
            rates[name] = Rate(k, k / n_cards if n_cards else 0.0, lo, hi)
        arm_rows.append(
            ArmResult(
                arm=arm.name,
                setting=arm.describe(),
                exposures=mine.height,
                cards=n_cards,
                sessions=mine["session"].n_unique() if mine.height else 0,
                testers=mine["user_id"].n_unique() if mine.height else 0,
                rates=rates,
                offline=dict((offline or {}).get(arm.name, {})),
            )
        )
    sessions = exposures["session"].n_unique() if exposures.height else 0
    preference = comparison = None
    if experiment.method == "interleave":
        preference = _preference(experiment.arms, answered, sessions)
        verdict = _interleave_verdict(preference)
    else:
        comparison, verdict = _ab_verdict(arm_rows, sessions, cards.height, _units(cards, answered))
    return Results(experiment, arm_rows, preference, comparison, verdict, timeline(experiment, cards, answered))


def _preference(arms: Sequence[Arm], answered: pl.DataFrame, sessions: int) -> Preference:
    wins = {a.name: 0 for a in arms}
    positive = answered.filter(pl.col("action").is_in(POSITIVE))
    for (_session,), group in positive.group_by("session", maintain_order=True):
        votes = {a.name: 0 for a in arms}
        for setting in group["setting"].to_list():
            if setting in votes:
                votes[setting] += 1
        best = preferred(votes)
        if best is not None:
            wins[best] += 1
    order = sorted(wins, key=lambda name: -wins[name])
    leader, runner = order[0], order[1]
    a, b = wins[leader], wins[runner]
    lo, hi = wilson(a, a + b)
    return Preference(
        sessions=sessions,
        wins=wins,
        leader=leader if a > b else None,
        runner_up=runner,
        share=a / (a + b) if a + b else 0.5,
        low=lo,
        high=hi,
        p_value=sign_test(a, b),
    )


def _interleave_verdict(pref: Preference) -> Verdict:
    decisive = sum(pref.wins.values())
    if pref.leader is not None and pref.p_value < 0.05:
        return Verdict(
            f"{pref.leader} preferred: {pref.share:.0%} of the {decisive} sessions with a preference "
            f"chose it over {pref.runner_up} (95% interval {pref.low:.0%} to {pref.high:.0%}; sign test "
            f"p = {pref.p_value:.3f}).",
            True,
            pref.leader,
            0,
        )
    share = min(max(pref.share, ASSUMED_SHARE), MAX_SHARE)
    needed = sessions_needed(share)
    with_pref = decisive / pref.sessions if pref.sessions and decisive else 0.5
    more = max(1, math.ceil((needed - decisive) / max(with_pref, 0.1)))
    return Verdict(
        f"Not enough data yet: about {more} more sessions needed (a {share:.0%} preference needs "
        f"{needed} sessions with a preference; {decisive} of {pref.sessions} sessions so far, sign "
        f"test p = {pref.p_value:.2f}).",
        False,
        None,
        more,
    )


def _units(cards: pl.DataFrame, answered: pl.DataFrame) -> dict[str, list[tuple[int, int]]]:
    """``{arm: [(positives, cards) per tester]}``: the A/B test's units."""
    shown = cards.group_by("setting", "user_id").len("cards") if cards.height else None
    liked = (
        answered.filter(pl.col("action").is_in(POSITIVE)).group_by("setting", "user_id").len("liked")
        if answered.height
        else None
    )
    if shown is None:
        return {}
    table = (
        shown.join(liked, on=["setting", "user_id"], how="left")
        if liked is not None
        else shown.with_columns(pl.lit(0).alias("liked"))
    )
    out: dict[str, list[tuple[int, int]]] = {}
    for setting, _user, n, y in table.select("setting", "user_id", "cards", pl.col("liked").fill_null(0)).rows():
        out.setdefault(setting, []).append((min(int(y), int(n)), int(n)))
    return out


def _ab_verdict(
    arms: list[ArmResult], sessions: int, cards: int, units: Mapping[str, list[tuple[int, int]]]
) -> tuple[RateComparison | None, Verdict]:
    base = arms[0]
    challenger = max(arms[1:], key=lambda a: a.rates["positive"].rate)
    ka, na = base.rates["positive"].count, base.cards
    kb, nb = challenger.rates["positive"].count, challenger.cards
    comparison = compare_clustered(units.get(base.arm, []), units.get(challenger.arm, []))
    if na and nb and comparison.p_value < 0.05:
        winner = challenger if comparison.diff > 0 else base
        loser = base if winner is challenger else challenger
        return comparison, Verdict(
            f"{winner.arm} preferred: positive rate {winner.rates['positive'].rate:.1%} against "
            f"{loser.rates['positive'].rate:.1%} for {loser.arm}, difference {abs(comparison.diff):.1%} "
            f"(95% interval {min(abs(comparison.low), abs(comparison.high)):.1%} to "
            f"{max(abs(comparison.low), abs(comparison.high)):.1%}, testers as the unit; "
            f"p = {comparison.p_value:.3g}).",
            True,
            winner.arm,
            0,
        )
    pa = ka / na if na else 0.0
    pb = kb / nb if nb else 0.0
    if abs(pb - pa) < 1e-9 or pb <= 0 or pa <= 0 or abs(pb - pa) < ASSUMED_LIFT * max(pa, pb):
        pooled = (ka + kb) / (na + nb) if na + nb else 0.1
        pooled = pooled if pooled > 0 else 0.1
        pa, pb = pooled, pooled * (1 + ASSUMED_LIFT)
    per_arm = cards_needed(pa, pb)
    have = min(na, nb)
    cards_per_session = cards / sessions if sessions else 8.0
    more = NEVER if per_arm >= NEVER else max(1, math.ceil((per_arm - have) * len(arms) / max(cards_per_session, 1.0)))
    few = [a.arm for a in (base, challenger) if a.testers < 2]
    if few:
        return comparison, Verdict(
            f"Not enough data yet: arm {', '.join(few)} needs at least two testers (the test compares "
            "testers, not cards).",
            False,
            None,
            more,
        )
    return comparison, Verdict(
        f"Not enough data yet: about {more} more sessions needed (telling a positive rate of "
        f"{pa:.1%} from {pb:.1%} needs {per_arm} cards per arm; {have} so far, p = {comparison.p_value:.2f}).",
        False,
        None,
        more,
    )


def timeline(experiment: Experiment, cards: pl.DataFrame, answered: pl.DataFrame) -> pl.DataFrame:
    """The running chart: ``[at, arm, value]`` per time step (minutes for a run under three hours,
    else hours), cumulative. A/B: each arm's positive rate so far; interleaving: each arm's share
    of the likes credited so far."""
    schema: dict[str, pl.DataType] = {"at": pl.Datetime("us", "UTC"), "arm": pl.String(), "value": pl.Float64()}
    if cards.height == 0:
        return pl.DataFrame(schema=schema)
    first, last = cards["shown_at"].min(), cards["shown_at"].max()
    span = last - first  # type: ignore[operator]  # Series.min/max are typed as any scalar; shown_at is a Datetime column
    step = "1h" if isinstance(span, timedelta) and span >= timedelta(hours=3) else "1m"
    names = [a.name for a in experiment.arms]
    shown = cards.select(pl.col("shown_at").dt.truncate(step).alias("at"), pl.col("setting").alias("arm"))
    liked = answered.filter(pl.col("action").is_in(POSITIVE)).select(
        pl.col("at").dt.truncate(step).alias("at"), pl.col("setting").alias("arm")
    )
    steps = sorted(set(shown["at"].to_list()) | set(liked["at"].to_list()))
    rows = []
    for at in steps:
        n_shown = shown.filter(pl.col("at") <= at)["arm"].value_counts()
        n_liked = liked.filter(pl.col("at") <= at)["arm"].value_counts()
        shown_by = dict(zip(n_shown["arm"].to_list(), n_shown["count"].to_list(), strict=True))
        liked_by = dict(zip(n_liked["arm"].to_list(), n_liked["count"].to_list(), strict=True))
        total_liked = sum(liked_by.get(n, 0) for n in names)
        for name in names:
            if experiment.method == "interleave":
                value = liked_by.get(name, 0) / total_liked if total_liked else math.nan
            else:
                value = liked_by.get(name, 0) / shown_by[name] if shown_by.get(name) else math.nan
            rows.append((at, name, value))
    return pl.DataFrame(rows, schema=schema, orient="row").filter(pl.col("value").is_not_nan())


def offline_figures(store: Store, arms: Sequence[Arm], runs: int = 20) -> dict[str, dict[str, float]]:
    """``{arm: {"offline validation <metric>": v, "offline test <metric>": v}}`` from the newest
    stored evaluation run whose weight sweep holds the arm's weights (to 0.005); arms no run
    has tried are left out (``python -m recsys evaluate --save --sweep ...`` adds them)."""
    out: dict[str, dict[str, float]] = {}
    for run in lab.list_runs(store, runs):
        doc = run.document
        metric = str((doc.get("config") or {}).get("metric", "ndcg"))
        k = (doc.get("config") or {}).get("k", 10)
        splits = {"test": doc.get("sweep") or [], "validation": (doc.get("validation") or {}).get("sweep") or []}
        for arm in arms:
            if arm.name in out:
                continue
            found: dict[str, float] = {}
            for split, rows in splits.items():
                for row in rows:
                    if all(abs(float(row.get(f"{n}_weight", 0.0) or 0.0) - w) <= 0.005 for n, w in arm.weights.items()):
                        value = row.get(metric)
                        if isinstance(value, int | float):
                            found[f"offline {split} {metric}@{k} (run {run.id})"] = round(float(value), 4)
                        break
            if found:
                out[arm.name] = found
    return out


def describe_method(experiment: Experiment) -> str:
    return METHODS[experiment.method]
