"""How much of a lab job's work is done, from its progress reports, and the time left from that.

An evaluation reports a dozen differently named stages, each counting from 0 to its own total,
some of them twice (once per split) and some nested in others; "stage 3 of 12" says little about
the time left. A :class:`Schedule` lists the stages in the order a run reports them, each with
its share of the work, so every report maps to one fraction of the whole run
(:meth:`Schedule.tracker`). The shares are seconds measured on the mirror catalogue
(ml-latest-small, 100k ratings, 603 tested users, 81k titles) on the 2-core machine
(``bench/time_left.py --timeline`` prints each stage's start; the evaluation's own timings
split its stages), scaled by what drives each stage (iterations x factors for a fit, the number
of sweep steps, ranking-stage settings, grid cells, new-user draws, the user sample):

=======================================  ==========================================
default evaluation, 18-22 s idle (after  loading 0.8; per split: ALS fit 0.3,
the block-wise scoring of issue 22;      scoring 0.37, sweep 0.1 per step; models
100 s busy before it)                    0.47 (validation) / 1.5 (test, with the
                                         served lists at the longest cut-off 0.2);
                                         ranking stages 0.2 per setting (and the
                                         served one on test) and grid 0.063 per
                                         cell (validation only); segments 0.94 +
                                         1.05 per new-user draw
quick tune 3.6-3.9 s, full tune 17 s     loading the ratings and the live model
(CLI, content fitted), idle (15 s busy   0.6, splitting 0.4; catalogue scorers 0.1
for a quick one before issue 22)         reused from the live model (4.4 when
                                         fitted); ALS grid 0.25 per setting;
                                         hybrid 0.1; weight grid 0.8 (the scores)
                                         + 0.065 per combination; the final test
                                         fits 1.4
=======================================  ==========================================

The wall time of the same run varies 2x with the machine's load (before issue 22: 36 s idle, 72 s busy), but the
shares hardly move, so :func:`time_left` trusts the run's own pace (elapsed / fraction done)
more as the fraction grows and the cost estimate less: measured with ``bench/time_left.py``.

Example::

    tracker = evaluation_schedule(EvaluationConfig()).tracker()
    tracker("evaluation: loading data", 2, 2)        # 0.04
    tracker("evaluation: ranking stages", 12, 24)    # about 0.33
"""

from __future__ import annotations

from dataclasses import dataclass

from recsys.evaluation.config import EvaluationConfig
from recsys.evaluation.grid import grid_points

#: Below this share of the work done, the time left leans on the cost estimate; from it on,
#: on the run's own pace alone (linear in between).
TRUST_FRACTION = 0.15

# Seconds measured on the mirror (module docstring).
_LOAD_S = 0.8
_FIT_S = 0.3  # one ALS fit at the default factors x iterations
_SCORE_S = 0.37
_MODELS_VAL_S = 0.47
_MODELS_TEST_S = 1.5
_DEEP_S = 0.2
_STEP_S = 0.1
_SETTING_S = 0.2
_CELL_S = 0.063
_SEGMENTS_S = 0.94
_DRAW_S = 1.05
_DEFAULT_FACTORS_ITERS = 32 * 15
_TESTED_USERS = 603
#: The mirror's size as the cost model sees it (:class:`recsys.evaluation.background.DataSize`).
MIRROR_SIZE = (100_626, 610, 9_622)


@dataclass(frozen=True)
class Segment:
    """A stage a job reports (``stage`` is the start of its name; None: never reported) and its
    share of the work."""

    stage: str | None
    weight: float


@dataclass(frozen=True)
class Schedule:
    """The stages of a job in the order it reports them."""

    segments: tuple[Segment, ...]

    @property
    def total(self) -> float:
        return sum(s.weight for s in self.segments) or 1.0

    def tracker(self) -> Tracker:
        return Tracker(self)


class Tracker:
    """Maps each progress report to the fraction of the whole job done (never going back).

    A report of a stage is matched with the first segment of that name at or after the last
    one matched (a stage reported again later, e.g. the test split's fit, is the next segment of
    that name); a report of a stage not in the schedule, or of an earlier one (a nested report),
    keeps the fraction where it is.
    """

    def __init__(self, schedule: Schedule) -> None:
        self.schedule = schedule
        total = schedule.total
        starts, acc = [], 0.0
        for seg in schedule.segments:
            starts.append(acc / total)
            acc += seg.weight
        self._starts = starts
        self._shares = [s.weight / total for s in schedule.segments]
        self._cursor = 0
        self._done: dict[int, bool] = {}
        self.fraction = 0.0

    def __call__(self, stage: str, done: float, total: float | None) -> float:
        i = self._find(stage)
        if i is not None:
            part = min(max(done / total, 0.0), 1.0) if total else 0.0
            self._cursor = i
            if part >= 1.0:
                self._done[i] = True
            self.fraction = max(self.fraction, self._starts[i] + self._shares[i] * part)
        return self.fraction

    def _find(self, stage: str) -> int | None:
        segments = self.schedule.segments
        for i in range(self._cursor, len(segments)):
            name = segments[i].stage
            if name is not None and stage.startswith(name) and not self._done.get(i):
                return i
        return None


