"""The feed under experiments: which setting ranks a tester's section, and the exposure rows of
what was shown. Called by :func:`recsys.app.feed.recommend_for_user` once per section and render.

- No experiment running on the section, or the person is not a tester: the ``live`` ranking
  exactly as before (the same call with the same weights), logged with setting ``"live"``.
- **A/B**: the tester's arm (:func:`recsys.experiments.arms.assign`) ranks the whole section.
- **Interleaving**: every arm ranks ``n`` titles; :func:`~recsys.experiments.interleaving.team_draft`
  merges them with the session's own coin flips (stable across the session's reruns), each card
  keeping the arm that contributed it in its ``setting`` column.

Exposures are queued on the store's :class:`~recsys.experiments.exposure.ExposureLog` (never
written on the click's path); demo sessions never get here (their store is not a ``Store``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

import polars as pl

from recsys.access.roles import TESTER
from recsys.columns import Columns as C
from recsys.experiments import records
from recsys.experiments.arms import Experiment, assign, render_seed
from recsys.experiments.exposure import log_for
from recsys.experiments.interleaving import team_draft
from recsys.store.repository import Store, User
from recsys.store.schema import utcnow

#: The setting of a card ranked with the live weights (no experiment).
LIVE = "live"
#: The column of a feed frame naming the setting (arm) that placed each card.
SETTING = "setting"

Ranker = Callable[[Mapping[str, float] | None, Mapping[str, float] | None], pl.DataFrame]


def experiment_for(store: Store, user: User, section: str) -> Experiment | None:
    """The running experiment ``user`` takes part in on ``section`` (testers only)."""
    if user.role != TESTER:
        return None
    return records.running(store, section)


def rank_section(
    store: Store,
    user: User,
    section: str,
    n: int,
    rank: Ranker,
    *,
    session: str,
    model_version: str | None = None,
    retention_days: int = 90,
) -> pl.DataFrame:
    """The section's frame for this render (``rank(weights, stages)`` ranks it; ``None`` means the
    live weights / the model's stages), with a ``setting`` column, its exposures queued."""
    experiment = experiment_for(store, user, section)
    assignment: tuple[int, int, str] | None = None
    if experiment is None:
        frame = rank(None, None)
        settings = [LIVE] * frame.height
    elif experiment.method == "ab":
        arm = experiment.arm(assign(experiment.id, user.id, [a.name for a in experiment.arms]))
        frame = rank(arm.weights, arm.stages or None)
        settings = [arm.name] * frame.height
        assignment = (experiment.id, user.id, arm.name)
    else:
        frames = {arm.name: rank(arm.weights, arm.stages or None) for arm in experiment.arms}
        merged = team_draft(
            {name: f[C.TCONST].to_list() for name, f in frames.items()},
            n,
            seed=render_seed(session, experiment.id, section),
        )
        rows = []
        for item, arm_name in merged:
            f = frames[arm_name]
            rows.append(f.filter(pl.col(C.TCONST) == item).head(1))
        frame = pl.concat(rows, how="diagonal_relaxed") if rows else next(iter(frames.values())).head(0)
        if frame.height:
            frame = frame.with_columns(pl.Series(C.RANK, range(1, frame.height + 1)))
        settings = [arm for _, arm in merged]
    column = pl.Series(SETTING, settings, dtype=pl.String)
    # added in place, not through a lazy query (~0.3 ms on the busy server; see recsys.app.feed)
    frame = frame.with_columns(column) if SETTING in frame.columns else frame.hstack([column])
    if frame.height:
        now = utcnow()
        render = uuid.uuid4().hex[:16]
        rows_out = [
            {
                "shown_at": now,
                "user_id": user.id,
                "session": session[:40],
                "render": render,
                "section": section,
                "tconst": tconst,
                "position": position,
                "setting": setting,
                "experiment_id": None if experiment is None else experiment.id,
                "model_version": model_version,
            }
            for position, (tconst, setting) in enumerate(zip(frame[C.TCONST].to_list(), settings, strict=True), 1)
        ]
        log_for(store, retention_days).record(rows_out, assignment)
    return frame
