"""Atomic folder writes, shared by the model store (:mod:`recsys.models.artifacts`) and the
catalogue build (:mod:`recsys.catalog.build`): fill a hidden folder, :func:`fsync_tree` it, then
put it in place with one rename and :func:`fsync` the parent, so a crash leaves either the old
folder or the complete new one, never a half-written one under the real name."""

from __future__ import annotations

import os
from pathlib import Path


def fsync(path: Path) -> None:
    """Flush one file or folder entry to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file under ``folder``, then every folder deepest first (``folder`` last)."""
    paths = list(folder.rglob("*"))
    for p in paths:
        if p.is_file():
            fsync(p)
    dirs = {p for p in paths if p.is_dir()} | {folder}
    for d in sorted(dirs, key=lambda d: -len(d.parts)):
        fsync(d)


def rename_into_place(tmp: Path, final: Path) -> None:
    """Rename the flushed folder ``tmp`` to ``final`` (absent) and flush the parent's entry."""
    os.rename(tmp, final)
    fsync(final.parent)
