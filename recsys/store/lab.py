"""The evaluation lab's tables: stored runs (history, comparison, deletion) and the log of
live-weight changes. Functions over a :class:`~recsys.store.repository.Store` so the store class
stays about users and ratings; each call is one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, desc, select, update

from recsys.errors import StoreError
from recsys.store.repository import LIVE_WEIGHTS_KEY as LIVE_WEIGHTS_KEY  # re-exported: weights, tests
from recsys.store.repository import Store
from recsys.store.schema import (
    RUN_NAME_MAX,
    RUN_REASON_MAX,
    RUN_STATES,
    evaluation_runs,
    settings,
    utcnow,
    weight_changes,
)


@dataclass(frozen=True)
class RunInfo:
    """One stored run as listed (no per-user vectors)."""

    id: int
    created_at: datetime
    created_by: str | None
    model_version: str
    catalogue_build: str
    dataset: str
    protocol: str
    config: dict[str, Any]
    document: dict[str, Any]
    name: str | None = None
    notes: str | None = None
    #: "done" (figures stored), "failed" or "cancelled" (kept with ``reason``, no figures)
    status: str = "done"
    reason: str | None = None


@dataclass(frozen=True)
class StoredRun(RunInfo):
    """A stored run with its compressed per-user metric vectors and the user inspector's lists
    (empty for failed runs and for runs stored before the lists were)."""

    per_user: bytes = b""
    lists: bytes = b""


@dataclass(frozen=True)
class WeightChange:
    id: int
    changed_at: datetime
    changed_by: str | None
    action: str
    old: dict[str, float] | None
    new: dict[str, float]
    reason: str = ""
    #: the stored run the new weights came from (None: set by hand, or a reset)
    run_id: int | None = None
    #: the experiment whose winning arm these weights are (None: not shipped from an experiment)
    experiment_id: int | None = None


def save_run(
    store: Store,
    *,
    created_by: str | None,
    model_version: str,
    catalogue_build: str,
    dataset: str,
    protocol: str,
    config: Mapping[str, Any],
    document: Mapping[str, Any],
    per_user: bytes,
    lists: bytes | None = None,
    name: str | None = None,
    notes: str | None = None,
    status: str = "done",
    reason: str | None = None,
) -> int:
    """Store one run; returns its id (ids only grow, a deleted run's id is never reused).
    ``status`` "failed" / "cancelled": a run that produced no figures, kept with its ``reason``."""
    if status not in RUN_STATES:
        raise StoreError(f"Unknown run status {status!r}; use one of {', '.join(RUN_STATES)}.")
    name, notes = _clean_name(name), _clean_notes(notes)
    with store._write() as conn:
        result = conn.execute(
            evaluation_runs.insert().values(
                created_at=utcnow(),
                created_by=created_by,
                model_version=model_version[:64],
                catalogue_build=catalogue_build[:128],
                dataset=dataset[:200],
                protocol=protocol[:16],
                config=dict(config),
                document=dict(document),
                per_user=per_user,
                lists=lists,
                name=name,
                notes=notes,
                status=status,
                reason=None if reason is None else reason[:RUN_REASON_MAX],
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


_INFO = (
    evaluation_runs.c.id,
    evaluation_runs.c.created_at,
    evaluation_runs.c.created_by,
    evaluation_runs.c.model_version,
    evaluation_runs.c.catalogue_build,
    evaluation_runs.c.dataset,
    evaluation_runs.c.protocol,
    evaluation_runs.c.config,
    evaluation_runs.c.document,
    evaluation_runs.c.name,
    evaluation_runs.c.notes,
    evaluation_runs.c.status,
    evaluation_runs.c.reason,
)


def list_runs(store: Store, limit: int = 200, *, statuses: tuple[str, ...] | None = ("done",)) -> list[RunInfo]:
    """Stored runs, newest first: by default those with figures (``statuses=None``: every run,
    failed and cancelled ones too, as the history table and ``runs list`` show them)."""
    query = select(*_INFO).order_by(desc(evaluation_runs.c.id)).limit(limit)
    if statuses is not None:
        query = query.where(evaluation_runs.c.status.in_(statuses))
    with store._read() as conn:
        rows = conn.execute(query).all()
    return [RunInfo(*row) for row in rows]


def get_run(store: Store, run_id: int) -> StoredRun | None:
    with store._read() as conn:
        row = conn.execute(
            select(*_INFO, evaluation_runs.c.per_user, evaluation_runs.c.lists).where(
                evaluation_runs.c.id == int(run_id)
            )
        ).first()
    if row is None:
        return None
    return StoredRun(  # type: ignore[misc]  # positional fields + the blobs
        *row[:-2], per_user=bytes(row[-2] or b""), lists=bytes(row[-1] or b"")
    )


def _clean_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = " ".join(name.split())
    if len(name) > RUN_NAME_MAX:
        raise StoreError(f"A run name has at most {RUN_NAME_MAX} characters; this one has {len(name)}.")
    return name or None


def _clean_notes(notes: str | None) -> str | None:
    if notes is None:
        return None
    return notes.strip() or None


_UNSET: Any = object()


def annotate_run(store: Store, run_id: int, *, name: str | None = _UNSET, notes: str | None = _UNSET) -> bool:
    """Set a stored run's name and / or notes (an empty text clears it; an argument left out is
    kept); False when there is no such run. Example: ``annotate_run(store, 3, name="ALS 128
    factors")`` keeps run 3's notes."""
    values: dict[str, str | None] = {}
    if name is not _UNSET:
        values["name"] = _clean_name(name)
    if notes is not _UNSET:
        values["notes"] = _clean_notes(notes)
    with store._write() as conn:
        if not values:
            return conn.scalar(select(evaluation_runs.c.id).where(evaluation_runs.c.id == int(run_id))) is not None
        return (
            conn.execute(update(evaluation_runs).where(evaluation_runs.c.id == int(run_id)).values(**values)).rowcount
            > 0
        )


def delete_run(store: Store, run_id: int) -> bool:
    """Delete a stored run; False when there was none with that id."""
    with store._write() as conn:
        return conn.execute(delete(evaluation_runs).where(evaluation_runs.c.id == int(run_id))).rowcount > 0


def change_live_weights(
    store: Store,
    new: Mapping[str, float] | None,
    changed_by: str | None,
    *,
    defaults: Mapping[str, float],
    reason: str = "",
    run_id: int | None = None,
    experiment_id: int | None = None,
) -> WeightChange:
    """Set the live weights to ``new`` (``None``: back to ``defaults``, recorded as a reset) and
    log the change (who, when, old, new, why, the run or experiment it came from) in the same
    transaction.
    Callers go through :mod:`recsys.models.weights`, which checks the role first."""
    action = "reset" if new is None else "apply"
    value = dict(defaults if new is None else new)
    now = utcnow()
    with store._write() as conn:
        old = conn.scalar(select(settings.c.value).where(settings.c.key == LIVE_WEIGHTS_KEY))
        if new is None:
            conn.execute(delete(settings).where(settings.c.key == LIVE_WEIGHTS_KEY))
        else:
            stmt = store._insert(settings).values(
                key=LIVE_WEIGHTS_KEY, value=value, updated_at=now, updated_by=changed_by
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=[settings.c.key],
                set_={"value": stmt.excluded.value, "updated_at": now, "updated_by": changed_by},
            )
            conn.execute(stmt)
        result = conn.execute(
            weight_changes.insert().values(
                changed_at=now,
                changed_by=changed_by,
                action=action,
                old=old,
                new=value,
                reason=reason or None,
                run_id=None if run_id is None else int(run_id),
                experiment_id=None if experiment_id is None else int(experiment_id),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
    return WeightChange(
        int(key[0]),
        now,
        changed_by,
        action,
        old,
        value,
        reason,
        None if run_id is None else int(run_id),
        None if experiment_id is None else int(experiment_id),
    )


def weight_history(store: Store, limit: int = 50) -> list[WeightChange]:
    """The live-weight changes, newest first."""
    with store._read() as conn:
        rows = conn.execute(
            select(
                weight_changes.c.id,
                weight_changes.c.changed_at,
                weight_changes.c.changed_by,
                weight_changes.c.action,
                weight_changes.c.old,
                weight_changes.c.new,
                weight_changes.c.reason,
                weight_changes.c.run_id,
                weight_changes.c.experiment_id,
            )
            .order_by(desc(weight_changes.c.id))
            .limit(limit)
        ).all()
    return [WeightChange(*row[:6], row.reason or "", row.run_id, row.experiment_id) for row in rows]
