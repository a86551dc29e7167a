"""Offline evaluation: splits (:mod:`.splits`), metrics (:mod:`.metrics`) and a minimal runner
that scores a split with any scorer (:mod:`.scoring`)."""

from recsys.evaluation.scoring import EvalResult, SplitIndex, evaluate
from recsys.evaluation.splits import PROTOCOLS, Split, SplitError, split, validation_split

__all__ = [
    "PROTOCOLS",
    "EvalResult",
    "Split",
    "SplitError",
    "SplitIndex",
    "evaluate",
    "split",
    "validation_split",
]
