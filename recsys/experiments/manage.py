"""Create, start, pause, stop and ship experiments as a named account (analysts and admins, the
role checked against the store like :func:`recsys.models.weights.apply`). The lab page and
``python -m recsys experiments ...`` both go through here.

Example::

    exp = manage.create(store, by="ann", name="Taste vs blend", section="movie", method="interleave",
                        arms=[{"name": "A", "weights": {"content": 0.5, "als": 0.5}},
                              {"name": "B", "weights": {"content": 0.2, "als": 0.8}}])
    manage.start(store, exp.id, by="ann")
    ...
    manage.ship(store, exp.id, "B", by="ann")   # B's weights become live, linked to the experiment
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from recsys.access import roles
from recsys.experiments import records
from recsys.experiments.arms import Arm, Experiment, ExperimentError, min_testers
from recsys.models import weights
from recsys.store.lab import WeightChange
from recsys.store.repository import Store


def _check_role(store: Store, by: str) -> None:
    account = store.get_user(by)
    if account is None:
        raise ExperimentError(f"No account named {by!r}: experiments are run as an analyst or admin account.")
    if not roles.may_apply_weights(account.role):
        raise ExperimentError(
            f"{by} is a {account.role}; only analysts and admins run experiments "
            "(an admin grants the role: python -m recsys users grant NAME analyst)."
        )


def _get(store: Store, experiment_id: int) -> Experiment:
    found = records.get(store, experiment_id)
    if found is None:
        raise ExperimentError(f"No experiment {experiment_id}; `python -m recsys experiments list` shows them.")
    return found


def create(
    store: Store,
    *,
    by: str,
    name: str,
    section: str,
    method: str,
    arms: Sequence[Mapping[str, Any] | Arm],
    notes: str | None = None,
) -> Experiment:
    """A draft experiment (arms checked: two or more, distinct settings)."""
    _check_role(store, by)
    return records.create(store, name=name, section=section, method=method, arms=arms, created_by=by, notes=notes)


def start(store: Store, experiment_id: int, *, by: str) -> Experiment:
    """Start (or resume) it; refused when the section has too few testers or another experiment."""
    _check_role(store, by)
    exp = _get(store, experiment_id)
    need = min_testers(exp.method, len(exp.arms))
    have = records.testers(store)
    if have < need:
        raise ExperimentError(
            f"Too few testers for this experiment: {have} onboarded tester(s), at least {need} needed "
            f"({'two for interleaving' if exp.method == 'interleave' else 'one per arm'}); invite more first."
        )
    return records.set_status(store, experiment_id, "running")


def pause(store: Store, experiment_id: int, *, by: str) -> Experiment:
    """Pause: its testers see the live weights until it resumes; logs kept."""
    _check_role(store, by)
    return records.set_status(store, experiment_id, "paused")


def stop(store: Store, experiment_id: int, *, by: str) -> Experiment:
    """Stop for good: its testers see the live weights; every log is kept for the results."""
    _check_role(store, by)
    return records.set_status(store, experiment_id, "stopped")


def ship(store: Store, experiment_id: int, arm: str, *, by: str, reason: str = "") -> WeightChange:
    """Make ``arm``'s weights live (the audited :func:`recsys.models.weights.apply`, linked to the
    experiment by ``weight_changes.experiment_id`` and its reason), stop the experiment if it
    still runs and record the shipped arm. An arm's stage strengths are not live settings: the
    reason says when they differ, so nobody believes they shipped."""
    _check_role(store, by)
    exp = _get(store, experiment_id)
    chosen = exp.arm(arm)
    why = f"Experiment #{exp.id} {exp.name}: shipped arm {chosen.name}"
    if chosen.stages:
        why += " (its stage strengths are not shipped: only weights are live settings)"
    if reason:
        why += f". {reason}"
    change = weights.apply(store, chosen.weights, by=by, reason=why, experiment_id=exp.id)
    if exp.status != "stopped":
        records.set_status(store, exp.id, "stopped")
    records.mark_shipped(store, exp.id, chosen.name)
    return change
