"""The recommender the app, the CLI and the benchmarks use: fit, save / load, recommend, similar.

``Recommender.fit(data)`` trains every registered scorer (:mod:`recsys.models.registry`) on one
:class:`~recsys.models.base.TrainingData`. Before the first request (at load, or lazily) it
prepares per section ("movie" / "tv") each scorer's candidate block (TF-IDF rows, ALS item
factors, genre rows, popularity values), the genre masks and the positions. A request
(:meth:`Recommender.recommend` for one section, :meth:`Recommender.recommend_feed` for both)
prepares the user once per scorer (a profile vector, an ALS fold-in, genre affinities); each
section then goes through the fused engine (:mod:`recsys.models.engine`: every scorer's z-score
moments from per-block precomputed sums, one add pass per scorer), an ``argpartition``, the
ranking stages on the best :data:`~recsys.models.rerank.registry.POOL_SIZE` candidates and the
reasons of the shown n only (:mod:`recsys.models.reasons`).

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

Never the global top list for someone who liked something. Artifacts (versioned folders) live in
:mod:`recsys.models.artifacts`. A :class:`Recommender` is never modified by a request and is
safe to share between threads.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from recsys.columns import KINDS
from recsys.columns import Columns as C
from recsys.errors import CineBlendError, ModelError
from recsys.models import registry
from recsys.models.als import blas_single_thread
from recsys.models.artifacts import (
    FORMAT_VERSION,
    MANIFEST,
    TRAIN_HINT,
    copy_verified,
    known_damage,
    latest_version,
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
    config_from_dict,
    config_to_dict,
    read_json,
    write_json,
)
from recsys.models.engine import fused_blend, term_of, zscores_of
from recsys.models.hybrid import (
    HybridConfig,
    WeightedHybrid,
    blend,
    normalise_with_scale,
    top_n,
)
from recsys.models.reasons import popular_reason, reasons_for
from recsys.models.registry import Weights, check_weights, section_weights
from recsys.models.rerank import registry as rerank
from recsys.models.rerank.base import CatalogueShares, Taste
from recsys.models.scrub import scrub_deleted
from recsys.models.sections import POSITIVES, Prepared, Section, section_pool, with_positives
from recsys.models.similar import empty_frame
from recsys.models.similar import similar_explained as explain_similar
from recsys.progress import Progress, null_progress

log = logging.getLogger(__name__)

_TITLE_COLUMNS = (C.TCONST, C.KIND, C.TITLE, C.START_YEAR, C.GENRES, C.POPULARITY, C.VOTES, C.LANGUAGE)


def result_schema() -> dict[str, type[pl.DataType]]:
    """Columns of a recommendation frame: tconst, score, rank, reason, then one normalised
    component per registered scorer."""
    schema: dict[str, type[pl.DataType]] = {
        C.TCONST: pl.String,
        C.SCORE: pl.Float64,
        C.RANK: pl.Int32,
        C.REASON: pl.String,
    }
    schema.update(dict.fromkeys(registry.names(), pl.Float64))
    return schema


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
        self.titles = titles.select([c for c in (*_TITLE_COLUMNS, POSITIVES) if c in titles.columns])
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
        hybrid = WeightedHybrid.from_configs(dict(_configs(config)), config.hybrid)
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
                kind: self._popular(
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
            return {
                kind: self._rank(self.sections[kind], prof, queries, n, w, exclude, taste, strengths) for kind in kinds
            }

    def taste(self, profile: Profile) -> Taste:
        """The profile's taste (genre and language shares, usual popularity) over the titles of
        every section, for the ranking stages."""
        genres: list[Sequence[str]] = []
        languages: list[str | None] = []
        log_votes: list[float] = []
        values: list[float] = []
        for t, v in zip(profile.tconsts, profile.values, strict=True):
            for sec in self.sections.values():
                i = sec.position.get(t)
                if i is not None:
                    genres.append(sec.genres[i])
                    languages.append(sec.languages[i])
                    log_votes.append(float(sec.log_votes[i]))
                    values.append(float(v))
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
    ) -> pl.DataFrame:
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
        gone = removed if len(removed) and np.isin(top, removed).any() else np.zeros(0, dtype=np.int64)
        for name, term in terms.items():
            components[name] = zscores_of(term, stats[name], top, gone)
        for name in raws:
            components[name] = normed[name][top]
        scales = {name: stat[1] for name, stat in stats.items()}
        reasons = reasons_for(
            self.prepare(), sec, prof, queries, top, weights, scales, components, self.config.reason_titles
        )
        return _frame(sec.tconsts[top].tolist(), blended[top], reasons, components)

    def _popular(self, sec: Section, n: int, favourite_genres: Sequence[str], removed: np.ndarray) -> pl.DataFrame:
        """No likes yet: popular in the favourite genres first, then the rest.

        "Popular" is the number of positive interactions in the training data where the section
        has them (films, from MovieLens and the testers), IMDb popularity below them and in a
        section without any (TV before testers rate shows): on validation, ranking by interaction
        counts scored NDCG@10 0.0791 against 0.0609 for IMDb popularity."""
        in_genre = np.zeros(len(sec), dtype=bool)
        for g in favourite_genres:
            mask = sec.genre_masks.get(g)
            if mask is not None:
                in_genre |= mask
        pop = sec.popularity.copy()
        if sec.positives is not None:  # counts first; IMDb popularity (0..~100) orders the rest
            pop = sec.positives * 1000.0 + np.nan_to_num(pop, nan=0.0)
        pop[removed] = np.nan
        top = top_n(np.where(in_genre, pop, np.nan), n)
        if len(top) < n:
            top = np.concatenate([top, top_n(np.where(in_genre, np.nan, pop), n - len(top))])
        z, _ = normalise_with_scale(pop)
        reasons = [popular_reason(sec.genres[i], favourite_genres) for i in top]
        nan = np.full(len(top), np.nan)
        components = dict.fromkeys(registry.names(), nan)
        components["popularity"] = z[top]
        return _frame(sec.tconsts[top].tolist(), z[top], reasons, components)

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
            _write_meta(tmp, self.config, self.catalogue or catalogue_fingerprint(self.titles))
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
            [c for c in (*_TITLE_COLUMNS, POSITIVES) if c in data.titles.columns or c == POSITIVES]
        ).write_parquet(tmp / "titles.parquet")
        for name, scorer in fitted.items():
            scorer.save(tmp / "hybrid" / name)
        write_json(
            tmp / "hybrid" / "hybrid.json",
            {**config_to_dict(config.hybrid), "scorers": list(registry.names())},
        )
        _write_meta(tmp, config, fingerprint)
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


def catalogue_fingerprint(titles: pl.DataFrame) -> str:
    """A hash of the catalogue columns the scorers and sections use."""
    cols = [
        c
        for c in (*_TITLE_COLUMNS, C.TITLE_TYPE, C.RUNTIME, C.RATING, "directors", "writers", "cast")
        if c in titles.columns
    ]
    frame = titles.select(sorted(set(cols)))
    h = hashlib.sha256(f"{FORMAT_VERSION}|{pl.__version__}|{frame.height}|{','.join(frame.columns)}".encode())
    if frame.height:
        h.update(frame.hash_rows(seed=1).to_numpy().tobytes())
    return h.hexdigest()


# --- helpers -----------------------------------------------------------------------------------


@contextmanager
def ranking_guard(what: str) -> Iterator[None]:
    """Turn an unexpected exception inside ranking into a :class:`ModelError` a page or the CLI
    shows as one line (the traceback goes to the log): a bug in one scorer must never reach a
    tester as an error page (issue 18: an IndexError on profiles without title-word features)."""
    try:
        yield
    except CineBlendError:
        raise
    except Exception as exc:
        log.exception("computing %s failed", what)
        raise ModelError(
            f"Could not compute {what} ({type(exc).__name__}); the error was logged. "
            "Try again, or retrain with `python -m recsys train`."
        ) from exc


def _configs(config: RecommenderConfig) -> Iterable[tuple[str, Any]]:
    return ((name, config.scorer_config(name)) for name in registry.names())


def _frame(
    tconsts: list[str], scores: np.ndarray, reasons: list[str], components: Mapping[str, np.ndarray]
) -> pl.DataFrame:
    # Series-by-Series construction: ~2.5x faster than a dict with a schema for 20 rows
    return pl.DataFrame(
        [
            pl.Series(C.TCONST, tconsts, dtype=pl.String),
            pl.Series(C.SCORE, np.asarray(scores, dtype=np.float64)),
            pl.Series(C.RANK, np.arange(1, len(tconsts) + 1, dtype=np.int32)),
            pl.Series(C.REASON, reasons, dtype=pl.String),
            *(pl.Series(name, np.asarray(components[name], dtype=np.float64)) for name in registry.names()),
        ]
    )


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


def _write_meta(tmp: Path, config: RecommenderConfig, fingerprint: str) -> None:
    write_json(
        tmp / "recommender.json",
        {"format": FORMAT_VERSION, "config": config.to_dict(), "catalogue": fingerprint},
    )


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


__all__ = [
    "Recommender",
    "RecommenderConfig",
    "Section",
    "catalogue_fingerprint",
    "latest_version",
    "result_schema",
    "served_weights",
    "train",
]
