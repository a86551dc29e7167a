"""Compiled loops (numba) for the feed's per-request passes over a section.

A feed request scores every title of both sections (63.7k films, 17.4k shows on the mirror). In
NumPy each step of a term is its own pass over the section with its own temporary (gather, scale,
offset, centre, add: five passes for the content term), and the product of the signature table by
the profile's low-field columns walks every stored value times every profile title, most of them
zero. These kernels do each in one loop, with the same floating-point operations in the same order
as the NumPy code they replace, so the numbers are bit for bit the same
(``tests/models/test_compiled.py`` checks each against its NumPy form). One exception:
:func:`calibration_steps` sums over the categories in order where NumPy's matrix-vector product
may group them otherwise, so its objective may differ in the last bit; its orders are checked
against the per-title formula instead (``tests/models/test_rerank.py``).

- :func:`signature_scores` -- the signature table times the profile's low-field columns (walking
  only the table's columns the profile has) and ``max(s, 0) ** power @ w`` per signature, in
  float64, and :func:`overlap_scores` the same for the candidates sharing a word / person / tag
  with the profile;
- :func:`gather_affine` -- ``out[at] += (values * coef)[codes] * scale + offset * coef - mean * coef``
  (+ per-row corrections): the content term's add to the blend; :func:`gather_add` the taste's;
- :func:`dense_affine` -- ``out += raw * coef - mean * coef``;
- :func:`column_rows_product` -- the candidates sharing a title word, person or tag with the
  profile and their similarity through those features (the content "overlap");
- :func:`profile_columns` -- the profile titles' rows of the TF-IDF matrix as the query's columns;
- :func:`calibration_steps` -- the calibration stage's greedy list (genres and languages).

Compiled on first use and cached on disk (``cache=True``: ``__pycache__`` next to this file, or
``NUMBA_CACHE_DIR``); the server's warm-up thread calls :func:`warm` so no visitor's request
compiles. Measured where each is used (``recsys/models/content.py``, ``recsys/models/engine.py``).
"""

from __future__ import annotations

import threading

import numpy as np
from numba import njit

_WARM_LOCK = threading.Lock()
_warm = False


@njit(cache=True, nogil=True, inline="always")
def _sharpened(s: np.float32, power: float) -> float:  # pragma: no cover - compiled
    """``max(s, 0) ** power`` of a float32 ``s`` (1, 2 and 3 as float32 products, as
    :meth:`recsys.models.content.ContentQuery._sharpen` does), as a float64."""
    if s < 0:
        s = np.float32(0.0)
    if power == 1.0:
        return np.float64(s)
    if power == 2.0:
        return np.float64(s * s)
    if power == 3.0:
        return np.float64((s * s) * s)
    return np.float64(s) ** power


