"""The compiled kernels give, bit for bit, the numbers of the NumPy code they replace."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.models import compiled

RNG_SEED = 5


@pytest.fixture()
def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


def _sharpened_sum(sims: np.ndarray, w: np.ndarray, power: float) -> np.ndarray:
    """NumPy's form: ``max(s, 0) ** power`` in float32 (powers 2 and 3 as products), summed with
    the weights in float64 one profile title after the other."""
    s = np.maximum(sims, np.float32(0))
    sharp = s if power == 1 else s * s if power == 2 else (s * s) * s if power == 3 else s.astype(np.float64) ** power
    out = np.zeros(len(sims))
    for j in range(sims.shape[1]):
        out += sharp[:, j].astype(np.float64) * np.float64(w[j])
    return out


@pytest.mark.parametrize("power", [1.0, 2.0, 3.0, 2.5])
def test_signature_scores_are_the_csr_product_sharpened(rng: np.random.Generator, power: float) -> None:
    """The signatures' similarities are SciPy's float32 CSR product with the profile's columns
    (bit for bit, though only the features a profile title has are walked), and their scores
    the sharpened, weighted sums, with negative similarities counting zero."""
    table = sp.random(40, 12, density=0.3, format="csr", dtype=np.float32, random_state=3)
    table.data = rng.normal(0.3, 0.4, table.nnz).astype(np.float32)
    low = (rng.random((12, 5)) * (rng.random((12, 5)) < 0.4)).astype(np.float32)
    low[:, 2] = 0  # a profile title with no low-field feature
    w = rng.normal(0, 1, 5).astype(np.float32)
    columns = sp.csc_matrix(table)
    columns.sort_indices()
    sims, pc = compiled.signature_scores(columns.indptr, columns.indices, columns.data, 40, low, w, power)
    want = np.asarray(table @ low, dtype=np.float32)
    assert sims.shape == (5, 40)
    assert np.array_equal(sims, want.T)
    if power in (1.0, 2.0, 3.0):  # products, bit for bit (the model's power is 3)
        assert np.array_equal(pc, _sharpened_sum(want, w, power))
    else:  # numba's pow and NumPy's may differ in the last bit
        np.testing.assert_allclose(pc, _sharpened_sum(want, w, power), rtol=1e-12)
    assert (pc[np.all(want <= 0, axis=1)] == 0).all()


@pytest.mark.parametrize("partial", [False, True])
@pytest.mark.parametrize("fixes", [0, 1, 9])
def test_gather_affine_matches_the_numpy_passes(rng: np.random.Generator, partial: bool, fixes: int) -> None:
    """The content term's add: gather, scale, prior, centring and overlap corrections, then the
    add into ``out``, exactly as the NumPy passes one after the other (same rounding)."""
    n, table = 40, 6
    codes = rng.integers(0, table, n).astype(np.intp)
    values, scale, offset = rng.random(table), rng.random(n), rng.normal(0, 1, n)
    rows = np.sort(rng.choice(n, fixes, replace=False)).astype(np.int64)
    fix = rng.normal(0, 1, fixes)
    coef, mean = 0.37, 0.21
    size = 2 * n if partial else n
    at = np.sort(rng.choice(size, n, replace=False)).astype(np.int64) if partial else np.zeros(0, dtype=np.int64)
    start = rng.normal(0, 1, size)

    vals = np.take(values * coef, codes)
    vals *= scale
    vals += offset * coef
    vals -= mean * coef
    vals[rows] += fix
    want = start.copy()
    if partial:
        want[at] += vals
    else:
        want += vals

    got = start.copy()
    compiled.gather_affine(got, at, values, codes, scale, offset, coef, mean, rows, fix)
    assert np.array_equal(got, want)


@pytest.mark.parametrize("partial", [False, True])
def test_gather_add_and_dense_affine_match_numpy(rng: np.random.Generator, partial: bool) -> None:
    n = 30
    codes = rng.integers(0, 5, n).astype(np.int64)
    table = rng.normal(0, 1, 5)
    at = np.sort(rng.choice(2 * n, n, replace=False)).astype(np.int64) if partial else np.zeros(0, dtype=np.int64)
    start = rng.normal(0, 1, 2 * n if partial else n)
    want = start.copy()
    if partial:
        want[at] += np.take(table, codes)
    else:
        want += np.take(table, codes)
    got = start.copy()
    compiled.gather_add(got, at, table, codes)
    assert np.array_equal(got, want)

    raw = rng.normal(0, 1, len(start))
    want = start.copy()
    want += raw * 0.7
    want -= 0.3 * 0.7
    got = start.copy()
    compiled.dense_affine(got, raw, 0.7, 0.3)
    assert np.array_equal(got, want)


def test_warm_compiles_every_kernel_once() -> None:
    """The server's warm-up compiles (or loads) the kernels; a second call is free."""
    compiled.warm()
    compiled.warm()
    for kernel in (compiled.signature_scores, compiled.gather_affine, compiled.gather_add, compiled.dense_affine):
        assert kernel.signatures, kernel


