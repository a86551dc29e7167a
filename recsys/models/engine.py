"""The fused feed engine: every weighted scorer's z-scored contribution blended in one pass over a
section, with each scorer's mean and standard deviation computed from per-title blocks
precomputed at load instead of from a full score array per scorer.

**Rule.** The numbers are those of :func:`recsys.models.hybrid.zscore_blend` over the scorers'
raw scores (same NaN rule, rated / hidden titles left out of the statistics and NaN in the
result); only the order of the floating-point sums differs. A scorer's query takes part through
an optional ``fused(block) -> Term`` (capability, not a name check): a :class:`Term` knows

- ``moments()``: ``(count, sum, sum of squares)`` of its finite raw scores over the block, from
  precomputed per-block sums where it can (content: per TF-IDF signature sums of the row scales
  and priors; genre taste: titles per genre set; popularity: constant sums) -- O(signatures), not
  O(titles);
- ``at(positions)``: raw scores at a few positions (the removed titles, the shown cards);
- ``add_to(out, coef, mean)``: ``out += coef * (raw - mean)`` where it can score, in place;
  returns the positions it scored (``None``: every candidate) -- the blend's only pass over the
  section per scorer, with no NaN-filled or normalised copy.

A query without ``fused`` (a newly registered scorer) is wrapped in :class:`DenseTerm` (its
``scores`` array), so the engine stays open like the registry.

Example: two scorers, a = [1, 2, 3] and b = [0, nan, 2] with weights 1 / 1 blend to
``(z_a + z_b) / 2`` = [-1.22, 0, 2.22] / 2 (``nan`` in b counts 0), exactly as ``zscore_blend``.

Measured (``bench/feed_latency.py``, mirror catalogue, 200 simulated users, both sections,
three runs alternating with the code before, 2 shared cores): ``recommend_feed`` p50 3.96-4.86
-> 3.41-4.19 ms, p95 5.62-7.80 -> 4.71-5.99 ms against a floor of 0.92-1.20 ms, with this engine
and the cheaper reasons and calibration of the same change; scoring and blending alone (full
score arrays + ``zscore_blend`` against terms + :func:`fused_blend`, same users, same run, thread
CPU per request for both sections on a busy machine, the two timed in one loop) p50 2.00 ->
1.56 ms, p95 2.50 -> 2.00 ms. At 1M titles (the catalogue replicated) p95 18.9 -> 16.9 ms. Lists, reasons and scores are those of the full
arrays (200 users x 2 sections x stages on / off identical; ``bench/feed_ranking.py``).

**Around the engine, per request** (issue 22: the feed's p95 within 2x the floor). No SciPy
sparse matrix is built per request (the products run on raw CSR / CSC arrays, compiled since:
:mod:`recsys.models.compiled`; the ALS fold-in calls implicit's kernel on the row's arrays,
:func:`recsys.models.als.fold_in`); the ranking stages read per-section
:class:`~recsys.models.rerank.base.CandidateFacts` (genre masks, family filter, language
buckets) instead of looping over the pool's titles, and calibration precomputes its terms
(:func:`recsys.models.rerank.calibration.greedy`); ALS explanations call LAPACK directly; both
sections' frames are one polars frame, sliced (:func:`recsys.models.results.frames`). Measured
(``bench/feed_latency.py --clock cpu``, thread CPU time, 2 shared cores busy with other jobs,
runs alternating with the code before; each ratio against the floor of its own run):
``recommend_feed`` p50 2.68-3.44 -> 2.52-2.83 ms, p95 3.82-4.52 -> 3.14-3.60 ms, floor p50
0.93-1.03 ms, p95 0.99-1.13 ms: ratios p50 2.88-3.34x -> 2.63-2.78x, p95 3.81-3.99x ->
3.06-3.25x. At 1M titles (``--scale 1000000``, one run each) p50 10.38 -> 9.33 ms, p95 12.33 ->
11.21 ms against a floor of 9.8 / 10.0 ms. Same lists, reasons and scores (bit for bit) on 1,704
recorded lists of 240 simulated users (stages on / off, other weights, exclusions, short
profiles). What is left, per request (thread CPU, in place): the content term ~0.6-0.8 ms (the
signature products and sharpening of ~8.8k film and 2.3k show signatures by up to 15 profile
titles, the ~2k overlap rows), the reasons ~0.6 ms (Python over 20 cards a section), the blend's
passes ~0.4 ms, the queries and the taste ~0.5 ms, a calibrated section's greedy ~0.26 ms.

**Compiled passes** (issue 22, next round). The content term's gather, scale, prior, centring and
overlap corrections, the taste term's gather and the popularity term's add are each one compiled
loop (:mod:`recsys.models.compiled`, numba) with the floating-point steps of the NumPy passes they
replace (the same sums); so are the content overlap and the signature scores. Measured
(``bench/feed_latency.py``, wall clock, idle machine, three runs alternating with 35d70c0, with the
reasons', taste's and stages' changes of the same round): ``recommend_feed`` p50 2.78-2.86x ->
2.26-2.60x the floor, p95 3.27-3.39x -> 2.56-2.96x. Tried, not used: one compiled loop over the
section for all terms at once (a tuple of per-term arrays indexed inside the title loop cost 8x
the term-by-term loops; the loop order swapped, it was still 1.4x), and the signature product
skipping the zeros of the profile's low-field columns (10x fewer multiplications, 2.6x the time of
SciPy's kernel: a branch per stored value).

**The profile's products, compiled** (issue 22, third round). The content term's signature
similarities walk only the table's columns (CSC) of the features the profile titles have -- the
zeros skipped a whole column at a time, with no test per stored value, where the row-by-row skip
above lost to SciPy -- and come out transposed so the sharpened sums run along the signatures
(:func:`recsys.models.compiled.signature_scores`: films 220 -> 154 us, shows 51 -> 25 us); the
profile's columns are cut from the TF-IDF rows in one pass (``profile_columns``: 45 -> ~15 us);
calibration's greedy steps are one loop (``calibration_steps``: a calibrated film section's stage
~170-280 -> <20 us, the stage's p95 over the feed's requests 645 -> 341 us). Same lists, reasons
and scores on the 800 recorded lists (``bench/feed_ranking.py``). ``bench/feed_ab.py``, median of
5 pairs alternating with d2584cc, idle 2-core machine: ``recommend_feed`` p95 2.93x -> 2.67x the
floor (wall clock), 2.97x -> 2.69x (thread CPU), 3.16x -> 3.02x with the caches evicted; p50
2.44x -> 2.29x. Tried, not used: a compiled top-n (a heap offered only the chunks that beat its
worst) was no faster than the sampled threshold (35 against 34 us for 60 of 64k films), and
skipping the profile's zero columns in the overlap product changed nothing (70 -> 64 us: the
passes over the section's rows, not the products, cost the time).

**Tried, not used: pruning by bounds.** Grouping a section by TF-IDF signature (groups of at most
32 titles by prior), an upper bound per group from every term (largest row scale, prior,
popularity, genre-set value, ALS score) and an exact blend of only the groups whose bound reaches
the k-th best of a seed set gave exactly the same top lists, but cost 2-4x the full blend at 81k
titles and no less at 1M (thread CPU time, same requests): the titles sharing a word or person
with the profile must be scored one by one (~2.5k of the films), the bounds leave another
5-15k, and scoring those is random gathers from ~10 arrays, where the full blend streams a dozen
passes over contiguous ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

import numpy as np

from recsys.errors import ModelError
from recsys.models.base import Block, ScorerQuery
from recsys.models.compiled import dense_affine

Moments = tuple[int, float, float]


class Term(Protocol):
    """One scorer's part of the fused blend over one block (see the module docstring)."""

    def moments(self) -> Moments: ...

    def at(self, positions: np.ndarray) -> np.ndarray: ...

    def add_to(self, out: np.ndarray, coef: float, mean: float) -> np.ndarray | None: ...


