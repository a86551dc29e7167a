"""Old path of :mod:`recsys.models.weights`, kept for saved copies of the notebook.

``notebooks/tune_hybrid_weights.ipynb`` taught ``from recsys import weights`` (then
``weights.apply(...)``) before the weights moved beside the scorer registry (issue 24); copies of
it people keep still run. New code imports :mod:`recsys.models.weights`.
"""

from recsys.models.weights import (
    LIVE_WEIGHTS_KEY,
    Resolved,
    WeightsPermissionError,
    apply,
    current,
    fallback,
    history,
    reset,
    resolve,
    text,
)

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
