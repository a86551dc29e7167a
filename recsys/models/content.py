"""Content scorer: per-field TF-IDF, similarity to each recently rated title, and a quality prior.

**Title vectors.** Each title becomes one bag of tokens per *field*: genres, title type, decade,
runtime band, original language (``lang:ja``, from :data:`Columns.LANGUAGE`; English gets no
token unless ``TfidfConfig.language_english``), title words (the primary title's and, where it
differs, the original title's: ``Sen to Chihiro no kamikakushi`` adds ``w:chihiro``,
``w:kamikakushi``), directors, writers, leading cast and MovieLens tags (see
:func:`field_tokens`; people and tags are missing for most of the catalogue and the model works
without them). scikit-learn's ``TfidfVectorizer`` weights each field on its own and L2-normalises
it, so every present field has unit length whatever its number of tokens; each field is then
scaled by its weight in :class:`TfidfConfig` and the concatenated row is L2-normalised. ``x_i .
x_j`` is the cosine similarity of two titles, a weighted mix of the per-field cosines. Title words
get a small weight: alone they cannot make "Godfather (2022)" a neighbour of "The Godfather".

**Scores** (kNN over the profile, not one centroid). The profile is the user's most recent
``max_profile`` rated titles known to the model, ``j = 1..L`` oldest first, with app values
``v_j`` (like 1, superlike 2, dislike -1, scaled by ``dislike_weight``) and recency weights
``r_j = recency ** (L - j)`` (the latest click weighs 1). With ``w_j = v_j r_j``::

    score_i = sum_j w_j * max(x_i . x_j, 0) ** power / sum_j |w_j|  +  prior_weight * q_i

``power > 1`` sharpens: a close neighbour of one liked title beats a title vaguely like all of
them. ``q_i`` is the z-score (over the catalogue) of ``ln(1 + num_votes)``, a quality / familiarity
prior that keeps obscure titles down.

**Explanations.** :meth:`ContentQuery.contributions` returns, per *liked* title, its term
``w_j max(x_i . x_j, 0) ** power / sum |w|``; disliked titles and the prior are left out, so a row
does not sum to the score.

**Speed.** The low-cardinality fields (genres, type, decade, runtime, language) take few distinct
values:
:meth:`TfidfScorer.fit` stores each title's *signature* (an index into a small table of distinct
low-field vectors, ~10k for 81k titles with the language field) and its row scale. A request computes the profile's
similarity to each signature once, and only the candidates sharing a title word / person / tag
with the profile (found through the block's column-major copy) are scored row by row.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np
import polars as pl
import scipy.sparse as sp

from recsys.columns import Columns as C
from recsys.errors import ModelError
from recsys.models import compiled
from recsys.models.base import (
    Block,
    ItemIndex,
    Profile,
    ProfileLike,
    ScorerBase,
    TrainingData,
    config_from_dict,
    config_to_dict,
    load_npz,
    read_json,
    require,
    write_json,
)
from recsys.models.engine import DenseTerm
from recsys.progress import Progress, null_progress

log = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SPACE = re.compile(r"\s+")

#: Fields in matrix column order: (token prefix, config weight attribute). The first
#: ``_N_LOW`` are the low-cardinality fields summarised by signatures.
FIELDS: tuple[tuple[str, str], ...] = (
    ("g", "genre_weight"),
    ("t", "type_weight"),
    ("d", "decade_weight"),
    ("r", "runtime_weight"),
    ("lang", "language_weight"),
    ("w", "word_weight"),
    ("dir", "director_weight"),
    ("wri", "writer_weight"),
    ("cast", "cast_weight"),
    ("tag", "tag_weight"),
)
_N_LOW = 5  # g, t, d, r, lang
_FILES = ("tfidf.npz", "content.npz", "items.json", "features.json", "config.json")


@dataclass(frozen=True)
class TfidfConfig:
    """How titles become vectors and how a profile scores them (tuned on a validation split of
    MovieLens, strict temporal protocol; see the module docstring for the formula).

    ``language_weight``: weight of the original-language field (issue 18: a Japanese film's
    neighbours are Japanese films). Measured on the mirror (strict temporal validation NDCG@10
    of the content scorer / hybrid, and the share of the fan's language in the content-only
    movie top 10 of Japanese, Korean and French fans): 0 (no field) 0.0853 / 0.1371, 0/10,
    0/10, 0/10; 0.5: 0.0856 / 0.1369, 1/10, 2/10, 0/10; 1.0: 0.0860 / 0.1371, 7/10, 10/10,
    10/10 (an English crime fan's top 10 unchanged: 10/10 English or unknown).
    ``language_english``: whether English titles get a ``lang:en`` token too (off: English is
    the default, and most untagged titles are English).
    ``min_df``: a token must occur in at least this many titles. ``max_cast``: leading cast
    members per title. ``*_weight``: each field's weight after its own L2 normalisation (0
    drops the field). ``max_profile``: most recent rated titles used. ``recency``: weight ratio
    between consecutive clicks (1 = no recency). ``power``: sharpening of the similarities.
    ``prior_weight``: weight of the z-scored ``ln(1 + num_votes)``. ``dislike_weight``: scale of
    a dislike's (negative) weight.
    """

    min_df: int = 2
    sublinear_tf: bool = True
    max_cast: int = 4
    genre_weight: float = 0.5
    type_weight: float = 0.5
    decade_weight: float = 0.5
    runtime_weight: float = 0.15
    language_weight: float = 1.0
    language_english: bool = False
    word_weight: float = 0.2
    director_weight: float = 1.0
    writer_weight: float = 0.8
    cast_weight: float = 0.7
    tag_weight: float = 0.0
    max_profile: int = 15
    recency: float = 0.9
    power: float = 3.0
    prior_weight: float = 0.15
    dislike_weight: float = 1.0

    def field_weight(self, prefix: str) -> float:
        return float(getattr(self, dict(FIELDS)[prefix]))


def _slug(name: str) -> str:
    return _SPACE.sub("_", str(name).strip().lower())


def _runtime_band(minutes: int | None) -> str | None:
    if minutes is None or minutes <= 0:
        return None
    for upper, label in ((30, "0-30"), (60, "30-60"), (90, "60-90"), (120, "90-120"), (150, "120-150")):
        if minutes <= upper:
            return label
    return "150+"


def field_tokens(
    titles: pl.DataFrame, config: TfidfConfig, tags: pl.DataFrame | None = None
) -> dict[str, list[list[str]]]:
    """Per field prefix (see :data:`FIELDS`), one token list per row of ``titles``; missing
    columns give empty lists. ``tags`` (``[tconst, tag]``, one row per application) fill the
    ``tag`` field."""
    # scikit-learn (0.8 s to import) loads when a model is fitted, not when the CLI starts (issue 24)
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    n = titles.height

    def col(name: str) -> list[Any]:
        return titles[name].to_list() if name in titles.columns else [None] * n

    genres, ttype, year, runtime, title, original, language = (
        col(C.GENRES),
        col(C.TITLE_TYPE),
        col(C.START_YEAR),
        col(C.RUNTIME),
        col(C.TITLE),
        col(C.ORIGINAL_TITLE),
        col(C.LANGUAGE),
    )
    texts = [
        f"{t} {o}" if o and t and o.casefold() != t.casefold() else (t or o or "")
        for t, o in zip(title, original, strict=True)
    ]
    fields: dict[str, list[list[str]]] = {
        "g": [[g.lower() for g in gs or ()] for gs in genres],
        "t": [[t] if t else [] for t in ttype],
        "d": [[str(int(y) // 10 * 10)] if y else [] for y in year],
        "r": [[b] if (b := _runtime_band(m)) else [] for m in runtime],
        "lang": [[lang] if lang and (lang != "en" or config.language_english) else [] for lang in language],
        "w": [
            list(
                dict.fromkeys(
                    w
                    for w in _WORD.findall(t.lower())
                    if len(w) > 1 and w not in ENGLISH_STOP_WORDS and not w.isdigit()
                )
            )
            for t in texts
        ],
        "dir": [[_slug(p) for p in ps or ()] for ps in col("directors")],
        "wri": [[_slug(p) for p in ps or ()] for ps in col("writers")],
        "cast": [[_slug(p) for p in (ps or ())[: config.max_cast]] for ps in col("cast")],
        "tag": [[] for _ in range(n)],
    }
    if tags is not None and tags.height and {C.TCONST, "tag"} <= set(tags.columns) and C.TCONST in titles.columns:
        pos = {t: i for i, t in enumerate(titles[C.TCONST].to_list())}
        for t, tag in zip(tags[C.TCONST].to_list(), tags["tag"].to_list(), strict=True):
            i = pos.get(t)
            if i is not None and tag:
                fields["tag"][i].append(_slug(tag))
    return fields


def title_tokens(titles: pl.DataFrame, config: TfidfConfig, tags: pl.DataFrame | None = None) -> list[list[str]]:
    """One prefixed token list per row of ``titles`` (``g:drama``, ``t:movie``, ``d:1990``,
    ``r:90-120``, ``lang:ja``, ``w:godfather``, ``dir:...``, ``wri:...``, ``cast:...``, ``tag:...``), fields in
    :data:`FIELDS` order: the vocabulary the model is built from, for display and debugging."""
    fields = field_tokens(titles, config, tags)
    return [[f"{prefix}:{tok}" for prefix, _ in FIELDS for tok in fields[prefix][i]] for i in range(titles.height)]


def _identity(tokens: list[str]) -> list[str]:
    return tokens


def _field_block(docs: list[list[str]], config: TfidfConfig) -> tuple[sp.csr_matrix, list[str]]:
    """One field's TF-IDF block, rows L2-normalised (empty rows stay empty)."""
    n = len(docs)
    if not any(docs):
        return sp.csr_matrix((n, 0), dtype=np.float32), []
    from sklearn.feature_extraction.text import TfidfVectorizer  # see field_tokens

    vectorizer = TfidfVectorizer(
        analyzer=_identity,
        min_df=config.min_df if n >= config.min_df else 1,
        sublinear_tf=config.sublinear_tf,
        norm="l2",
        dtype=np.float32,
    )
    try:
        block = vectorizer.fit_transform(docs)
    except ValueError:  # every token of this field is below min_df
        return sp.csr_matrix((n, 0), dtype=np.float32), []
    return sp.csr_matrix(block, dtype=np.float32), vectorizer.get_feature_names_out().tolist()


