"""Take one app user out of every saved model version (account deletion).

The ALS model keeps a factor row per trained user (``hybrid/als/users.json`` lists the keys,
``als.npz`` holds ``user_factors`` in the same order; app users are ``app:<id>``). Removing an
account removes that row and its key from the current and every kept version, so no saved model
still describes the person. The item factors stay: they are fitted on everyone's ratings at
once and carry no per-user row (the next ``train`` refits them without the deleted ratings).

Each changed file is written beside the old one, flushed and renamed over it (a hard link
shared with another version is replaced, never modified in place), then the version's
``manifest.json`` is rewritten the same way with the new sizes and SHA-256 sums, so
:func:`recsys.models.artifacts.verify` keeps passing. The training lock is held meanwhile: a
training that started before the deletion finishes first and its new version is scrubbed too.
"""

from __future__ import annotations

import io
import json
import logging
import os
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, select

from recsys.atomic import fsync
from recsys.errors import ModelError
from recsys.jobs.fence import publish_lock
from recsys.jobs.locks import exclusive
from recsys.models.artifacts import MANIFEST, sha256, versions
from recsys.models.base import load_npz, read_json
from recsys.store.repository import Store
from recsys.store.schema import users

log = logging.getLogger(__name__)

ALS_DIR = "hybrid/als"


def app_user_key(user_id: int) -> str:
    """The ALS row key of an app user (as :func:`recsys.models.als.app_user_key`)."""
    return f"app:{int(user_id)}"


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a flushed temporary file renamed over it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync(path.parent)


def scrub_version(version_dir: Path, user_key: str) -> bool:
    """Remove ``user_key``'s ALS row from one version folder; True if it was there."""
    als = version_dir / ALS_DIR
    users_path, npz_path = als / "users.json", als / "als.npz"
    if not users_path.is_file() or not npz_path.is_file() or not (version_dir / MANIFEST).is_file():
        return False
    keys = read_json(users_path)
    if not isinstance(keys, list) or user_key not in keys:
        return False
    row = keys.index(user_key)
    arrays = dict(load_npz(npz_path))
    factors = arrays.get("user_factors")
    if factors is None or factors.shape[0] != len(keys):
        raise ModelError(f"ALS model in {version_dir.name} is inconsistent; run `python -m recsys train`.")
    arrays["user_factors"] = np.ascontiguousarray(np.delete(factors, row, axis=0))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stubs read **arrays as savez's allow_pickle flag
    _replace(npz_path, buffer.getvalue())
    _replace(users_path, json.dumps([k for k in keys if k != user_key], indent=1, sort_keys=True).encode())

    manifest: dict[str, Any] = read_json(version_dir / MANIFEST)
    for path in (npz_path, users_path):
        rel = path.relative_to(version_dir).as_posix()
        stat = path.stat()
        manifest["files"][rel] = {"sha256": sha256(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _replace(version_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return True


def scrub_user(
    models_dir: Path,
    user_id: int,
    *,
    data_dir: Path | None = None,
    store_url: str | None = None,
    store: Store | None = None,
) -> list[str]:
    """Remove app user ``user_id`` from every saved model version under ``models_dir``; returns
    the versions that held them. Waits for a running training first: the same lock
    :func:`recsys.app.pipeline.train_model` takes (a PostgreSQL advisory lock with a PostgreSQL
    ``store_url``, shared by every app server; else the file lock in ``data_dir``). With the
    ``store`` the user was deleted from, the scrub also holds the store's ``publish`` row
    (:func:`recsys.jobs.fence.publish_lock`): a training whose lock was lost meanwhile either publishes
    before the scrub (which then cleans its version) or after it (and leaves the user out
    itself), never in between."""
    models_dir = Path(models_dir)
    key = app_user_key(user_id)
    changed: list[str] = []
    lock = (data_dir or models_dir.parent) / ".train.lock"
    with (
        exclusive(lock, "training", store_url=store_url, wait=True),
        publish_lock(store) if store is not None else nullcontext(),
    ):
        for version in versions(models_dir):
            try:
                if scrub_version(version, key):
                    changed.append(version.name)
            except OSError as exc:
                raise ModelError(
                    f"Cannot remove user {user_id} from model {version.name}: {exc}; check the folder "
                    "and run `python -m recsys users remove` again, or retrain."
                ) from exc
    if changed:
        log.info("removed %s from model versions %s", key, ", ".join(changed))
    return changed


def scrub_deleted(conn: Connection, version_tmp: Path) -> None:
    """Inside the publish guard (:func:`recsys.jobs.fence.publish_guard`): take every app user the
    new version still holds but the store no longer has (deleted while the model trained) out of
    ``version_tmp`` before it is published."""
    users_path = version_tmp / ALS_DIR / "users.json"
    if not users_path.is_file():
        return
    keys = read_json(users_path)
    app_ids = {int(k.split(":", 1)[1]) for k in keys if isinstance(k, str) and k.startswith("app:")}
    if not app_ids:
        return
    present = {int(i) for i in conn.scalars(select(users.c.id).where(users.c.id.in_(app_ids)))}
    for user_id in sorted(app_ids - present):
        scrub_version(version_tmp, f"app:{user_id}")
        log.info("user %d was deleted during training: left out of the new version", user_id)
