"""A cross-process exclusive lock on a file, so two downloads or builds never run at once.

Each job takes its own lock (``fetch``, ``build``, ``train_model``), whoever calls it (the CLI, the
data page): a second one while one is running fails fast with a clear message instead of corrupting the first one's output.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recsys.errors import CineBlendError


class BusyError(CineBlendError):
    """Another process holds the lock."""


@contextmanager
def exclusive(path: Path, what: str, error: type[CineBlendError] = BusyError) -> Iterator[None]:
    """Hold an exclusive, non-blocking lock on ``path`` (created if needed) for the block.

    Raises ``error`` (BusyError unless the job has its own error type) naming ``what`` when
    another process (or thread) holds it. The lock is
    released by the OS if the process dies, so a killed run never leaves a stale lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise error(f"Another {what} is already running; wait for it to finish.") from exc
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
