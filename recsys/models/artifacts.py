"""Versioned model artifacts: each trained model is a folder ``data/models/<version>/`` written
atomically and verified before it is loaded.

:func:`write_version` fills a hidden temporary folder, checksums (SHA-256) and fsyncs every file,
writes ``manifest.json`` (sizes, checksums) last and renames the folder into place, then keeps
the newest ``keep`` versions. :func:`verify` re-hashes a version against its manifest;
:func:`latest_version` is the cheap check the app polls for a newer model. The catalogue build
swaps its Parquet folder with the same helpers (:mod:`recsys.atomic`).

Versions never share fate (issue 21, N6): a file reused from an earlier version (a content model
fitted on the same catalogue) is *copied* and the copy re-hashed against the earlier manifest
(:func:`copy_verified`), never hard-linked. With hard links one flipped byte in
``hybrid/content/tfidf.npz`` failed all 3 kept versions at once; with copies only the damaged
version fails and the app serves the newest good one (:func:`serving_version`). The cost: the
full mirror's content model is ~40 MB, copied once per retrain (~0.05 s here).

A verdict is remembered per version (:func:`remember_damaged`, :func:`known_damage`) until the
folder's files change (their names, sizes, mtimes and inodes make the stamp): a damaged version
is hashed and refused once per process, not on every page run (the audit counted 46 reload
attempts in one session). Example: version B damaged, A intact -> ``serving_version`` is A and
``damaged_versions`` is ``[B]`` without re-hashing B; scrubbing or replacing B's files changes its
stamp, so it is checked again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recsys.atomic import fsync_tree, rename_into_place
from recsys.errors import ModelError
from recsys.jobs.fence import publish_guard
from recsys.models.base import read_json, write_json
from recsys.private import tighten_tree

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
MANIFEST = "manifest.json"
TRAIN_HINT = "run `python -m recsys train`"
_VERSION_RE = re.compile(r"^\d{8}T\d{12}Z(-\d+)?$")


def latest_version(models_dir: Path) -> str | None:
    """Name of the newest complete version folder (has a manifest), without loading it."""
    for path in versions(Path(models_dir)):
        if (path / MANIFEST).is_file():
            return path.name
    return None


def versions(models_dir: Path) -> list[Path]:
    """Version folders, newest first."""
    if not models_dir.is_dir():
        return []
    found = [p for p in models_dir.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)]
    return sorted(found, key=lambda p: p.name, reverse=True)


def _new_version(models_dir: Path) -> str:
    base = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name, i = base, 0
    existing = {p.name for p in versions(models_dir)}
    while name in existing or (models_dir / name).exists():
        i += 1
        name = f"{base}-{i}"
    return name


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path) -> dict[str, Any]:
    if not (path / MANIFEST).is_file():
        raise ModelError(f"Model {path.name} is incomplete; {TRAIN_HINT}.")
    manifest: dict[str, Any] = read_json(path / MANIFEST)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if (
        not isinstance(files, dict)
        or manifest.get("format") != FORMAT_VERSION
        or "version" not in manifest
        or not all(isinstance(info, dict) for info in files.values())
    ):  # a damaged manifest can still be valid JSON (null, [], a truncated object's prefix...)
        raise ModelError(f"Model {path.name} has an unsupported manifest; {TRAIN_HINT}.")
    for rel, info in files.items():
        p = path / rel
        if not p.is_file() or p.stat().st_size != info.get("size") or sha256(p) != info.get("sha256"):
            raise ModelError(f"Model file {rel} in {path.name} is missing or corrupt; {TRAIN_HINT}.")
    return manifest


def _prune(models_dir: Path, keep: int) -> None:
    """Delete all but the newest ``keep`` complete versions, and temp folders older than a day."""
    complete = [p for p in versions(models_dir) if (p / MANIFEST).is_file()]
    for old in complete[max(keep, 1) :]:
        shutil.rmtree(old, ignore_errors=True)
        log.info("removed old model version %s", old.name)
    cutoff = time.time() - 86400
    for p in models_dir.glob(".tmp-*"):
        try:
            if p.is_dir() and p.stat().st_mtime < cutoff:
                shutil.rmtree(p, ignore_errors=True)
        except OSError:
            continue


def write_version(
    models_dir: Path,
    write: Callable[[Path], dict[str, dict[str, Any]]],
    keep: int,
    scrub: Callable[[Connection, Path], None] | None = None,
) -> Path:
    """Create a version folder atomically: ``write(tmp)`` fills a hidden temp folder (returning
    manifest entries of files it copied, verified, from another version), every other file is checksummed,
    everything is fsynced, ``manifest.json`` is written last and the folder renamed into place
    (inside a fenced job, under :func:`recsys.jobs.fence.publish_guard`, which runs ``scrub`` first)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    version = _new_version(models_dir)
    tmp = models_dir / f".tmp-{version}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        known = write(tmp)
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        entries: dict[str, dict[str, Any]] = {}
        for p in files:
            rel = p.relative_to(tmp).as_posix()
            st = p.stat()
            entry = dict(known.get(rel) or {"sha256": sha256(p)})
            entry.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
            entries[rel] = entry
        manifest = {
            "format": FORMAT_VERSION,
            "version": version,
            "created_at": datetime.now(UTC).isoformat(),
            "files": entries,
        }
        write_json(tmp / MANIFEST, manifest)
        tighten_tree(tmp)  # model files 0600, folders 0700
        fsync_tree(tmp)
        final = models_dir / version
        with publish_guard(tmp, scrub):  # a fenced job publishes only while its lease is current
            rename_into_place(tmp, final)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ModelError(f"Cannot write the model to {models_dir}: {exc}; check the folder and retry.") from exc
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(models_dir, keep)
    unshare(models_dir)
    log.info("saved model version %s", version)
    return final