def quality_prior(titles: pl.DataFrame) -> np.ndarray:
    """z-score over the catalogue of ``ln(1 + num_votes)`` (0 when the column is missing)."""
    if C.VOTES not in titles.columns or titles.height == 0:
        return np.zeros(titles.height)
    x = np.log1p(np.clip(titles[C.VOTES].cast(pl.Float64).fill_null(0).to_numpy(), 0, None))
    sd = float(x.std())
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x)


@dataclass(frozen=True, eq=False)
class ContentBlock:
    """What :meth:`TfidfScorer.candidates` gathers once for the known candidates (in order):
    their signature codes into ``table`` (the block's distinct low-field vectors), row scales,
    the high-cardinality part (title words, people, tags) column-major, and the prior."""

    codes: np.ndarray  # int32, per known candidate (the blend's gather is compiled, see below)
    table: np.ndarray  # float32 (signatures x low features), unscaled
    scale: np.ndarray  # float32, 1 / |unnormalised row|
    high: sp.csc_matrix  # known candidates x high features, row-normalised values
    prior: np.ndarray  # float64
    known: np.ndarray  # int64, indices of the known candidates in the block
    scale_power: np.ndarray  # float64, scale ** config.power
    offset: np.ndarray  # float64, config.prior_weight * prior
    slots: np.ndarray  # int64, block index -> row among the known candidates, -1 if unknown
    #: per signature: sums of scale_power, scale_power ** 2 and scale_power * offset over its
    #: candidates (3 x signatures), and the sums of offset and offset ** 2: a profile's score
    #: moments over the block in O(signatures) (the fused engine, :mod:`recsys.models.engine`)
    code_sums: np.ndarray = field(init=False, repr=False)
    offset_sums: tuple[float, float] = field(init=False, repr=False)
    #: ``table`` as CSC (int32 indices): a signature has ~6 of the ~70 low features, and a
    #: request walks only the columns of the features its profile titles have
    #: (:func:`recsys.models.compiled.signature_scores`; the mirror's films: 154 us for the
    #: product and the sharpened sums, against 220 us for SciPy's CSR product and a row-by-row sum)
    columns: sp.csc_matrix = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # int32: the blend's gather over the films' 64k codes is compiled
        # (compiled.gather_affine), where int32 costs nothing and halves what a request reads
        # from memory (NumPy's take converted int32 indices first: ~3x the intp take)
        object.__setattr__(self, "codes", np.asarray(self.codes, dtype=np.int32))
        n = len(self.table)
        columns = sp.csc_matrix(self.table)
        columns.sort_indices()  # each similarity adds its features in order, as the CSR product
        columns.indptr, columns.indices = columns.indptr.astype(np.int32), columns.indices.astype(np.int32)
        object.__setattr__(self, "columns", columns)
        sp_, off = self.scale_power, self.offset
        sums = np.vstack(
            [
                np.bincount(self.codes, sp_, minlength=n),
                np.bincount(self.codes, sp_ * sp_, minlength=n),
                np.bincount(self.codes, sp_ * off, minlength=n),
            ]
        )
        object.__setattr__(self, "code_sums", sums)
        object.__setattr__(self, "offset_sums", (float(off.sum()), float(np.dot(off, off))))

    def signature_scores(self, low: np.ndarray, w: np.ndarray, power: float) -> tuple[np.ndarray, np.ndarray]:
        """``((table @ low).T, per signature sum_j w_j max(s_j, 0) ** power)``: each signature's
        low-field similarity to each profile title before the row scale (L x signatures,
        float32), and the signatures' sharpened scores (float64), in one compiled pass over the
        table's columns the profile uses."""
        c = self.columns
        return compiled.signature_scores(
            c.indptr, c.indices, c.data, c.shape[0], np.asarray(low, dtype=np.float32), w, power
        )


