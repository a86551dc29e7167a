"""The experiments' rows in the store: experiments, assignments and exposures. Functions over a
:class:`~recsys.store.repository.Store`, each one transaction (like :mod:`recsys.store.lab`).

Status rules: ``draft`` -> ``running`` <-> ``paused`` -> ``stopped`` (stopping is final and keeps
every log). At most one experiment per section is running or paused: :func:`set_status` checks
it inside the write transaction that starts one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import and_, bindparam, delete, desc, func, select, update

from recsys.access.roles import TESTER
from recsys.experiments.arms import Arm, Experiment, ExperimentError, check_arms, check_method, check_section
from recsys.store.repository import Store
from recsys.store.schema import (
    RUN_NAME_MAX,
    experiment_assignments,
    experiments,
    exposures,
    hidden_titles,
    interaction_history,
    users,
    utcnow,
)

#: Allowed status changes (from -> to).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("running", "stopped"),
    "running": ("paused", "stopped"),
    "paused": ("running", "stopped"),
    "stopped": (),
}
ACTIVE = ("running", "paused")

_COLS = (
    experiments.c.id,
    experiments.c.name,
    experiments.c.section,
    experiments.c.method,
    experiments.c.arms,
    experiments.c.status,
    experiments.c.created_at,
    experiments.c.created_by,
    experiments.c.started_at,
    experiments.c.stopped_at,
    experiments.c.shipped_arm,
    experiments.c.notes,
)


def _experiment(row: Any) -> Experiment:
    return Experiment(
        id=int(row.id),
        name=row.name,
        section=row.section,
        method=row.method,
        arms=tuple(Arm.from_dict(a) for a in row.arms),
        status=row.status,
        created_at=row.created_at,
        created_by=row.created_by,
        started_at=row.started_at,
        stopped_at=row.stopped_at,
        shipped_arm=row.shipped_arm,
        notes=row.notes,
    )


def create(
    store: Store,
    *,
    name: str,
    section: str,
    method: str,
    arms: Sequence[Mapping[str, Any] | Arm],
    created_by: str | None,
    notes: str | None = None,
) -> Experiment:
    """A new experiment in ``draft`` (nothing changes for testers until it starts)."""
    name = " ".join(name.split())
    if not name or len(name) > RUN_NAME_MAX:
        raise ExperimentError(f"An experiment name has 1 to {RUN_NAME_MAX} characters.")
    checked = check_arms(arms)
    now = utcnow()
    with store._write() as conn:
        result = conn.execute(
            experiments.insert().values(
                name=name,
                section=check_section(section),
                method=check_method(method),
                arms=[a.to_dict() for a in checked],
                status="draft",
                created_at=now,
                created_by=created_by,
                updated_at=now,
                notes=(notes or "").strip() or None,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
    found = get(store, int(key[0]))
    assert found is not None
    return found


def get(store: Store, experiment_id: int) -> Experiment | None:
    with store._read() as conn:
        row = conn.execute(select(*_COLS).where(experiments.c.id == int(experiment_id))).first()
    return None if row is None else _experiment(row)


def list_all(store: Store, limit: int = 100) -> list[Experiment]:
    """Newest first."""
    with store._read() as conn:
        rows = conn.execute(select(*_COLS).order_by(desc(experiments.c.id)).limit(limit)).all()
    return [_experiment(r) for r in rows]


#: Built once (a tester's every feed click asks): building the statement and its cache key cost
#: more than running it (0.13 -> 0.06 ms of CPU a call, /tmp SQLite store).
_RUNNING = select(*_COLS).where(experiments.c.section == bindparam("section"), experiments.c.status == "running")


def running(store: Store, section: str) -> Experiment | None:
    """The experiment running on ``section`` now (a paused one does not count: its testers see
    the live weights)."""
    with store._read() as conn:
        row = conn.execute(_RUNNING, {"section": section}).first()
    return None if row is None else _experiment(row)


def testers(store: Store) -> int:
    """Onboarded, active testers (the people an experiment can reach)."""
    with store._read() as conn:
        return int(
            conn.scalar(
                select(func.count())
                .select_from(users)
                .where(users.c.role == TESTER, users.c.is_active.is_(True), users.c.onboarding_step == "done")
            )
            or 0
        )


def set_status(store: Store, experiment_id: int, status: str) -> Experiment:
    """Move an experiment to ``status`` (see :data:`TRANSITIONS`); starting refuses a second
    active experiment on the same section."""
    now = utcnow()
    with store._write() as conn:
        row = conn.execute(select(*_COLS).where(experiments.c.id == int(experiment_id))).first()
        if row is None:
            raise ExperimentError(f"No experiment {experiment_id}; `python -m recsys experiments list` shows them.")
        exp = _experiment(row)
        if status == exp.status:
            return exp
        if status not in TRANSITIONS[exp.status]:
            raise ExperimentError(f"Experiment {exp.id} is {exp.status}; it cannot become {status}.")
        if status == "running":
            other = conn.execute(
                select(experiments.c.id, experiments.c.name).where(
                    experiments.c.section == exp.section,
                    experiments.c.status.in_(ACTIVE),
                    experiments.c.id != exp.id,
                )
            ).first()
            if other is not None:
                raise ExperimentError(
                    f"Experiment #{other.id} {other.name} is already on this section; stop it first "
                    "(one experiment per section at a time)."
                )
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status == "running" and exp.started_at is None:
            values["started_at"] = now
        if status == "stopped":
            values["stopped_at"] = now
        conn.execute(update(experiments).where(experiments.c.id == exp.id).values(**values))
    found = get(store, exp.id)
    assert found is not None
    return found


def mark_shipped(store: Store, experiment_id: int, arm: str) -> None:
    with store._write() as conn:
        conn.execute(
            update(experiments)
            .where(experiments.c.id == int(experiment_id))
            .values(shipped_arm=arm, updated_at=utcnow())
        )


def write_exposures(
    store: Store, rows: Sequence[Mapping[str, Any]], assignments: Iterable[tuple[int, int, str]]
) -> int:
    """One transaction: the exposure rows and the (experiment, user, arm) assignments not yet
    recorded (first one wins; an assignment never changes). Rows of accounts deleted since they
    were queued are dropped (a deleted account leaves no trace, and one such row must not fail
    the whole batch). Returns the rows written."""
    if not rows:
        return 0
    now = utcnow()
    with store._write() as conn:
        wanted = {int(r["user_id"]) for r in rows}
        alive = set(conn.scalars(select(users.c.id).where(users.c.id.in_(wanted))).all())
        kept = [dict(r) for r in rows if int(r["user_id"]) in alive]
        if kept:
            conn.execute(exposures.insert(), kept)
        for experiment_id, user_id, arm in dict.fromkeys(assignments):
            if user_id not in alive:
                continue
            stmt = store._insert(experiment_assignments).values(
                experiment_id=experiment_id, user_id=user_id, arm=arm, assigned_at=now
            )
            conn.execute(
                stmt.on_conflict_do_nothing(
                    index_elements=[experiment_assignments.c.experiment_id, experiment_assignments.c.user_id]
                )
            )
    return len(kept)


def assignments(store: Store, experiment_id: int) -> dict[int, str]:
    """``{user_id: arm}`` as recorded."""
    with store._read() as conn:
        rows = conn.execute(
            select(experiment_assignments.c.user_id, experiment_assignments.c.arm).where(
                experiment_assignments.c.experiment_id == int(experiment_id)
            )
        ).all()
    return {int(r.user_id): r.arm for r in rows}


EXPOSURE_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "shown_at": pl.Datetime("us", "UTC"),
    "user_id": pl.Int64(),
    "session": pl.String(),
    "render": pl.String(),
    "section": pl.String(),
    "tconst": pl.String(),
    "position": pl.Int64(),
    "setting": pl.String(),
    "experiment_id": pl.Int64(),
    "model_version": pl.String(),
}


def exposure_frame(store: Store, experiment_id: int | None = None, user_id: int | None = None) -> pl.DataFrame:
    """Exposures (of one experiment and / or user), oldest first."""
    query = select(*(exposures.c[name] for name in EXPOSURE_SCHEMA)).order_by(exposures.c.id)
    if experiment_id is not None:
        query = query.where(exposures.c.experiment_id == int(experiment_id))
    if user_id is not None:
        query = query.where(exposures.c.user_id == int(user_id))
    with store._read() as conn:
        rows = conn.execute(query).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=EXPOSURE_SCHEMA, orient="row")


ACTION_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.Int64(),
    "tconst": pl.String(),
    "action": pl.String(),
    "at": pl.Datetime("us", "UTC"),
}


def actions_since(store: Store, user_ids: Sequence[int], since: datetime) -> pl.DataFrame:
    """The ratings (``like`` / ``dislike`` / ``superlike``; ``removed`` for a removal, as undo
    makes) and hides of ``user_ids`` from ``since``, oldest first."""
    if not user_ids:
        return pl.DataFrame(schema=ACTION_SCHEMA)
    names = {1: "like", -1: "dislike", 2: "superlike"}
    ids = [int(u) for u in user_ids]
    with store._read() as conn:
        rated = conn.execute(
            select(
                interaction_history.c.user_id,
                interaction_history.c.tconst,
                interaction_history.c.value,
                interaction_history.c.created_at,
            )
            .where(and_(interaction_history.c.user_id.in_(ids), interaction_history.c.created_at >= since))
            .order_by(interaction_history.c.id)
        ).all()
        hidden = conn.execute(
            select(hidden_titles.c.user_id, hidden_titles.c.tconst, hidden_titles.c.created_at).where(
                and_(hidden_titles.c.user_id.in_(ids), hidden_titles.c.created_at >= since)
            )
        ).all()
    rows = [(int(r[0]), r[1], names.get(r[2], "removed") if r[2] is not None else "removed", r[3]) for r in rated]
    rows += [(int(r[0]), r[1], "hide", r[2]) for r in hidden]
    return pl.DataFrame(rows, schema=ACTION_SCHEMA, orient="row").sort("at")


def prune_exposures(store: Store, older_than: datetime) -> int:
    """Delete exposures shown before ``older_than`` (the retention setting); returns how many."""
    with store._write() as conn:
        return int(conn.execute(delete(exposures).where(exposures.c.shown_at < older_than)).rowcount or 0)
