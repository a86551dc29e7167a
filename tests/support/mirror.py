"""The shared IMDb / MovieLens mirror (``../shared/data/mirror``: ``imdb/*.tsv.gz`` and
``movielens/ml-latest-small.zip``, the layout the real sites serve).

Nothing from it is ever copied into the repository (IMDb and MovieLens terms): tests read it in
place or serve it over loopback HTTP. Tests that need it skip with the reason when it is absent
(a developer machine without ``../shared``); CI always has it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from recsys.config import IMDB_FILES, MOVIELENS_FILE

MIRROR = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "mirror").resolve()


def mirror_or_skip() -> Path:
    """The mirror folder, or skip the test saying which files are missing."""
    needed = [MIRROR / "imdb" / name for name in IMDB_FILES]
    needed.append(MIRROR / "movielens" / MOVIELENS_FILE)
    missing = [str(p) for p in needed if not p.is_file()]
    if missing:
        pytest.skip(f"IMDb / MovieLens mirror not available (missing {', '.join(missing)})")
    return MIRROR