class TfidfScorer(ScorerBase):
    """Per-field TF-IDF content scorer; see the module docstring for the model."""

    name = "content"

    def __init__(self, config: TfidfConfig | None = None) -> None:
        self.config = config or TfidfConfig()
        self.items: ItemIndex | None = None
        self.features: list[str] = []
        self.matrix: sp.csr_matrix | None = None  # items x features, rows L2-normalised, float32
        self.prior: np.ndarray | None = None  # per item, z-scored
        self.n_low = 0  # leading columns of the low-cardinality fields
        self.codes: np.ndarray | None = None  # per item: signature row of ``table``
        self.table: np.ndarray | None = None  # distinct low-field vectors (before row scaling)
        self.scale: np.ndarray | None = None  # per item: 1 / |unnormalised row|

    # --- fitting -------------------------------------------------------------------------------

    def fit(self, data: TrainingData | pl.DataFrame, progress: Progress | None = None) -> Self:
        """Vectorise every title of ``data.titles`` (needs ``tconst``), with ``data.tags``."""
        progress = progress or null_progress
        if isinstance(data, pl.DataFrame):  # a bare catalogue frame
            data = TrainingData(titles=data)
        titles = data.titles
        if titles.height == 0:
            raise ModelError("The catalogue is empty; run `python -m recsys build` first.")
        if C.TCONST not in titles.columns:
            raise ModelError("The catalogue frame has no tconst column; rebuild the catalogue.")
        progress("content: tokens", 0, titles.height)
        fields = field_tokens(titles, self.config, data.tags)
        progress("content: tokens", titles.height, titles.height)
        blocks: list[sp.csr_matrix] = []
        features: list[str] = []
        for i, (prefix, _) in enumerate(FIELDS):
            names: list[str]
            weight = self.config.field_weight(prefix)
            if weight <= 0:
                block, names = sp.csr_matrix((titles.height, 0), dtype=np.float32), []
            else:
                block, names = _field_block(fields[prefix], self.config)
            blocks.append(block * np.float32(weight))
            features.extend(f"{prefix}:{n}" for n in names)
            if i == _N_LOW - 1:
                self.n_low = len(features)
        raw = sp.csr_matrix(sp.hstack(blocks, format="csr"), dtype=np.float32)
        raw.eliminate_zeros()
        raw.sort_indices()
        norms = np.sqrt(np.asarray(raw.multiply(raw).sum(axis=1)).ravel())
        scale = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)
        self.matrix = sp.csr_matrix(sp.diags(scale) @ raw, dtype=np.float32)
        self.scale = scale
        low = raw[:, : self.n_low].toarray()
        self.table, codes = np.unique(low, axis=0, return_inverse=True)
        self.codes = codes.reshape(-1).astype(np.int32)
        self.features = features
        self.prior = quality_prior(titles)
        self.items = ItemIndex(titles[C.TCONST].to_list())
        log.info("TF-IDF: %d titles x %d features, %d signatures", *self.matrix.shape, len(self.table))
        return self

    # --- scoring -------------------------------------------------------------------------------

    def _fitted(self) -> tuple[ItemIndex, sp.csr_matrix]:
        if self.items is None or self.matrix is None:
            raise ModelError("The content model is not fitted; run `python -m recsys train`.")
        return self.items, self.matrix

    def candidates(self, tconsts: Sequence[str]) -> Block:
        """Gather, once per candidate set, the signature codes, scales, high-field columns and
        prior of the known candidates (see :class:`ContentBlock`)."""
        items, matrix = self._fitted()
        assert self.codes is not None and self.table is not None and self.scale is not None
        assert self.prior is not None
        positions = items.lookup(tconsts)
        rows = positions[positions >= 0]
        used, codes = np.unique(self.codes[rows], return_inverse=True)
        high = matrix[rows][:, self.n_low :].tocsc()
        high.sort_indices()
        data = ContentBlock(
            codes=codes.reshape(-1),
            table=np.ascontiguousarray(self.table[used]),
            scale=self.scale[rows],
            high=high,
            prior=self.prior[rows].astype(np.float64),
            known=np.flatnonzero(positions >= 0),
            scale_power=self.scale[rows].astype(np.float64) ** float(self.config.power),
            offset=float(self.config.prior_weight) * self.prior[rows].astype(np.float64),
            slots=_slots(positions),
        )
        return Block(list(tconsts), positions, data)

    def prepare(self, profile: Profile | ProfileLike) -> ContentQuery | None:
        """The most recent ``max_profile`` rated titles known to the model, with their weights;
        ``None`` when the profile has no known rated title."""
        items, matrix = self._fitted()
        prof = Profile.of(profile)
        rows = items.lookup(prof.tconsts)
        known = np.flatnonzero(rows >= 0)[-max(1, self.config.max_profile) :]
        if len(known) == 0:
            return None
        rows = rows[known]
        values = prof.values[known].astype(np.float64)
        values = np.where(values < 0, values * self.config.dislike_weight, values)
        age = np.arange(len(rows) - 1, -1, -1, dtype=np.float64)
        weights = values * self.config.recency**age
        total = float(np.abs(weights).sum())
        if total <= 0:
            return None
        # low features x L, the high-field features the titles have, and their values
        lows, cols, dense_high = compiled.profile_columns(
            matrix.indptr, matrix.indices, matrix.data, rows.astype(np.int64), self.n_low
        )
        return ContentQuery(
            tconsts=[prof.tconsts[k] for k in known],
            weights=weights / total,
            liked=weights > 0,
            low=lows,
            high_cols=cols,
            high=dense_high,
            power=float(self.config.power),
            prior_weight=float(self.config.prior_weight),
        )

    def similar(self, tconst: str, block: Block) -> np.ndarray:
        """Cosine of each ``block`` candidate to ``tconst`` (NaN for unknown candidates, all NaN
        when ``tconst`` is unknown): "More like this"."""
        query = self.prepare(Profile((tconst,), np.ones(1)))
        if query is None:
            return np.full(len(block), np.nan)
        return query.similarities(block)[:, 0]

    def explain(self, profile: ProfileLike, candidates: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """``(liked tconsts, array candidates x liked)``: each liked title's share of each
        candidate's score (NaN rows for unknown candidates); see :meth:`ContentQuery.contributions`."""
        block = self.candidates(list(candidates))
        query = self.prepare(Profile.of(profile))
        if query is None:
            return [], np.full((len(block), 0), np.nan)
        liked, contrib = query.contributions(block, np.arange(len(block)))
        return liked, contrib

    # --- artifacts -----------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        _, matrix = self._fitted()
        assert self.items is not None and self.prior is not None
        assert self.codes is not None and self.table is not None and self.scale is not None
        directory.mkdir(parents=True, exist_ok=True)
        sp.save_npz(directory / "tfidf.npz", matrix, compressed=False)
        np.savez(
            directory / "content.npz",
            prior=self.prior,
            codes=self.codes,
            table=self.table,
            scale=self.scale,
            n_low=np.asarray(self.n_low, dtype=np.int64),
            fields=np.asarray([prefix for prefix, _ in FIELDS]),
        )
        self.items.save(directory / "items.json")
        write_json(directory / "features.json", self.features)
        write_json(directory / "config.json", config_to_dict(self.config))

    @classmethod
    def load(cls, directory: Path) -> Self:
        require(directory, *_FILES)
        scorer = cls(config_from_dict(TfidfConfig, read_json(directory / "config.json")))
        try:
            scorer.matrix = sp.csr_matrix(sp.load_npz(directory / "tfidf.npz"), dtype=np.float32)
        except (OSError, ValueError) as exc:
            raise ModelError(f"Cannot read {directory / 'tfidf.npz'}: {exc}; run `python -m recsys train`.") from exc
        arrays = load_npz(directory / "content.npz")
        needed = {"prior", "codes", "table", "scale", "n_low", "fields"}
        if not needed <= set(arrays) or [str(f) for f in arrays["fields"]] != [p for p, _ in FIELDS]:
            raise ModelError(
                f"Content model in {directory} is from an older version (its fields differ from"
                f" {', '.join(p for p, _ in FIELDS)}); run `python -m recsys train`."
            )
        shape = scorer.matrix.shape
        scorer.items = ItemIndex.load(directory / "items.json")
        scorer.features = read_json(directory / "features.json")
        scorer.prior = arrays["prior"].astype(np.float64)
        scorer.codes = arrays["codes"].astype(np.int32)
        scorer.table = arrays["table"].astype(np.float32)
        scorer.scale = arrays["scale"].astype(np.float32)
        scorer.n_low = int(arrays["n_low"])
        n = len(scorer.items)
        if (
            shape != (n, len(scorer.features))
            or len(scorer.prior) != n
            or len(scorer.codes) != n
            or len(scorer.scale) != n
            or scorer.table.shape[1] != scorer.n_low
        ):
            raise ModelError(f"Content model in {directory} is inconsistent; run `python -m recsys train`.")
        return scorer


class ContentQuery:
    """One profile, prepared once per request (see the module docstring for the formula).

    ``tconsts`` / ``weights`` / ``liked``: the profile titles used (oldest first), their
    normalised weights ``w_j / sum |w|`` and whether each is a like. ``low``: their low-field
    columns (features x L); ``high_cols`` / ``high``: the high-field features they have and
    their values (dense, features x L).
    """

    __slots__ = (
        "_overlaps",
        "_similar",
        "high",
        "high_cols",
        "liked",
        "low",
        "power",
        "prior_weight",
        "tconsts",
        "weights",
    )

    def __init__(
        self,
        *,
        tconsts: list[str],
        weights: np.ndarray,
        liked: np.ndarray,
        low: np.ndarray,
        high_cols: np.ndarray,
        high: np.ndarray,
        power: float,
        prior_weight: float,
    ) -> None:
        self.tconsts, self.weights, self.liked = tconsts, weights, liked
        self.low, self.high_cols, self.high = low, high_cols, high
        self.power, self.prior_weight = power, prior_weight
        # the overlap of a block, computed by scores() and reused by contributions() (reasons)
        self._overlaps: dict[int, tuple[ContentBlock, tuple[np.ndarray, np.ndarray]]] = {}
        # the shown cards' similarities, asked twice per section by the reasons (shares, naming)
        self._similar: tuple[ContentBlock, bytes, tuple[list[str], np.ndarray, np.ndarray | None]] | None = None

    def signature_part(self, data: ContentBlock) -> tuple[np.ndarray, np.ndarray]:
        """``(similarities, scores)`` of the block's signatures: L x signatures before the row
        scale, and ``sum_j w_j max(s_j, 0) ** power`` per signature (float64)."""
        return data.signature_scores(self.low, self.weights.astype(np.float32), self.power)

    def overlap_scores(
        self, data: ContentBlock, base: np.ndarray, pc: np.ndarray, rows: np.ndarray, high: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The overlap ``rows``' scores ``(from the signatures alone, exact)``, prior included:
        similarities ``base.T[code] * scale + high`` sharpened and weighted in one compiled loop
        (films: ~75 -> ~20 us a request for NumPy's gather, products and sums)."""
        return compiled.overlap_scores(
            base,
            data.codes[rows],
            data.scale[rows],
            high,
            self.weights.astype(np.float32),
            self.power,
            pc,
            data.scale_power[rows],
            data.offset[rows],
        )

    def _sharpen(self, s: np.ndarray) -> np.ndarray:
        s = np.maximum(s, 0.0, out=s)
        p = self.power
        if p == 1:
            return s
        sharpened: np.ndarray
        if p == 2:
            sharpened = np.multiply(s, s, out=s)
        elif p == 3:  # (s * s) * s with one temporary (the same numbers as s * s * s)
            sharpened = np.multiply(s, s)
            sharpened *= s
        else:
            sharpened = np.power(s, p, out=s)
        return sharpened

    def _overlap(self, data: ContentBlock) -> tuple[np.ndarray, np.ndarray]:
        """Rows (into the known candidates) sharing a high-field feature with the profile, and
        their high-field similarity to each profile title (rows x L); computed once per block."""
        cached = self._overlaps.get(id(data))
        if cached is not None and cached[0] is data:
            return cached[1]
        result = self._compute_overlap(data)
        self._overlaps[id(data)] = (data, result)
        return result

    def _compute_overlap(self, data: ContentBlock) -> tuple[np.ndarray, np.ndarray]:
        high = data.high
        cols = self.high_cols
        if len(cols) == 0 or high.nnz == 0:
            return np.zeros(0, dtype=np.int64), np.zeros((0, len(self.weights)), dtype=np.float32)
        # one compiled pass over the profile's columns: the rows they reach (marked, then read in
        # order) and each row's sum over the columns in order, the numbers of SciPy's product of
        # those rows' CSR (81 -> ~65 us for the films; was argsort + a CSR product)
        return compiled.column_rows_product(high.indptr, high.indices, high.data, high.shape[0], cols, self.high)

    def similarities(self, block: Block) -> np.ndarray:
        """Cosine of each candidate to each profile title (len(block) x L; NaN rows unknown)."""
        data: ContentBlock = block.data
        out = np.full((len(block), len(self.weights)), np.nan)
        base, _ = self.signature_part(data)
        sims = base.T[data.codes] * data.scale[:, None]
        rows, high = self._overlap(data)
        sims[rows] += high
        out[data.known] = sims
        return out

    def scores(self, block: Block) -> np.ndarray:
        data: ContentBlock = block.data
        if len(data.codes) == 0:
            return np.full(len(block), np.nan)
        # candidates without a shared word / person / tag: one value per signature
        base, pc = self.signature_part(data)  # base: L x signatures, before the row scale
        known: np.ndarray = pc[data.codes]
        known *= data.scale_power
        known += data.offset
        rows, high = self._overlap(data)
        if len(rows):  # the rest: the same low-field part, plus the shared high-field part
            known[rows] = self.overlap_scores(data, base, pc, rows, high)[1]
        if len(known) == len(block):
            return known
        out = np.full(len(block), np.nan)
        out[data.known] = known
        return out

    def fused(self, block: Block) -> ContentTerm | DenseTerm:
        """This profile's part of the fused blend over ``block`` (:mod:`recsys.models.engine`)."""
        if len(block.data.codes) == 0:
            return DenseTerm(np.full(len(block), np.nan))
        return ContentTerm(self, block)

    def item_similarity(self, block: Block, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        """``(liked tconsts, array len(positions) x len(liked))``: the cosine ``x_i . x_j`` of each
        candidate to each liked title (NaN rows for unknown candidates); the reasons name a liked
        title only when it is high enough (:data:`recsys.models.reasons.CONTENT_NAMED`)."""
        liked, ok, sims = self._liked_similarities(block, positions)
        out = np.full((len(ok), len(liked)), np.nan)
        if sims is not None:
            out[ok] = sims.astype(np.float64)[:, self.liked]
        return liked, out

    def _liked_similarities(
        self, block: Block, positions: np.ndarray
    ) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        """``(liked tconsts, known mask over positions, cosines known x profile titles)``; the
        cosines are None when no candidate is known or nothing is liked."""
        data: ContentBlock = block.data
        positions = np.asarray(positions, dtype=np.int64)
        key = positions.tobytes()
        if self._similar is not None and self._similar[0] is data and self._similar[1] == key:
            return self._similar[2]
        result = self._compute_liked_similarities(data, positions)
        self._similar = (data, key, result)
        return result

    def _compute_liked_similarities(
        self, data: ContentBlock, positions: np.ndarray
    ) -> tuple[list[str], np.ndarray, np.ndarray | None]:
        liked = [t for t, ok in zip(self.tconsts, self.liked, strict=True) if ok]
        at = data.slots[positions]
        ok = at >= 0
        if not (ok.any() and liked):
            return liked, ok, None
        rows = at[ok]
        sims = (data.table[data.codes[rows]] @ self.low) * data.scale[rows, None]
        hit, high = self._overlap(data)
        if len(hit):  # none when no liked title has a title word, person or tag (issue 18)
            where = np.minimum(np.searchsorted(hit, rows), len(hit) - 1)
            found = hit[where] == rows
            sims[found] += high[where[found]]
        return liked, ok, sims

    def contributions(self, block: Block, positions: np.ndarray) -> tuple[list[str], np.ndarray]:
        """``(liked tconsts, array len(positions) x len(liked))``: ``w_j max(x_i . x_j, 0) **
        power / sum |w|`` per liked title ``j``; disliked titles and the prior are not columns,
        so rows do not sum to the score. NaN rows for unknown candidates."""
        liked, ok, sims = self._liked_similarities(block, positions)
        out = np.full((len(ok), len(liked)), np.nan)
        if sims is not None:
            terms = self._sharpen(sims.astype(np.float64)) * self.weights
            out[ok] = terms[:, self.liked]
        return liked, out


def _slots(positions: np.ndarray) -> np.ndarray:
    """Block index -> row among the known candidates (``-1`` for unknown ones)."""
    known = positions >= 0
    slots = np.full(len(positions), -1, dtype=np.int64)
    slots[known] = np.arange(int(known.sum()))
    return slots


class ContentTerm:
    """:meth:`ContentQuery.scores` as a fused term: ``s_i = pc[code_i] * scale_power_i +
    offset_i`` for a candidate sharing no high-field feature with the profile (``pc`` one value
    per signature), the exact similarity for the few that do (``rows``). Moments from the block's
    per-signature sums: ``sum s = pc . A1 + sum offset``, ``sum s^2 = pc^2 . A2 + 2 pc . B + sum
    offset^2``, corrected by the overlap rows' difference."""

    def __init__(self, query: ContentQuery, block: Block) -> None:
        data: ContentBlock = block.data
        self.data, self.size = data, len(block)
        base, self.pc = query.signature_part(data)
        rows, high = query._overlap(data)
        self.rows = rows
        if len(rows):  # the overlap rows' exact scores, and what the signature part gives them
            self.old, self.new = query.overlap_scores(data, base, self.pc, rows, high)

    def moments(self) -> tuple[int, float, float]:
        d, pc = self.data, self.pc
        a1, a2, b = d.code_sums
        o1, o2 = d.offset_sums
        s1 = float(pc @ a1) + o1
        s2 = float((pc * pc) @ a2) + 2.0 * float(pc @ b) + o2
        if len(self.rows):
            s1 += float(self.new.sum() - self.old.sum())
            s2 += float(np.dot(self.new, self.new) - np.dot(self.old, self.old))
        return len(d.codes), s1, s2

    def at(self, positions: np.ndarray) -> np.ndarray:
        d = self.data
        slots = d.slots[np.asarray(positions, dtype=np.int64)]
        ok = slots >= 0
        out = np.full(len(slots), np.nan)
        s = slots[ok]
        vals = self.pc[d.codes[s]] * d.scale_power[s] + d.offset[s]
        if len(self.rows) and len(s):
            where = np.minimum(np.searchsorted(self.rows, s), len(self.rows) - 1)
            found = self.rows[where] == s
            vals[found] = self.new[where[found]]
        out[ok] = vals
        return out

    def add_to(self, out: np.ndarray, coef: float, mean: float) -> np.ndarray | None:
        d = self.data
        full = len(d.codes) == self.size
        if coef:  # one compiled pass: the gather, scale, prior, centring and overlap corrections
            fix = (self.new - self.old) * coef if len(self.rows) else _NONE_F
            rows = self.rows if len(self.rows) else _NONE_I
            at = _NONE_I if full else d.known
            compiled.gather_affine(out, at, self.pc, d.codes, d.scale_power, d.offset, coef, mean, rows, fix)
        return None if full else d.known


_NONE_F = np.zeros(0)
_NONE_I = np.zeros(0, dtype=np.int64)