@njit(cache=True, nogil=True)
def signature_scores(  # pragma: no cover - compiled
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, n_sigs: int, low: np.ndarray, w: np.ndarray, power: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(sims, pc)`` for the signature table in CSC form (``indptr`` / ``indices`` / ``data``,
    ``n_sigs`` rows, one column per low feature) and the profile's low-field columns ``low``
    (features x L, float32): ``sims = (table @ low).T`` (L x signatures, float32) and ``pc``, per
    signature ``sum_j w_j * max(sims[j], 0) ** power`` (float64 sums, in ``j`` order, of the
    float32 sharpened values).

    The same numbers as SciPy's CSR product and the row-by-row sum it replaces: each similarity
    adds its features' float32 products in feature order, and the features a profile title lacks
    only add exact zeros there, so skipping them changes nothing. Walking the table's columns for
    the profile's nonzero features only does a quarter of the CSR product's multiplications on
    the mirror's films, and the transposed layout lets the sharpened sum run along the signatures
    (12 us where the row-by-row sum took 67 us): films 220 -> 154 us a request."""
    n_low, width = low.shape
    sims = np.zeros((width, n_sigs), dtype=np.float32)
    pc = np.zeros(n_sigs)
    for j in range(width):
        row = sims[j]
        for f in range(n_low):
            v = low[f, j]
            if v != 0:
                for k in range(indptr[f], indptr[f + 1]):
                    row[indices[k]] += data[k] * v
        wj = np.float64(w[j])
        for s in range(n_sigs):
            pc[s] += _sharpened(row[s], power) * wj
    return sims, pc


@njit(cache=True, nogil=True)
def overlap_scores(  # pragma: no cover - compiled
    base: np.ndarray,
    codes: np.ndarray,
    scale: np.ndarray,
    high: np.ndarray,
    w: np.ndarray,
    power: float,
    pc: np.ndarray,
    scale_power: np.ndarray,
    offset: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The overlap rows' content scores ``(old, new)``: ``old = pc[codes] * scale_power +
    offset`` (what the signature part gives them) and ``new``, the exact score from their
    similarities ``base.T[codes] * scale + high`` (``base``: L x signatures, as
    :func:`signature_scores` gives it; float32, as NumPy computes them), sharpened and
    weighted as in :func:`signature_scores`, plus ``offset``. One loop where NumPy made five arrays."""
    rows, width = high.shape
    old = np.empty(rows, dtype=np.float64)
    new = np.empty(rows, dtype=np.float64)
    for r in range(rows):
        c = codes[r]
        acc = 0.0
        for j in range(width):
            acc += _sharpened(base[j, c] * scale[r] + high[r, j], power) * np.float64(w[j])
        new[r] = acc + offset[r]
        old[r] = pc[c] * scale_power[r] + offset[r]
    return old, new


@njit(cache=True, nogil=True)
def gather_affine(  # pragma: no cover - compiled
    out: np.ndarray,
    at: np.ndarray,
    values: np.ndarray,
    codes: np.ndarray,
    scale: np.ndarray,
    offset: np.ndarray,
    coef: float,
    mean: float,
    fix_rows: np.ndarray,
    fix: np.ndarray,
) -> None:
    """``out[at[i]] += (((values[codes[i]] * coef) * scale[i]) + offset[i] * coef) - mean * coef``
    (``at`` empty: ``out[i]``), plus ``fix[k]`` before the add at ``i = fix_rows[k]``: the content
    term's add to the blend. The loop over the titles has no test in it (a test per title for the
    corrected rows cost 62 us for the mirror's 64k films, against 40 us): the corrected rows'
    earlier values are kept and their sums redone after it."""
    n = len(codes)
    shift = mean * coef
    dense = len(at) == 0
    kept = np.empty(len(fix_rows))
    for k in range(len(fix_rows)):
        kept[k] = out[fix_rows[k] if dense else at[fix_rows[k]]]
    if dense:
        for i in range(n):
            out[i] += (((values[codes[i]] * coef) * scale[i]) + offset[i] * coef) - shift
    else:
        for i in range(n):
            out[at[i]] += (((values[codes[i]] * coef) * scale[i]) + offset[i] * coef) - shift
    for k in range(len(fix_rows)):
        i = fix_rows[k]
        v = ((((values[codes[i]] * coef) * scale[i]) + offset[i] * coef) - shift) + fix[k]
        out[i if dense else at[i]] = kept[k] + v


@njit(cache=True, nogil=True)
def gather_add(out: np.ndarray, at: np.ndarray, values: np.ndarray, codes: np.ndarray) -> None:  # pragma: no cover
    """``out[at[i]] += values[codes[i]]`` (``at`` empty: ``out[i]``): the taste term's add (23 us
    for the films against 34 us for NumPy's take and add)."""
    if len(at) == 0:
        for i in range(len(codes)):
            out[i] += values[codes[i]]
    else:
        for i in range(len(codes)):
            out[at[i]] += values[codes[i]]


@njit(cache=True, nogil=True)
def dense_affine(out: np.ndarray, raw: np.ndarray, coef: float, mean: float) -> None:  # pragma: no cover
    """``out += raw * coef - mean * coef`` in one pass (``out += raw * coef; out -= mean * coef``)."""
    shift = mean * coef
    for i in range(len(raw)):
        out[i] = (out[i] + raw[i] * coef) - shift


@njit(cache=True, nogil=True)
def column_rows_product(  # pragma: no cover - compiled
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    n_rows: int,
    cols: np.ndarray,
    dense: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """For a CSC matrix (``indptr`` / ``indices`` / ``data``, ``n_rows`` rows) and some of its
    columns ``cols`` with a dense row per column (``dense``, len(cols) x L): ``(rows, product)``,
    the rows holding a value in any of ``cols`` (ascending) and ``M[rows][:, cols] @ dense``
    (float32). Each row's sum runs over ``cols`` in order, as SciPy's product of the rows' CSR
    does (:meth:`recsys.models.content.ContentQuery._compute_overlap`)."""
    mark = np.zeros(n_rows, dtype=np.bool_)
    for c in cols:
        for k in range(indptr[c], indptr[c + 1]):
            mark[indices[k]] = True
    where = np.empty(n_rows, dtype=np.int64)
    count = 0
    for r in range(n_rows):
        if mark[r]:
            where[r] = count
            count += 1
    rows = np.empty(count, dtype=np.int64)
    for r in range(n_rows):
        if mark[r]:
            rows[where[r]] = r
    width = dense.shape[1]
    out = np.zeros((count, width), dtype=np.float32)
    for ci in range(len(cols)):
        c = cols[ci]
        for k in range(indptr[c], indptr[c + 1]):
            r = where[indices[k]]
            v = data[k]
            for j in range(width):
                out[r, j] += v * dense[ci, j]
    return rows, out


@njit(cache=True, nogil=True)
def profile_columns(  # pragma: no cover - compiled
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, rows: np.ndarray, n_low: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The profile titles' TF-IDF rows (``rows`` of the CSR matrix, in order) as the content
    query's columns: ``(low, cols, high)``, the low-field part dense (``n_low`` x L), the
    high-field features any of them has (ascending, counted from ``n_low``) and their values
    (len(cols) x L); float32. One pass over the rows where NumPy took a dozen small steps and a
    ``unique`` (45 -> ~15 us a request alone)."""
    width = len(rows)
    low = np.zeros((n_low, width), dtype=np.float32)
    total = 0
    for j in range(width):
        total += indptr[rows[j] + 1] - indptr[rows[j]]
    feature = np.empty(total, dtype=np.int64)
    title = np.empty(total, dtype=np.int64)
    value = np.empty(total, dtype=np.float32)
    m = 0
    for j in range(width):
        r = rows[j]
        for k in range(indptr[r], indptr[r + 1]):
            f = indices[k]
            if f < n_low:
                low[f, j] = data[k]
            else:
                feature[m], title[m], value[m] = f - n_low, j, data[k]
                m += 1
    order = np.argsort(feature[:m])
    cols = np.empty(m, dtype=np.int64)
    slot = np.empty(m, dtype=np.int64)
    n_cols = 0
    for t in range(m):
        f = feature[order[t]]
        if n_cols == 0 or cols[n_cols - 1] != f:
            cols[n_cols] = f
            n_cols += 1
        slot[order[t]] = n_cols - 1
    high = np.zeros((n_cols, width), dtype=np.float32)
    for t in range(m):
        high[slot[t], title[t]] = value[t]
    return low, cols[:n_cols], high


@njit(cache=True, nogil=True)
def calibration_steps(  # pragma: no cover - compiled
    flat: np.ndarray,
    at: np.ndarray,
    first: np.ndarray,
    carries: np.ndarray,
    bounds: np.ndarray,
    weighted_rel: np.ndarray,
    strength: float,
    n: int,
) -> np.ndarray:
    """The greedy steps of :func:`recsys.models.rerank.calibration.greedy` when every category
    is carried or not (genres, one language per title): ``n`` pool indices in the order chosen.

    ``flat``: the precomputed divergence terms, ``(first[t] + k) * categories + c`` for step
    ``t`` with ``k`` listed titles carrying category ``c``; ``at``: 2 x categories, the offsets of
    "without / with the candidate" for the list so far (moved as titles are listed);
    ``carries``: pool x categories, 0 / 1; ``bounds``: where each part (the genres, each category
    set) starts and ends among the categories. A step: per part, the sum of the "without" terms
    plus each title's carried differences, the objective ``weighted_rel - strength *
    divergence``, its first maximum (then ``-inf``: listed). The NumPy form made a dozen calls a
    step, ~10 us a step, ~210 us for a section's 20. The sums run over the categories in order,
    where NumPy's matrix-vector product may group them otherwise: the same orders on the tests'
    random pools and on the 800 recorded lists."""
    size, categories = carries.shape
    parts = len(bounds) - 1
    diff = np.empty(categories)
    bases = np.empty(parts)
    objective = np.empty(size)
    order = np.empty(n, dtype=np.int64)
    for t in range(n):
        row = first[t] * categories
        for p in range(parts):
            base = 0.0
            for c in range(bounds[p], bounds[p + 1]):
                without = flat[at[0, c] + row]
                base += without
                diff[c] = flat[at[1, c] + row] - without
            bases[p] = base
        for i in range(size):
            divergence = 0.0
            for p in range(parts):
                carried = 0.0
                for c in range(bounds[p], bounds[p + 1]):
                    carried += carries[i, c] * diff[c]
                divergence += bases[p] + carried
            objective[i] = weighted_rel[i] - strength * divergence
        best = np.argmax(objective)
        order[t] = best
        weighted_rel[best] = -np.inf
        for c in range(categories):
            if carries[best, c] != 0:
                at[0, c] += categories
                at[1, c] += categories
    return order


def warm() -> None:
    """Compile (or load from the disk cache) every kernel once, on tiny inputs: the server's
    warm-up thread calls this so a visitor's first feed never waits for the compiler."""
    global _warm
    with _WARM_LOCK:
        if _warm:
            return
        f32, f64, i64 = np.float32, np.float64, np.int64
        i32 = np.int32
        signature_scores(
            np.array([0, 1], i32), np.zeros(1, i32), np.ones(1, f32), 1, np.ones((1, 1), f32), np.ones(1, f32), 3.0
        )
        one_f32 = np.ones(1, f32)
        overlap_scores(
            np.ones((1, 1), f32),
            np.zeros(1, np.int32),
            one_f32,
            np.ones((1, 1), f32),
            one_f32,
            3.0,
            np.ones(1),
            np.ones(1),
            np.ones(1),
        )
        empty = np.zeros(0)
        gather_add(np.zeros(1), np.zeros(0, i64), np.ones(1), np.zeros(1, np.int32))
        one = np.ones(1)
        gather_affine(
            np.zeros(1), np.zeros(0, i64), one, np.zeros(1, np.int32), one, one, 1.0, 0.0, np.zeros(0, i64), empty
        )
        dense_affine(np.zeros(1), np.ones(1, f64), 1.0, 0.0)
        profile_columns(np.array([0, 1], i32), np.zeros(1, i32), one_f32, np.zeros(1, i64), 1)
        calibration_steps(
            np.zeros(4),
            np.zeros((2, 1), np.intp),
            np.zeros(1, i64),
            np.zeros((1, 1)),
            np.array([0, 1], i64),
            np.ones(1),
            0.5,
            1,
        )
        column_rows_product(
            np.array([0, 1], i32), np.zeros(1, i32), np.ones(1, f32), 1, np.zeros(1, i64), np.ones((1, 1), f32)
        )
        _warm = True
