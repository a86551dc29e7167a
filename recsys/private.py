"""Private files: what CineBlend writes is readable by its own user only.

The data folder is ``0700``; the SQLite store (and its ``-wal`` / ``-shm`` / ``-journal``), the
cookie key and every model file are ``0600``; model folders ``0700``. When the process umask is
stricter, its value wins (``0600 & ~umask``). Files are created private (SQLite creates its WAL
and SHM with the database file's mode), and :func:`secure_data_dir`, run at every start of the
app (and by the CLI), tightens what an older version or another tool left looser. A mode is only
ever tightened, never widened (a ``0400`` file stays ``0400``).
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

FILE_MODE = 0o600
DIR_MODE = 0o700
#: Files next to a SQLite database that hold its data.
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


def umask() -> int:
    """The process umask, read without changing it (Linux ``/proc``; elsewhere set and reset)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o077)  # pragma: no cover - not Linux
    os.umask(current)  # pragma: no cover
    return current  # pragma: no cover


def file_mode() -> int:
    return FILE_MODE & ~umask()


def dir_mode() -> int:
    return DIR_MODE & ~umask()


def tighten(path: Path, mode: int) -> bool:
    """Clear every permission bit of ``path`` that ``mode`` lacks; True when it changed.
    Missing files and files of another owner (chmod refused) are left alone."""
    try:
        current = stat.S_IMODE(os.lstat(path).st_mode)
        if stat.S_ISLNK(os.lstat(path).st_mode):
            return False  # never follow a link out of the folder
        wanted = current & mode
        if wanted == current:
            return False
        os.chmod(path, wanted)
    except FileNotFoundError:
        return False
    except PermissionError as exc:
        logger.warning("Cannot make %s private (%s); restrict it by hand.", path, exc.strerror)
        return False
    logger.info("Made %s private (mode %o -> %o).", path, current, wanted)
    return True


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) with mode ``0700``; tighten it if it exists."""
    path.mkdir(mode=dir_mode(), parents=True, exist_ok=True)
    tighten(path, dir_mode())
    return path


def create_private_file(path: Path) -> None:
    """Create ``path`` empty with mode ``0600`` if missing (so a program that opens it next, e.g.
    SQLite, keeps that mode); tighten it if it exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode())
    except FileExistsError:
        tighten(path, file_mode())
        return
    os.close(fd)


def tighten_sqlite(db: Path) -> None:
    """The database file and its sidecars ``0600``."""
    for p in (db, *(db.with_name(db.name + s) for s in SQLITE_SIDECARS)):
        tighten(p, file_mode())


def tighten_tree(folder: Path) -> None:
    """Every file under ``folder`` ``0600``, every folder (``folder`` too) ``0700``."""
    if not folder.is_dir():
        return
    tighten(folder, dir_mode())
    for p in folder.rglob("*"):
        tighten(p, dir_mode() if p.is_dir() and not p.is_symlink() else file_mode())


__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "create_private_file",
    "dir_mode",
    "file_mode",
    "private_dir",
    "tighten",
    "tighten_sqlite",
    "tighten_tree",
]