def unshare(models_dir: Path) -> int:
    """Give every file of the kept versions its own inode: versions written before issue 21 (N6)
    hard-linked unchanged files. Each linked file is copied beside itself and renamed over it
    (same bytes, so its manifest stays true); returns the files unshared. Runs after each save:
    an old install is unshared by its next training."""
    count = 0
    for version in versions(Path(models_dir)):
        for path in version.rglob("*"):
            try:
                if not path.is_file() or path.is_symlink() or path.stat().st_nlink < 2:
                    continue
                tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.unshare")
                shutil.copy2(path, tmp)
                os.replace(tmp, path)
                count += 1
            except OSError as exc:
                log.warning("could not unshare %s: %s", path, exc)
    if count:
        log.info("gave %d hard-linked model files their own copies", count)
    return count


def copy_verified(src: Path, dst: Path, expected_sha256: str) -> None:
    """Copy ``src`` to ``dst`` (a new inode, never a hard link) and check the copy's SHA-256
    against the earlier manifest's; a mismatch (the source changed since it was verified) is a
    :class:`ModelError`, so damage is never carried into a new version under an old checksum."""
    shutil.copyfile(src, dst)
    if sha256(dst) != expected_sha256:
        dst.unlink(missing_ok=True)
        raise ModelError(f"Model file {src} changed while it was copied; {TRAIN_HINT}.")


# --- verdicts ----------------------------------------------------------------------------------

_verdicts: dict[str, tuple[str, str]] = {}  # version folder -> (stamp, problem)
_verdicts_lock = threading.Lock()


def stamp(path: Path) -> str:
    """What identifies a version folder's current files without reading them: every file's
    relative name, size, mtime and inode (a scrub or a restore changes at least one)."""
    h = hashlib.sha256()
    try:
        for p in sorted(path.rglob("*")):
            if p.is_file():
                st = p.stat()
                h.update(f"{p.relative_to(path).as_posix()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}\n".encode())
    except OSError:
        return ""
    return h.hexdigest()


def remember_damaged(path: Path, problem: str) -> None:
    """Record that the version in ``path`` failed to verify or load (kept until its files change)."""
    with _verdicts_lock:
        _verdicts[str(Path(path).resolve())] = (stamp(path), problem)


def known_damage(path: Path) -> str | None:
    """The remembered problem of the version in ``path`` if its files are unchanged since it
    failed; None when it never failed or its files changed (then it is checked again)."""
    key = str(Path(path).resolve())
    with _verdicts_lock:
        verdict = _verdicts.get(key)
    if verdict is None:
        return None
    if verdict[0] != stamp(path):
        with _verdicts_lock:
            _verdicts.pop(key, None)
        return None
    return verdict[1]


def serving_version(models_dir: Path) -> str | None:
    """The newest complete version not known to be damaged (cheap: no hashing)."""
    for path in versions(Path(models_dir)):
        if (path / MANIFEST).is_file() and known_damage(path) is None:
            return path.name
    return None


def damaged_versions(models_dir: Path) -> list[str]:
    """Complete versions known to be damaged, newest first."""
    return [p.name for p in versions(Path(models_dir)) if (p / MANIFEST).is_file() and known_damage(p) is not None]
