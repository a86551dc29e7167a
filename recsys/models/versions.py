"""Which model versions exist under a models folder, without importing the model stack.

A version is a folder named by its UTC creation time (``20261207T041441841588Z``, ``-1`` ... on a
clash), complete once it holds its manifest. The sign-in page reads the newest version's saved
demo personas through :func:`latest_version`; importing :mod:`recsys.models` (scikit-learn,
implicit, scipy) for that took most of a cold server's first page (about 0.6 s of 2.7 s sampled
on the mirror, more on a busy machine). :mod:`recsys.models.artifacts` re-exports both.
"""

from __future__ import annotations

import re
from pathlib import Path

MANIFEST = "manifest.json"
VERSION_RE = re.compile(r"^\d{8}T\d{12}Z(-\d+)?$")


def versions(models_dir: Path) -> list[Path]:
    """Version folders, newest first."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    found = [p for p in models_dir.iterdir() if p.is_dir() and VERSION_RE.match(p.name)]
    return sorted(found, key=lambda p: p.name, reverse=True)


def latest_version(models_dir: Path) -> str | None:
    """Name of the newest complete version folder (has a manifest), without loading it."""
    for path in versions(Path(models_dir)):
        if (path / MANIFEST).is_file():
            return path.name
    return None
