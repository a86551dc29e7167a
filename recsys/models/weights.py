"""The hybrid weights: the one place they are resolved and the one place they are written.

**Resolution** (:func:`resolve`), read by the feed, ``recommend``, ``evaluate``, the lab and the
notebook alike:

1. **live**: the weights an analyst or admin applied (stored in the settings table, every change
   in ``weight_changes``);
2. else **tuned**: the weights of the current model, which ``train`` took from the last
   ``python -m recsys tune`` (``<models>/tuned.json``);
3. else **default**: the registry's defaults (:func:`recsys.models.registry.default_weights`).

The cold-start rule (fewer than ``hybrid_from_likes`` likes: the popularity-led blend) and the TV
hand-over (a scorer that knows no show passes its weight to its heir) are applied after this by
the recommender itself (:func:`recsys.models.config.served_weights`,
:func:`recsys.models.registry.section_weights`), identically for every reader.

**Writing** (:func:`apply`, :func:`reset`): one audited transaction (who, when, old, new, why, the
evaluation run it came from) after a role check against the store: only analysts and admins
(:func:`recsys.access.roles.may_apply_weights`), whoever calls -- the lab, ``python -m recsys weights
set --as NAME`` or a notebook. :meth:`recsys.store.Store.set_setting` refuses the key, so there is
no unaudited way left.

Example::

    from recsys.models import weights
    weights.resolve(store, recommender).describe()
    # 'content 0.50, als 0.20, taste 0.20, popularity 0.10 (defaults)'
    weights.apply(store, {"content": 0.6, "als": 0.3, "taste": 0.1}, by="ann", reason="run 12 best step")
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, cast

from recsys.access import roles
from recsys.errors import CineBlendError, ModelError
from recsys.models import registry
from recsys.models.registry import Weights, check_weights
from recsys.store import lab
from recsys.store.lab import LIVE_WEIGHTS_KEY, WeightChange

if TYPE_CHECKING:
    from recsys.models.config import RecommenderConfig
    from recsys.models.service import Recommender
    from recsys.store import Store

    Model = Recommender | RecommenderConfig

Source = Literal["live", "tuned", "defaults"]
SOURCE_LABELS: dict[str, str] = {
    "live": "live: applied in the lab",
    "tuned": "tuned: chosen by `tune` for the current model",
    "defaults": "defaults",
}
#: The most a reason may hold (the rest is cut).
MAX_REASON = 500

__all__ = [
    "LIVE_WEIGHTS_KEY",
    "Resolved",
    "WeightsPermissionError",
    "apply",
    "current",
    "fallback",
    "history",
    "reset",
    "resolve",
    "text",
]


class WeightsPermissionError(CineBlendError):
    """The account may not change the live weights (or does not exist)."""


@dataclass(frozen=True)
class Resolved:
    """The weights every reader uses now and where they come from."""

    weights: Weights
    source: Source
    changed_at: datetime | None = None  # live only: when and by whom they were applied
    changed_by: str | None = None

    def describe(self) -> str:
        """``"content 0.50, als 0.20, ... (live: set by ann on 2026-12-07 10:00 UTC)"``."""
        shown = text(self.weights)
        if self.source == "live" and self.changed_at is not None:
            return f"{shown} (live: set by {self.changed_by or 'unknown'} on {self.changed_at:%Y-%m-%d %H:%M} UTC)"
        return f"{shown} ({SOURCE_LABELS[self.source]})"


def text(weights: Mapping[str, float]) -> str:
    """The one notation for weights everywhere: raw weights in registry order, two decimals
    (``"content 0.50, als 0.20, taste 0.20, popularity 0.10"``). Shares (weight / sum) are a
    derived column where a table needs them, never a second spelling of the same setting."""
    return registry.format_weights(weights)


def fallback(model: Model | None) -> Resolved:
    """What is used when nothing is applied live: the model's tuned weights, else the defaults
    (``model``: the loaded recommender or just its saved config, see
    :func:`recsys.models.config.latest_config`)."""
    if model is not None:
        config = cast("RecommenderConfig", getattr(model, "config", model))
        if config.weights_from == "tuned":
            return Resolved(dict(config.hybrid.weights), "tuned")
    return Resolved(registry.default_weights(), "defaults")


def resolve(store: Store | None, recommender: Model | None = None) -> Resolved:
    """Live, else tuned, else defaults (see the module docstring). A stored value that no longer
    reads as weights (a scorer was unregistered) falls back as if nothing were applied."""
    if store is not None:
        info = store.setting_info(LIVE_WEIGHTS_KEY)
        if info is not None:
            value, when, by = info
            try:
                return Resolved(check_weights(value), "live", when, by)
            except (TypeError, ValueError, ModelError):
                pass
    return fallback(recommender)


def current(store: Store | None, recommender: Model | None = None) -> Weights:
    """The weights of :func:`resolve`."""
    return resolve(store, recommender).weights


def _check_may_apply(store: Store, by: str) -> None:
    account = store.get_user(by)
    if account is None:
        raise WeightsPermissionError(
            f"No account named {by!r}: weights are changed as an existing analyst or admin account."
        )
    if not roles.may_apply_weights(account.role):
        raise WeightsPermissionError(
            f"{by} is a {account.role}; only analysts and admins may change the live weights "
            "(an admin grants the role: python -m recsys users grant NAME analyst)."
        )


def apply(
    store: Store,
    weights: Mapping[str, float],
    *,
    by: str,
    reason: str = "",
    run_id: int | None = None,
    experiment_id: int | None = None,
) -> WeightChange:
    """Make ``weights`` live for every feed (from its next render) as the account ``by``, after
    its role check; the change is logged with ``reason`` and the ``run_id`` it came from in the
    same transaction (or the ``experiment_id`` whose winner it ships). :class:`WeightsPermissionError` for a tester or an unknown account,
    :class:`~recsys.errors.ModelError` for weights that do not check."""
    checked = check_weights(weights)
    _check_may_apply(store, by)
    return lab.change_live_weights(
        store,
        checked,
        by,
        defaults=registry.default_weights(),
        reason=reason[:MAX_REASON],
        run_id=run_id,
        experiment_id=experiment_id,
    )


def reset(store: Store, *, by: str, recommender: Model | None = None, reason: str = "") -> WeightChange:
    """Remove the live weights (as ``by``, role checked): feeds fall back to the model's tuned
    weights, else the defaults (:func:`fallback`), which the log records as the new value."""
    _check_may_apply(store, by)
    return lab.change_live_weights(store, None, by, defaults=fallback(recommender).weights, reason=reason[:MAX_REASON])


def history(store: Store, limit: int = 50) -> list[WeightChange]:
    """Every change, newest first."""
    return lab.weight_history(store, limit)
