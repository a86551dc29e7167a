"""A recommendation frame (tconst, score, rank, reason, one component per scorer) and the guard
that turns a failure while ranking into one line for the page or the CLI."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import polars as pl

from recsys.columns import Columns as C
from recsys.errors import CineBlendError, ModelError
from recsys.models import registry

log = logging.getLogger(__name__)


def result_schema() -> dict[str, type[pl.DataType]]:
    """Columns of a recommendation frame: tconst, score, rank, reason, then one normalised
    component per registered scorer."""
    schema: dict[str, type[pl.DataType]] = {
        C.TCONST: pl.String,
        C.SCORE: pl.Float64,
        C.RANK: pl.Int32,
        C.REASON: pl.String,
    }
    schema.update(dict.fromkeys(registry.names(), pl.Float64))
    return schema


def frame(
    tconsts: list[str], scores: np.ndarray, reasons: list[str], components: Mapping[str, np.ndarray]
) -> pl.DataFrame:
    """The frame of ``tconsts`` in order, with their scores, reasons and per-scorer components."""
    # Series-by-Series construction: ~2.5x faster than a dict with a schema for 20 rows
    return pl.DataFrame(
        [
            pl.Series(C.TCONST, tconsts, dtype=pl.String),
            pl.Series(C.SCORE, np.asarray(scores, dtype=np.float64)),
            pl.Series(C.RANK, np.arange(1, len(tconsts) + 1, dtype=np.int32)),
            pl.Series(C.REASON, reasons, dtype=pl.String),
            *(pl.Series(name, np.asarray(components[name], dtype=np.float64)) for name in registry.names()),
        ]
    )


@contextmanager
def ranking_guard(what: str) -> Iterator[None]:
    """Turn an unexpected exception inside ranking into a :class:`ModelError` a page or the CLI
    shows as one line (the traceback goes to the log): a bug in one scorer must never reach a
    tester as an error page (issue 18: an IndexError on profiles without title-word features)."""
    try:
        yield
    except CineBlendError:
        raise
    except Exception as exc:
        log.exception("computing %s failed", what)
        raise ModelError(
            f"Could not compute {what} ({type(exc).__name__}); the error was logged. "
            "Try again, or retrain with `python -m recsys train`."
        ) from exc


__all__ = ["frame", "ranking_guard", "result_schema"]