def evaluation_schedule(config: EvaluationConfig, tested_users: int | None = None) -> Schedule:
    """The stages of an evaluation of ``config`` (module docstring). ``tested_users``: how many
    users the data has to test (the user sample's share scales the per-user stages)."""
    from recsys.evaluation.served import strength_grid

    users = tested_users or _TESTED_USERS
    share = min(config.sample_users / users, 1.0) if config.sample_users else 1.0
    fit = _FIT_S * config.factors * config.iterations / _DEFAULT_FACTORS_ITERS * share
    steps = len(config.sweep_weights())
    cells = len(grid_points(config.grid, config.grid_step, config.hybrid_weights)) if config.grid else 0
    segs: list[Segment] = [Segment("evaluation: loading data", _LOAD_S), Segment("evaluation: fitting models", 0.0)]
    # the sweep, the grid and the stage settings score at most sweep_users validation users
    tested = users * share
    sampled = share * min(config.sweep_users / tested, 1.0) if config.sweep_users and tested else share
    for split in ("validation", "test"):
        # a split's users are scored block after block, every model, setting, step and cell per
        # block: one segment, reported as users scored
        val = split == "validation"
        cost = _SCORE_S * share + (_MODELS_VAL_S if val else _MODELS_TEST_S) * share
        if not val and config.cutoffs:
            cost += _DEEP_S * share
        if val:
            cost += _SETTING_S * len(strength_grid()) * sampled + _CELL_S * cells * sampled
        else:
            cost += _SETTING_S * share  # the served setting
        cost += _STEP_S * steps * (sampled if val else share)
        segs += [Segment("als: iterations", fit), Segment(f"evaluation: scoring users ({split})", cost)]
    if config.segments:
        segs.append(Segment("evaluation: segments and new users", _SEGMENTS_S * share))
        for draw in range(config.new_user_draws):
            segs.append(Segment(f"new users (draw {draw + 1} of", _DRAW_S))
    return Schedule(tuple(segs))


_TUNE_LOAD_S = 0.6
_TUNE_SPLIT_S = 0.4
_TUNE_CATALOGUE_S = 4.4
_TUNE_REUSED_S = 0.1
_TUNE_ALS_S = 0.25
_TUNE_HYBRID_S = 0.1
_TUNE_GRID_S = 0.8  # the combinations' component scores, computed with the first one
_TUNE_COMBO_S = 0.065
_TUNE_TEST_S = 1.4


def tune_schedule(als_settings: int, combinations: int, *, reused: bool = True) -> Schedule:
    """The stages of ``tune`` with ``als_settings`` ALS configurations and ``combinations``
    weight combinations, the catalogue scorers ``reused`` from the live model or fitted
    (module docstring)."""
    return Schedule(
        (
            Segment("tune: loading data", _TUNE_LOAD_S),
            Segment("tune: splitting", _TUNE_SPLIT_S),
            Segment("tune: catalogue scorers", _TUNE_REUSED_S if reused else _TUNE_CATALOGUE_S),
            Segment("tune: ALS grid", _TUNE_ALS_S * als_settings),
            Segment("tune: hybrid", _TUNE_HYBRID_S),
            Segment("tune: weight grid", _TUNE_GRID_S + _TUNE_COMBO_S * combinations),
            Segment("tune: test", _TUNE_TEST_S),
        )
    )


def evaluation_seconds(config: EvaluationConfig, cost_model_s: float) -> float:
    """An evaluation's expected wall time: its schedule's seconds on the mirror (what the
    settings cost there, stage by stage), scaled by the cost model's ratio between this data and
    the mirror (what the data size adds). On the mirror: the schedule alone (17.7 s for the
    defaults, where the cost model alone says 16.0 s; measured 18-22 s idle)."""
    from recsys.evaluation.background import DataSize, estimate_seconds

    on_mirror = estimate_seconds(DataSize(*MIRROR_SIZE), config)
    scale = cost_model_s / on_mirror if on_mirror > 0 else 1.0
    return evaluation_schedule(config).total * scale


def time_left(
    estimate_s: float | None, elapsed_s: float, fraction: float, reported_s: float | None = None
) -> float | None:
    """Seconds left: the expected total is the estimate blended with the run's own pace, the
    pace weighing ``fraction / TRUST_FRACTION`` (all of it from :data:`TRUST_FRACTION` on);
    never below 5% of the time spent. The pace is the time of the report that set ``fraction`` (``reported_s``
    after the start; the elapsed time when not given) over that fraction, so a long stage with no
    reports counts down instead of making the run look slower and slower. None when there is
    neither an estimate nor enough progress; past the estimate with no progress, a tenth of the
    time spent.

    >>> time_left(60.0, 0.0, 0.0)
    60.0
    >>> time_left(60.0, 80.0, 0.0)
    8.0
    >>> time_left(60.0, 30.0, 0.5)   # on pace: 30 s more
    30.0
    >>> time_left(100.0, 20.0, 0.5)  # twice as fast as estimated: trust the pace
    20.0
    >>> time_left(100.0, 30.0, 0.5, reported_s=20.0)  # 10 s into a silent stage: 10 s less
    10.0
    >>> round(time_left(100.0, 3.0, 0.05), 1)  # early: a third the pace, two thirds the estimate
    83.7
    """
    at = elapsed_s if reported_s is None else min(max(reported_s, 0.0), elapsed_s)
    pace = at / fraction if 0 < fraction <= 1 and at > 0 else None
    if pace is None:
        return None if estimate_s is None else max(estimate_s - elapsed_s, 0.1 * elapsed_s)
    if estimate_s is None:
        return max(pace - elapsed_s, 0.0) if fraction >= TRUST_FRACTION else None
    trust = min(fraction / TRUST_FRACTION, 1.0)
    total = trust * pace + (1 - trust) * max(estimate_s, elapsed_s)
    return max(total - elapsed_s, 0.05 * elapsed_s)
