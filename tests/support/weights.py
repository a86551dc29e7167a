"""Weights as the registry sees them, for tests that must not pin its contents (issue 19: a
newly registered scorer must not break them): ``full(content=0.5, als=0.5)`` is the mapping
over every registered scorer (the others 0), ``text(...)`` its one notation, ``label(...)`` its
sweep-step label."""

from __future__ import annotations

from recsys.models import registry


def full(**given: float) -> dict[str, float]:
    """``given`` over every registered scorer, in registry order (missing names weigh 0)."""
    unknown = set(given) - set(registry.names())
    assert not unknown, f"not registered: {unknown}"
    return {n: float(given.get(n, 0.0)) for n in registry.names()}


def text(**given: float) -> str:
    """``"content 0.50, als 0.20, ..."`` of :func:`full` (:func:`recsys.models.weights.text`)."""
    return registry.format_weights(full(**given))


def label(**given: float) -> str:
    """The sweep step label of :func:`full` (``"sweep content=0.50 als=0.20 ..."``)."""
    return "sweep " + " ".join(f"{n}={w:.2f}" for n, w in full(**given).items())