class DenseTerm:
    """The fallback :class:`Term` over a full raw score array (NaN where it cannot score)."""

    def __init__(self, raw: np.ndarray) -> None:
        self.raw = raw
        self.nan = np.isnan(raw)
        self.any_nan = bool(self.nan.any())
        self._moments: Moments | None = None  # computed once (a shared term is read-only after)

    def moments(self) -> Moments:
        if self._moments is None:
            if self.any_nan:
                vals = np.where(self.nan, 0.0, self.raw)
                self._moments = int(len(vals) - self.nan.sum()), float(vals.sum()), float(np.dot(vals, vals))
            else:
                self._moments = len(self.raw), float(self.raw.sum()), float(np.dot(self.raw, self.raw))
        return self._moments

    def at(self, positions: np.ndarray) -> np.ndarray:
        picked: np.ndarray = self.raw[positions]
        return picked

    def add_to(self, out: np.ndarray, coef: float, mean: float) -> np.ndarray | None:
        if not self.any_nan:
            if coef == 0:
                return None
            dense_affine(out, self.raw, coef, mean)  # out += raw * coef; out -= mean * coef, one pass
            return None
        ok = np.flatnonzero(~self.nan)
        if coef:
            out[ok] += (self.raw[ok] - mean) * coef
        return ok