def test_overlap_scores_are_the_numpy_similarities_sharpened(rng: np.random.Generator) -> None:
    """The overlap rows' scores: NumPy's float32 similarities ``base.T[codes] * scale + high``
    (``base``: L x signatures, as signature_scores gives it), then the same sharpened, weighted
    sum (bit for bit), plus the prior."""
    base = rng.normal(0.1, 0.3, (4, 9)).astype(np.float32)
    codes = rng.integers(0, 9, 12).astype(np.intp)
    scale = rng.random(12).astype(np.float32)
    high = rng.random((12, 4)).astype(np.float32)
    w = rng.normal(0, 1, 4).astype(np.float32)
    pc, scale_power, offset = rng.random(9), rng.random(12), rng.normal(0, 1, 12)
    old, new = compiled.overlap_scores(base, codes, scale, high, w, 3.0, pc, scale_power, offset)
    sims = base.T[codes] * scale[:, None] + high
    assert np.array_equal(new, _sharpened_sum(sims, w, 3.0) + offset)
    assert np.array_equal(old, pc[codes] * scale_power + offset)


def test_after_warm_up_a_feed_request_compiles_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The warm-up compiles every kernel for the argument types a feed request passes (codes,
    indices, dtypes): a visitor's first feed, a calibrated one, "More like this" and profile with
    no title words never wait for the compiler (~1.5 s for all of them)."""
    from recsys.models import Recommender
    from tests.models.conftest import CLUSTERS, make_ratings, make_titles, small_config, training_data

    compiled.warm()
    kernels = [getattr(compiled, name) for name in dir(compiled) if hasattr(getattr(compiled, name), "signatures")]
    before = {k.__name__: list(k.signatures) for k in kernels}
    steps: list[int] = []
    kernel = compiled.calibration_steps

    def counted(*args: Any) -> np.ndarray:
        steps.append(1)
        result: np.ndarray = kernel(*args)
        return result

    monkeypatch.setattr(compiled, "calibration_steps", counted)  # calibration imports it when used
    rec = Recommender.fit(training_data(make_titles(), make_ratings()), small_config())
    for profile in (
        [(t, 1) for t in CLUSTERS["crime"][:3]],
        [(CLUSTERS["scifi"][0], 2), (CLUSTERS["comedy"][0], -1), (CLUSTERS["romance"][0], 1)],
    ):
        rec.recommend_feed(profile, 5, favourite_genres=["Drama"])
    # a romance fan's feed with calibration on: the compiled greedy steps run
    rec.recommend_feed([(t, 1) for t in CLUSTERS["romance"][:4]], 4, stages={"calibration": 0.9})
    rec.similar(CLUSTERS["crime"][0])
    assert steps, "the calibrated feed did not reach the compiled steps"
    assert {k.__name__: list(k.signatures) for k in kernels} == before


def test_profile_columns_are_the_rows_split_at_the_low_fields(rng: np.random.Generator) -> None:
    """The content query's columns: the profile rows' low-field part dense, and the high-field
    features any of them has (ascending) with each row's value, zeros where a row lacks one."""
    matrix = sp.random(30, 20, density=0.25, format="csr", dtype=np.float32, random_state=4)
    rows = np.array([7, 2, 7, 19, 0], dtype=np.int64)  # a title may repeat; order kept
    low, cols, high = compiled.profile_columns(matrix.indptr, matrix.indices, matrix.data, rows, 8)
    dense = matrix[rows].toarray()
    assert np.array_equal(low, dense[:, :8].T)
    assert cols.tolist() == (np.flatnonzero(dense[:, 8:].any(axis=0))).tolist()
    assert np.array_equal(high, dense[:, 8 + cols].T)
    assert low.dtype == high.dtype == np.float32


def test_the_light_modules_do_not_load_numba() -> None:
    """The model config and the ranking stages' registry are read by the lab's forms and the
    CLI's parsers: importing them must not load numba (~0.2 s and ~100 MB); the kernels come
    with the engine, in the warm-up thread or a feed."""
    code = (
        "import sys; import recsys.models.config, recsys.models.rerank.registry, recsys.experiments.arms; "
        "print('numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
