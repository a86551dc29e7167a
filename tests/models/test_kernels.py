"""recsys/models/kernels.py: the product on raw CSR arrays is SciPy's, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.models.kernels import csr_dense


@pytest.mark.parametrize("columns", [1, 2, 7])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_product_is_scipys_bit_for_bit(columns: int, dtype: type) -> None:
    rng = np.random.default_rng(3)
    matrix = sp.random(40, 25, density=0.2, format="csr", random_state=4, dtype=dtype)
    dense: np.ndarray = rng.standard_normal((25, columns)).astype(dtype)
    got = csr_dense(matrix.indptr, matrix.indices, matrix.data, matrix.shape, dense)
    want = matrix @ dense
    assert got.dtype == want.dtype and got.shape == want.shape == (40, columns)
    np.testing.assert_array_equal(got, want)


def test_int64_indices_unsorted_columns_and_empty_rows() -> None:
    # rows 0 and 2 empty, row 1 with its columns in no particular order
    indptr = np.array([0, 0, 3, 3, 4], dtype=np.int64)
    indices = np.array([4, 0, 2, 1], dtype=np.int64)
    data = np.array([1.5, -2.0, 0.25, 3.0], dtype=np.float32)
    dense = np.arange(10, dtype=np.float32).reshape(5, 2)
    got = csr_dense(indptr, indices, data, (4, 5), dense)
    want = sp.csr_matrix((data, indices, indptr), shape=(4, 5)) @ dense
    np.testing.assert_array_equal(got, want)
    assert got[[0, 2]].tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert got[1].tolist() == [1.5 * 8 - 2.0 * 0 + 0.25 * 4, 1.5 * 9 - 2.0 * 1 + 0.25 * 5]


def test_a_shape_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="csr_dense"):
        csr_dense(np.array([0, 0]), np.zeros(0, dtype=np.int64), np.zeros(0), (1, 3), np.zeros((2, 2)))
