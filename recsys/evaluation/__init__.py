"""Offline evaluation: splits (:mod:`.splits`), metrics (:mod:`.metrics`) and a minimal runner
that scores a split with any scorer (:mod:`.scoring`)."""

from typing import TYPE_CHECKING

from recsys.lazy import lazy_exports

if TYPE_CHECKING:  # the names below load on first use (recsys.lazy: no import cycle with the submodules)
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

__getattr__ = lazy_exports(
    __name__,
    {
        "EvalResult": "scoring",
        "SplitIndex": "scoring",
        "evaluate": "scoring",
        "PROTOCOLS": "splits",
        "Split": "splits",
        "SplitError": "splits",
        "split": "splits",
        "validation_split": "splits",
    },
)
