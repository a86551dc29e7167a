"""What shapes a trained recommender, and what a saved version records about it.

:class:`RecommenderConfig` is saved with each version (``recommender.json``, beside the catalogue's
fingerprint, :func:`write_meta`); :func:`latest_config` reads the newest one without loading any
array. :func:`served_weights` is the cold-start rule the config holds:

**Cold start** (the profile's number of likes, superlikes included):

- none: the most popular titles in the favourite genres, then the rest ("Popular in Crime");
- ``1 .. hybrid_from_likes - 1`` (1 or 2): the cold-start blend, led by the quality prior with
  content similarity to the likes, the genre taste inferred from them plus the favourite genres,
  and a little ALS (content 0.15, ALS 0.15, taste 0.1, popularity 0.6);
- from ``hybrid_from_likes`` (3) on: the full hybrid with the live weights.

Both were chosen on validation (``bench/quality.py``: 150 users left out of training, 3 draws,
NDCG@10 at 1 / 2 / 3 / 5 likes): the cold-start blend 0.069 / 0.088 / - / -, the tuned hybrid
0.053 / 0.081 / 0.088 / 0.107, popularity 0.085, popular in the favourite genres 0.056-0.060. At one
like nothing personal beats the global list yet, but someone who liked something is never served
the global top list; from 2 likes the blend beats it, from 3 the hybrid takes over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from recsys.columns import Columns as C
from recsys.errors import ModelError
from recsys.models import registry
from recsys.models.artifacts import FORMAT_VERSION, latest_version
from recsys.models.base import config_from_dict, config_to_dict, read_json, write_json
from recsys.models.hybrid import HybridConfig
from recsys.models.registry import Weights, check_weights
from recsys.models.rerank import registry as rerank

#: The catalogue columns a saved recommender keeps (and its fingerprint hashes).
TITLE_COLUMNS = (C.TCONST, C.KIND, C.TITLE, C.START_YEAR, C.GENRES, C.POPULARITY, C.VOTES, C.LANGUAGE)


@dataclass(frozen=True)
class RecommenderConfig:
    """Everything that shapes a trained recommender (saved with each version).

    ``scorers``: each registered scorer's config by name (missing: its defaults).
    ``hybrid_from_likes``: likes from which the full hybrid is used; below it (1 or 2 likes) the
    ``cold_start_weights`` blend; see the module docstring. ``stages``: the ranking stages'
    strengths (:mod:`recsys.models.rerank.registry`). "More like this" has its own rules
    (:mod:`recsys.models.similar`); a saved ``similar_weights`` of older versions is ignored.
    ``weights_from``: where ``hybrid.weights`` came from, ``"tuned"`` (the last ``tune``, see
    :func:`recsys.evaluation.tuning.tuned_config`) or ``"defaults"``; :mod:`recsys.models.weights` serves
    tuned weights when none are live.
    """

    scorers: Mapping[str, Any] = field(default_factory=dict)
    hybrid: HybridConfig = field(default_factory=HybridConfig)
    hybrid_from_likes: int = 3
    cold_start_weights: Mapping[str, float] = field(
        default_factory=lambda: check_weights({"content": 0.15, "als": 0.15, "taste": 0.1, "popularity": 0.6})
    )
    reason_titles: int = 2  # liked titles named per reason
    keep_versions: int = 3
    stages: Mapping[str, float] = field(default_factory=rerank.default_strengths)
    weights_from: str = "defaults"

    def scorer_config(self, name: str) -> Any:
        spec = registry.SCORERS[name]
        config = self.scorers.get(name)
        return config if config is not None else spec.config_type()

    def to_dict(self) -> dict[str, Any]:
        return {
            "scorers": {n: config_to_dict(self.scorer_config(n)) for n in registry.names()},
            "hybrid": config_to_dict(self.hybrid),
            "hybrid_from_likes": self.hybrid_from_likes,
            "cold_start_weights": dict(self.cold_start_weights),
            "reason_titles": self.reason_titles,
            "keep_versions": self.keep_versions,
            "stages": dict(self.stages),
            "weights_from": self.weights_from,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecommenderConfig:
        saved = dict(data.get("scorers") or {})
        legacy = {"content": data.get("tfidf"), "als": data.get("als"), "popularity": data.get("popularity")}
        configs: dict[str, Any] = {}
        for name, spec in registry.SCORERS.items():
            values = saved.get(name, legacy.get(name))
            configs[name] = config_from_dict(spec.config_type, values or {})
        hybrid = data.get("hybrid") or {}
        weights = hybrid.get("weights")
        checked = check_weights(weights) if weights is not None else registry.default_weights()
        # versions saved before ``weights_from``: tuned if they differ from the defaults
        guessed = "defaults" if checked == registry.default_weights() else "tuned"
        base = cls()
        return cls(
            scorers=configs,
            hybrid=HybridConfig(
                weights=checked,
                normalisation=hybrid.get("normalisation", "zscore"),
            ),
            hybrid_from_likes=int(data.get("hybrid_from_likes", base.hybrid_from_likes)),
            cold_start_weights=check_weights(data.get("cold_start_weights") or base.cold_start_weights),
            reason_titles=int(data.get("reason_titles", base.reason_titles)),
            keep_versions=int(data.get("keep_versions", base.keep_versions)),
            stages=rerank.check_strengths(data.get("stages")),
            weights_from=str(data.get("weights_from") or guessed),
        )


def served_weights(
    weights: Mapping[str, float] | Sequence[float],
    n_likes: int,
    hybrid_from_likes: int,
    cold_start_weights: Mapping[str, float] | None = None,
) -> Weights:
    """The weights a profile with ``n_likes`` likes is served with: ``weights`` from
    ``hybrid_from_likes`` likes on, the cold-start blend below (default
    :attr:`RecommenderConfig.cold_start_weights`)."""
    if n_likes >= hybrid_from_likes:
        return check_weights(weights)
    return check_weights(cold_start_weights or RecommenderConfig().cold_start_weights)


def catalogue_fingerprint(titles: pl.DataFrame) -> str:
    """A hash of the catalogue columns the scorers and sections use."""
    cols = [
        c
        for c in (*TITLE_COLUMNS, C.TITLE_TYPE, C.RUNTIME, C.RATING, "directors", "writers", "cast")
        if c in titles.columns
    ]
    frame = titles.select(sorted(set(cols)))
    h = hashlib.sha256(f"{FORMAT_VERSION}|{pl.__version__}|{frame.height}|{','.join(frame.columns)}".encode())
    if frame.height:
        h.update(frame.hash_rows(seed=1).to_numpy().tobytes())
    return h.hexdigest()


def latest_config(models_dir: Path) -> RecommenderConfig | None:
    """The saved config of the newest model version without loading its arrays (what ``weights
    show`` needs to know whether the model's weights were tuned); None without a readable one."""
    name = latest_version(Path(models_dir))
    if name is None:
        return None
    try:
        meta = read_json(Path(models_dir) / name / "recommender.json")
        return RecommenderConfig.from_dict(meta.get("config", {}))
    except (ModelError, OSError, TypeError, ValueError, AttributeError):
        return None


def write_meta(tmp: Path, config: RecommenderConfig, fingerprint: str) -> None:
    """Write ``recommender.json``: the format, the config and the catalogue's fingerprint."""
    write_json(
        tmp / "recommender.json",
        {"format": FORMAT_VERSION, "config": config.to_dict(), "catalogue": fingerprint},
    )


__all__ = [
    "TITLE_COLUMNS",
    "RecommenderConfig",
    "catalogue_fingerprint",
    "latest_config",
    "served_weights",
    "write_meta",
]
