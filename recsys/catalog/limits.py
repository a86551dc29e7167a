"""Bounds on the data jobs: how far a download may expand, and the disk space a job needs first.

**Expansion.** A gzip (or a MovieLens zip member) is refused as soon as its decompressed bytes
pass either bound, while it is being decompressed (nothing is written meanwhile):

- :data:`MAX_RATIO` times its compressed size. Real IMDb files expand about 3-5:1 (the mirror's:
  3.1-4.3; the full dumps' ~5); past 100:1 it is a decompression bomb. The ratio is only
  judged past :data:`RATIO_FLOOR` decompressed bytes, so a tiny file is never refused for it.
- ``Settings.max_uncompressed_bytes`` (``CINEBLEND_MAX_UNCOMPRESSED_GB``, default 16 GB per
  file: the largest real file, ``title.principals``, is about 4 GB).

The gzip trailer's size field (ISIZE) is not used: it can be forged, it wraps at 4 GiB and a
truncated file's last bytes are data; the count of bytes actually decompressed decides, and the
decompression stops at the first chunk past a bound (memory stays at one 1 MiB chunk). A zip
member's declared size bounds what :mod:`zipfile` will ever decompress from it (it stops there),
so checking the declared sizes is enough for zips.

**Disk.** Before a file is downloaded (its size known from ``Content-Length`` or the local
source) and before a build (the raw inputs it reads, as an upper bound of what it writes), the
free space of the target folder must cover the need plus :data:`RESERVE_BYTES`; otherwise one
line says how much is needed and how much is free.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from recsys.config import DEFAULT_MAX_UNCOMPRESSED_GB
from recsys.errors import CineBlendError, FetchError

#: Largest expansion (uncompressed / compressed bytes) a download may have.
MAX_RATIO = 100
#: Decompressed bytes below which the ratio is not judged (tiny files have large headers).
RATIO_FLOOR = 1 << 20
#: Free space a job must leave on the disk after its own need (the store and logs live there).
RESERVE_BYTES = 256 * (1 << 20)
CAP_SETTING = "CINEBLEND_MAX_UNCOMPRESSED_GB"


def human(size: float) -> str:
    """Bytes as a short decimal size: ``human(1_300_000_000) == "1.3 GB"``."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(size) >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{int(size)} B"


@dataclass(frozen=True)
class Expansion:
    """The bounds for one compressed file of ``compressed`` bytes: call :meth:`check` with the
    bytes decompressed so far; it raises :class:`FetchError` once either bound is passed.
    ``advice`` ends the message (what to check or run)."""

    label: str
    compressed: int
    max_bytes: int = int(DEFAULT_MAX_UNCOMPRESSED_GB * 1e9)
    advice: str = "check the download URL and run fetch again."

    @property
    def bound(self) -> int:
        """The most decompressed bytes allowed (whichever bound is lower)."""
        return min(self.max_bytes, max(RATIO_FLOOR, MAX_RATIO * max(self.compressed, 1)))

    def check(self, expanded: int, *, declared: bool = False) -> None:
        said = "declares" if declared else "expands to over"
        if expanded > self.max_bytes:
            size = human(expanded) if declared else human(self.max_bytes)
            raise FetchError(
                f"{self.label} {said} {size} uncompressed, past the cap "
                f"{CAP_SETTING}={self.max_bytes / 1e9:g}; raise the setting if a real file is this "
                f"large, else {self.advice}"
            )
        if expanded > RATIO_FLOOR and expanded > MAX_RATIO * self.compressed:
            raise FetchError(
                f"{self.label} {said} {human(expanded)} from {human(self.compressed)}, more than "
                f"{MAX_RATIO}:1 (real IMDb files expand about 5:1): refused as a decompression bomb; "
                f"{self.advice}"
            )


def free_bytes(folder: Path) -> int:
    """Free bytes on the disk holding ``folder`` (or its nearest existing parent)."""
    probe = Path(folder).absolute()
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def require_free(folder: Path, needed: int, what: str, error: type[CineBlendError]) -> int:
    """Raise ``error`` unless ``folder``'s disk has ``needed`` + :data:`RESERVE_BYTES` free;
    returns the free bytes."""
    free = free_bytes(folder)
    want = max(needed, 0) + RESERVE_BYTES
    if free < want:
        raise error(
            f"Not enough disk space to {what} in {folder}: needs {human(max(needed, 0))} plus "
            f"{human(RESERVE_BYTES)} kept free, {human(free)} free; free some space or point "
            "CINEBLEND_DATA_DIR at a larger disk."
        )
    return free


__all__ = [
    "MAX_RATIO",
    "RATIO_FLOOR",
    "RESERVE_BYTES",
    "Expansion",
    "free_bytes",
    "human",
    "require_free",
]