def term_of(query: ScorerQuery, block: Block) -> Term:
    """The query's own fused term when it has one, else the dense fallback."""
    fused = getattr(query, "fused", None)
    if fused is not None:
        term: Term = fused(block)
        return term
    return DenseTerm(query.scores(block))


def fused_blend(
    terms: Mapping[str, Term], weights: Mapping[str, float], size: int, removed: np.ndarray | None = None
) -> tuple[np.ndarray, dict[str, tuple[float, float]]]:
    """The blend of :func:`recsys.models.hybrid.zscore_blend` from :class:`Term` objects:
    ``(blended scores over the block, {name: (mean, std)})``; ``removed`` positions are left out of
    every scorer's statistics and are NaN in the result."""
    gone = np.unique(removed) if removed is not None and len(removed) else np.zeros(0, dtype=np.int64)
    total_w = sum(float(v) for v in weights.values())
    if total_w <= 0:
        raise ModelError("Nothing to blend: give at least one scorer a positive weight.")
    total = np.zeros(size, dtype=np.float64)
    scored_all = False
    scored: list[np.ndarray] = []
    stats: dict[str, tuple[float, float]] = {}
    for name, term in terms.items():
        w = float(weights.get(name, 0.0))
        count, s1, s2 = term.moments()
        if len(gone):
            at = term.at(gone)
            ok = ~np.isnan(at)
            vals = at[ok]
            count -= int(ok.sum())
            s1 -= float(vals.sum())
            s2 -= float(np.dot(vals, vals))
        if count <= 0:
            stats[name] = (math.nan, 0.0)
            continue
        mean = s1 / count
        std = math.sqrt(max(s2 / count - mean * mean, 0.0))
        if std <= 1e-9 * max(1.0, abs(mean)):
            std = 0.0
        stats[name] = (mean, std)
        if w == 0:
            continue
        # a constant scorer (std 0) adds z = 0 wherever it scores
        where = term.add_to(total, w / (std * total_w) if std > 0 else 0.0, mean)
        if where is None:
            scored_all = True
        else:
            scored.append(where)
    if not scored_all:
        unscored = np.ones(size, dtype=bool)
        for where in scored:
            unscored[where] = False
        total[unscored] = np.nan
    total[gone] = np.nan
    return total, stats


def zscores_of(term: Term, stat: tuple[float, float], positions: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """A term's z-scores at ``positions`` under ``stat`` (0 for a constant scorer; NaN where it
    cannot score or the title was removed), as :func:`recsys.models.hybrid.zscores_at`."""
    mean, std = stat
    values = term.at(positions)
    z = (values - mean) / std if std > 0 else np.where(np.isnan(values), np.nan, 0.0)
    if len(removed):
        z[np.isin(positions, removed)] = np.nan
    return z
