"""Training a recommender into a new saved version: :func:`train` fits every registered scorer
(or reuses the catalogue-only ones of the newest version fitted on the same catalogue) and
publishes the version (:func:`recsys.models.artifacts.write_version`). Serving is
:mod:`recsys.models.service`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from recsys.errors import ModelError
from recsys.models import registry
from recsys.models.artifacts import FORMAT_VERSION, copy_verified, latest_version, verify, write_version
from recsys.models.base import TrainingData, config_to_dict, read_json, write_json
from recsys.models.config import TITLE_COLUMNS, RecommenderConfig, catalogue_fingerprint, write_meta
from recsys.models.scrub import scrub_deleted
from recsys.models.sections import POSITIVES, with_positives
from recsys.models.service import Recommender
from recsys.progress import Progress, null_progress

log = logging.getLogger(__name__)


def train(
    data: TrainingData,
    models_dir: Path,
    config: RecommenderConfig | None = None,
    progress: Progress | None = None,
) -> Path:
    """Fit the recommender and save it as a new version; returns the version folder.

    Scorers that fit on the catalogue alone (content, taste, IMDb popularity) are reused from the
    newest saved version when it was fitted on the same catalogue (same fingerprint) with the same
    config: their files are copied (each copy re-hashed against the earlier manifest, so no two
    versions share a file's fate) and only the others are retrained.
    """
    config = config or RecommenderConfig()
    progress = progress or null_progress
    models_dir = Path(models_dir)
    fingerprint = catalogue_fingerprint(data.titles)
    reusable = _reusable(models_dir, fingerprint, config)
    previous, manifest, shared_names = reusable if reusable else (None, {}, set())
    if previous is None or not shared_names:
        rec = Recommender.fit(data, config, progress)
        progress("saving model", 0, 1)
        path = rec.save(models_dir)
        progress("saving model", 1, 1)
        return path

    log.info("catalogue unchanged since %s: reusing %s", previous.name, ", ".join(sorted(shared_names)))
    fitted = {
        name: registry.SCORERS[name].build(config.scorer_config(name)).fit(data, progress)
        for name in registry.names()
        if name not in shared_names
    }
    # the titles carry this training data's interaction counts: written anew, never linked
    shared = [f"hybrid/{name}/" for name in shared_names]
    progress("saving model", 0, 1)

    def write(tmp: Path) -> dict[str, dict[str, Any]]:
        with_positives(data).select(
            [c for c in (*TITLE_COLUMNS, POSITIVES) if c in data.titles.columns or c == POSITIVES]
        ).write_parquet(tmp / "titles.parquet")
        for name, scorer in fitted.items():
            scorer.save(tmp / "hybrid" / name)
        write_json(
            tmp / "hybrid" / "hybrid.json",
            {**config_to_dict(config.hybrid), "scorers": list(registry.names())},
        )
        write_meta(tmp, config, fingerprint)
        copied: dict[str, dict[str, Any]] = {}
        for rel, info in manifest["files"].items():
            if any(rel == p or rel.startswith(p) for p in shared):
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                copy_verified(previous / rel, target, str(info["sha256"]))  # never a shared inode (N6)
                copied[rel] = info
        return copied

    path = write_version(models_dir, write, config.keep_versions, scrub_deleted)
    progress("saving model", 1, 1)
    return path


def _reusable(
    models_dir: Path, fingerprint: str, config: RecommenderConfig
) -> tuple[Path, dict[str, Any], set[str]] | None:
    """The newest complete version fitted on this catalogue, whose catalogue-only scorers with
    an unchanged config can be reused (their names); else None."""
    name = latest_version(models_dir)
    if name is None:
        return None
    path = models_dir / name
    try:
        # every file re-hashed (tens of ms even for the full catalogue): damage that keeps size
        # and mtime (bit rot, a restore that keeps mtimes) must not be linked into the new
        # version under the old checksum, or no retraining could ever load again
        manifest = verify(path)
        meta = read_json(path / "recommender.json")
        old = RecommenderConfig.from_dict(meta.get("config", {}))
        saved = set((read_json(path / "hybrid" / "hybrid.json") or {}).get("scorers") or ())
    except ModelError as exc:
        log.warning("model %s is damaged (%s); fitting everything again", name, exc)
        return None
    except (TypeError, ValueError, AttributeError):
        return None
    if meta.get("format") != FORMAT_VERSION or meta.get("catalogue") != fingerprint:
        return None
    shared = {
        n
        for n, spec in registry.SCORERS.items()
        if n in saved
        and spec.depends_on_catalogue_only(config.scorer_config(n))
        and old.scorer_config(n) == config.scorer_config(n)
    }
    return path, manifest, shared


__all__ = ["train"]
