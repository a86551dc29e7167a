"""The recommender the app, the CLI and the benchmarks serve from: load, recommend, similar.

A :class:`Recommender` is a fitted hybrid plus the catalogue's titles. Before the first request
(at load, or lazily) it prepares per section ("movie" / "tv") each scorer's candidate block
(TF-IDF rows, ALS item factors, genre rows, popularity values), the genre masks and the
positions. A request (:meth:`Recommender.recommend` for one section,
:meth:`Recommender.recommend_feed` for both) prepares the user once per scorer (a profile
vector, an ALS fold-in, genre affinities); each section then goes through the fused engine
(:mod:`recsys.models.engine`: every scorer's z-score moments from per-block precomputed sums, one
add pass per scorer), an ``argpartition``, the ranking stages on the best
:data:`~recsys.models.rerank.registry.POOL_SIZE` candidates and the reasons of the shown n only
(:mod:`recsys.models.reasons`). The weights below 3 likes are the cold-start blend
(:func:`recsys.models.config.served_weights`); never the global top list for someone who liked
something.

Training a new version is :mod:`recsys.models.training`, the config it is saved with
:mod:`recsys.models.config`, the version folders :mod:`recsys.models.artifacts`. A
:class:`Recommender` is never modified by a request and is safe to share between threads.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from recsys.columns import KINDS
from recsys.columns import Columns as C
from recsys.errors import ModelError
from recsys.models import registry
from recsys.models.als import blas_single_thread
from recsys.models.artifacts import (
    FORMAT_VERSION,
    MANIFEST,
    TRAIN_HINT,
    known_damage,
    remember_damaged,
    verify,
    versions,
    write_version,
)
from recsys.models.base import (
    Profile,
    ProfileLike,
    ScorerQuery,
    TrainingData,
    read_json,
)
from recsys.models.coldstart import popular_in_genres
from recsys.models.config import (
    TITLE_COLUMNS,
    RecommenderConfig,
    catalogue_fingerprint,
    served_weights,
    write_meta,
)
from recsys.models.engine import fused_blend, term_of, zscores_of
from recsys.models.hybrid import (
    WeightedHybrid,
    blend,
    normalise_with_scale,
    top_n,
)
from recsys.models.reasons import reasons_for
from recsys.models.registry import Weights, section_weights
from recsys.models.rerank import registry as rerank
from recsys.models.rerank.base import CatalogueShares, Taste
from recsys.models.results import Ranked, frames, ranking_guard
from recsys.models.scrub import scrub_deleted
from recsys.models.sections import POSITIVES, Prepared, Section, section_pool, with_positives
from recsys.models.similar import empty_frame
from recsys.models.similar import similar_explained as explain_similar
from recsys.progress import Progress, null_progress

log = logging.getLogger(__name__)


class Recommender:
    """The trained hybrid plus the per-section precomputations; see the module docstring."""

    def __init__(
        self,
        hybrid: WeightedHybrid,
        titles: pl.DataFrame,
        config: RecommenderConfig | None = None,
        version: str | None = None,
        *,
        eager: bool = True,
    ) -> None:
        self.hybrid = hybrid
        self.config = config or RecommenderConfig(hybrid=hybrid.config)
        self.version = version
        self.titles = titles.select([c for c in (*TITLE_COLUMNS, POSITIVES) if c in titles.columns])
        self.catalogue: str | None = None  # fingerprint of the catalogue it was fitted on
        self._lock = threading.Lock()
        self._prepared: Prepared | None = None
        if eager:
            self.prepare()

    def prepare(self) -> Prepared:
        """Build the per-section arrays now (done on first use otherwise; thread-safe)."""
        if self._prepared is None:
            with self._lock:
                if self._prepared is None:
                    # one BLAS thread: the catalogue shares' products took 2.9 s instead of 7 ms
                    # with OpenBLAS' threads on a busy 2-core machine
                    with blas_single_thread():
                        self._prepared = Prepared.of(self.titles, self.hybrid.scorers)
        return self._prepared

    @property
    def names(self) -> dict[str, str]:
        """tconst -> primary title of every catalogue title."""
        return self.prepare().names

    @property
    def sections(self) -> dict[str, Section]:
        return self.prepare().sections

    @property
    def catalogue_shares(self) -> CatalogueShares:
        """Genre and language shares over every catalogue title (what a taste is compared with)."""
        return self.prepare().shares

    # --- construction --------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        data: TrainingData,
        config: RecommenderConfig | None = None,
        progress: Progress | None = None,
    ) -> Recommender:
        """Train every registered scorer on ``data``."""
        config = config or RecommenderConfig()
        progress = progress or null_progress
        if data.titles.height == 0:
            raise ModelError("The catalogue is empty; run `python -m recsys build` first.")
        hybrid = WeightedHybrid.from_configs(
            {name: config.scorer_config(name) for name in registry.names()}, config.hybrid
        )
        started = time.perf_counter()
        hybrid.fit(data, progress)
        log.info("fitted the hybrid in %.2fs", time.perf_counter() - started)
        rec = cls(hybrid, with_positives(data), config, eager=False)
        rec.catalogue = catalogue_fingerprint(data.titles)
        return rec

    # --- recommending --------------------------------------------------------------------------

    def recommend(
        self,
        profile: ProfileLike,
        kind: str,
        n: int = 20,
        weights: Mapping[str, float] | Sequence[float] | None = None,
        favourite_genres: Sequence[str] = (),
        exclude: Iterable[str] = (),
        stages: Mapping[str, float] | None = None,
    ) -> pl.DataFrame:
        """Top ``n`` titles of ``kind`` for the profile ``[tconst, value]``, best first.

        Returns ``[tconst, score, rank, reason, <one column per scorer>]``: the normalised
        component scores that were blended (NaN where a scorer could not score, or was not
        computed because its weight is 0). Every rated title and every tconst in ``exclude`` is
        removed. See the module docstring for cold start.
        """
        return self.recommend_feed(profile, n, weights, favourite_genres, exclude, kinds=(kind,), stages=stages)[kind]

    def effective_weights(self, profile: Profile, weights: Mapping[str, float] | Sequence[float] | None) -> Weights:
        """The weights a request uses (see :func:`served_weights`)."""
        w = weights if weights is not None else self.config.hybrid.weights
        return served_weights(w, profile.n_likes, self.config.hybrid_from_likes, self.config.cold_start_weights)

    def recommend_feed(
        self,
        profile: ProfileLike,
        n: int = 20,
        weights: Mapping[str, float] | Sequence[float] | None = None,
        favourite_genres: Sequence[str] = (),
        exclude: Iterable[str] = (),
        kinds: Sequence[str] = KINDS,
        stages: Mapping[str, float] | None = None,
    ) -> dict[str, pl.DataFrame]:
        """:meth:`recommend` for several sections at once (default both), sharing the per-user
        work (profile vectors, ALS fold-in) between them: ``{kind: frame}``.

        ``stages``: ranking-stage strengths (:mod:`recsys.models.rerank.registry`) overriding the
        model's ``config.stages`` for the stages named, run on the blend's best candidates before
        the top ``n``."""
        for kind in kinds:
            if kind not in self.sections:
                raise ModelError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}.")
        prof = Profile.of(profile, genres=favourite_genres or None)
        w = self.effective_weights(prof, weights)
        exclude = list(exclude)
        if prof.n_likes == 0:
            return {
                kind: popular_in_genres(
                    self.sections[kind], n, prof.genres, self._removed(self.sections[kind], prof, exclude)
                )
                for kind in kinds
            }
        # one BLAS thread: implicit's OpenMP fold-in and multi-threaded OpenBLAS calls on 2 cores
        # otherwise fight (measured: fold-in 0.1 ms alone, 10 ms after a threaded gemv)
        # named stages override the model's strengths, the others keep them
        strengths = rerank.check_strengths({**self.config.stages, **(stages or {})})
        with blas_single_thread(), ranking_guard("recommendations"):
            queries = self.queries(prof, w)
            taste = self.taste(prof) if rerank.active(strengths) else None
            # one frame for every section, sliced (results.frames)
            return frames(
                {
                    kind: self._rank(self.sections[kind], prof, queries, n, w, exclude, taste, strengths)
                    for kind in kinds
                }
            )

    def taste(self, profile: Profile) -> Taste:
        """The profile's taste (genre and language shares, usual popularity) over the titles of
        every section, for the ranking stages."""
        genres: list[Sequence[str]] = []
        languages: list[str | None] = []
        log_votes: list[float] = []
        values: list[float] = []
        sections = list(self.sections.values())
        for t, v in zip(profile.tconsts, profile.values.tolist(), strict=True):
            if v <= 0:  # Taste.of reads the likes only: a dislike's title is not looked up
                continue
            for sec in sections:
                i = sec.position.get(t)
                if i is not None:
                    genres.append(sec.genres[i])
                    languages.append(sec.languages[i])
                    log_votes.append(float(sec.log_votes[i]))
                    values.append(v)
                    break
        return Taste.of(genres, languages, log_votes, values, profile.genres, self.catalogue_shares)

    def queries(self, profile: Profile, weights: Mapping[str, float]) -> dict[str, ScorerQuery]:
        """Each positively weighted scorer's prepared user (scorers with no signal left out)."""
        out: dict[str, ScorerQuery] = {}
        for name, scorer in self.hybrid.scorers.items():
            if weights.get(name, 0.0) > 0:
                q = scorer.prepare(profile)
                if q is not None:
                    out[name] = q
        return out

    @staticmethod
    def _removed(sec: Section, prof: Profile, exclude: Iterable[str]) -> np.ndarray:
        pos = sec.position
        found = {pos[t] for t in (*prof.tconsts, *exclude) if t in pos}
        return np.asarray(sorted(found), dtype=np.int64)

    def _rank(
        self,
        sec: Section,
        prof: Profile,
        queries: Mapping[str, ScorerQuery],
        n: int,
        weights: Mapping[str, float],
        exclude: Sequence[str],
        taste: Taste | None = None,
        strengths: Mapping[str, float] | None = None,
    ) -> Ranked:
        removed = self._removed(sec, prof, exclude)
        # a scorer that knows almost no title of this section (ALS and TV before testers rated
        # shows) passes its weight to its heir; see registry.section_weights
        blind = [name for name in sec.blind if weights.get(name)]
        if blind:
            weights = section_weights(weights, blind)
            extra = {
                name: q
                for name in registry.names()
                if weights.get(name)
                and name not in queries
                and (q := self.hybrid.scorers[name].prepare(prof)) is not None
            }
            queries = {**queries, **extra}
        fused = self.config.hybrid.normalisation == "zscore"
        # the fused engine (models/engine.py): one pass per scorer, moments from precomputed blocks
        terms = {name: term_of(q, sec.blocks[name]) for name, q in queries.items() if fused and weights.get(name)}
        raws = {name: q.scores(sec.blocks[name]) for name, q in queries.items() if not fused and weights.get(name)}
        if not terms and not raws:
            blended, stats = np.full(len(sec), np.nan), dict[str, Any]()
        elif fused:
            blended, stats = fused_blend(terms, weights, len(sec), removed)
        else:  # the reference path: normalise each scorer, then blend
            normed = {}
            stats = {}
            for name, raw in raws.items():
                raw[removed] = np.nan
                normed[name], scale = normalise_with_scale(raw, self.config.hybrid.normalisation)
                stats[name] = (math.nan, scale)
            blended = blend(normed, weights)
        if taste is not None and strengths is not None:
            pool = top_n(blended, max(rerank.POOL_SIZE, 3 * n))
            top = rerank.apply(section_pool(sec, pool, blended[pool]), taste, n, strengths)
        else:
            top = top_n(blended, n)
        if len(top) < n:
            # candidates no weighted scorer could score come last, most popular first
            pop = np.where(np.isnan(blended), sec.popularity, np.nan)
            pop[removed] = np.nan
            top = np.concatenate([top, top_n(pop, n - len(top))])
        components = {name: np.full(len(top), np.nan) for name in registry.names()}
        # removed titles only reach the top through the popularity fill-up: check them once
        # (removed is sorted: a binary search, where np.isin builds a table over the section, ~25 us)
        gone = removed if len(removed) and _meets(removed, top) else np.zeros(0, dtype=np.int64)
        for name, term in terms.items():
            components[name] = zscores_of(term, stats[name], top, gone)
        for name in raws:
            components[name] = normed[name][top]
        scales = {name: stat[1] for name, stat in stats.items()}
        reasons = reasons_for(
            self.prepare(), sec, prof, queries, top, weights, scales, components, self.config.reason_titles
        )
        return sec.tconsts[top].tolist(), blended[top], reasons, components

    def similar(self, tconst: str, n: int = 6, kind: str | None = None) -> list[str]:
        """ "More like this": the tconsts of :meth:`similar_explained`, best first."""
        return self.similar_explained(tconst, n, kind)[C.TCONST].to_list()

    def similar_explained(self, tconst: str, n: int = 6, kind: str | None = None) -> pl.DataFrame:
        """ "More like this" with the reasons: ``[tconst, score, rank, reason]`` for titles like
        ``tconst`` in its own section (or ``kind``), best first; empty for a title the model does
        not know. See :mod:`recsys.models.similar`."""
        home = next((k for k, sec in self.sections.items() if tconst in sec.position), None)
        if home is None or n <= 0:
            return empty_frame()
        with ranking_guard("similar titles"):
            return explain_similar(self.prepare(), self.hybrid.scorers, tconst, n, self.sections[kind or home])

    # --- artifacts -----------------------------------------------------------------------------

    def save(self, models_dir: Path) -> Path:
        """Write a new version folder under ``models_dir`` atomically; return its path."""

        def write(tmp: Path) -> dict[str, dict[str, Any]]:
            self.hybrid.save(tmp / "hybrid")
            self.titles.write_parquet(tmp / "titles.parquet")
            write_meta(tmp, self.config, self.catalogue or catalogue_fingerprint(self.titles))
            return {}

        final = write_version(Path(models_dir), write, self.config.keep_versions, scrub_deleted)
        self.version = final.name
        return final

    @classmethod
    def load(cls, path: Path) -> Recommender:
        """Load one version folder (verifying the manifest). A version that fails is remembered
        as damaged until its files change (:func:`recsys.models.artifacts.known_damage`): the
        next call refuses it at once instead of hashing it again."""
        path = Path(path)
        problem = known_damage(path)
        if problem is not None:
            raise ModelError(problem)
        try:
            return cls._load(path)
        except ModelError as exc:
            remember_damaged(path, str(exc))
            raise

    @classmethod
    def _load(cls, path: Path) -> Recommender:
        manifest = verify(path)
        meta = read_json(path / "recommender.json")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION:
            raise ModelError(f"Model {path.name} has an unsupported format; {TRAIN_HINT}.")
        config = RecommenderConfig.from_dict(meta.get("config", {}))
        try:
            titles = pl.read_parquet(path / "titles.parquet")
        except Exception as exc:  # polars raises several error types for a bad file
            raise ModelError(f"Cannot read {path / 'titles.parquet'}: {exc}; {TRAIN_HINT}.") from exc
        hybrid = WeightedHybrid.load(path / "hybrid")
        rec = cls(hybrid, titles, config, version=str(manifest["version"]))
        rec.catalogue = meta.get("catalogue")
        return rec

    @classmethod
    def load_latest(cls, models_dir: Path) -> Recommender:
        """The newest intact version under ``models_dir``; ModelError when there is none."""
        models_dir = Path(models_dir)
        problems: list[str] = []
        for path in versions(models_dir):
            if not (path / MANIFEST).is_file():
                continue  # unfinished or foreign folder
            try:
                return cls.load(path)
            except ModelError as exc:
                log.warning("skipping model version %s: %s", path.name, exc)
                problems.append(path.name)
        if problems:
            raise ModelError(f"No saved model in {models_dir} can be loaded (corrupt or outdated); {TRAIN_HINT}.")
        raise ModelError(f"No trained model in {models_dir}; {TRAIN_HINT}.")


def _meets(sorted_values: np.ndarray, items: np.ndarray) -> bool:
    """Whether any of ``items`` is in the non-empty ascending array ``sorted_values``."""
    at = np.minimum(np.searchsorted(sorted_values, items), len(sorted_values) - 1)
    return bool((sorted_values[at] == items).any())


__all__ = ["Recommender", "Section"]
