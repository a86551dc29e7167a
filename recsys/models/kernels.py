"""SciPy's sparse x dense product on raw CSR arrays, without a sparse matrix object per request.

A feed request multiplies a few small CSR matrices by dense ones (a section's signature table by
the profile's low-field columns, the overlap rows by the profile's high-field columns). Building a
``scipy.sparse.csr_matrix`` for each (format checks, index dtype choice) and going through its
``@`` dispatch cost more than the products themselves: 600 matrices per 200 feed requests took
46 ms of a 1.2 s profile against 44 ms for the kernels. :func:`csr_dense` calls the same kernels
(``csr_matvec`` for one column, ``csr_matvecs`` for several, as ``csr_matrix.__matmul__`` does),
so the numbers are bit for bit those of ``csr_matrix((data, indices, indptr), shape) @ dense``
(``tests/models/test_kernels.py``).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import _sparsetools


def csr_dense(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, shape: tuple[int, int], dense: np.ndarray
) -> np.ndarray:
    """``csr_matrix((data, indices, indptr), shape) @ dense`` for a 2-D ``dense`` of ``shape[1]``
    rows: rows x dense columns, in the dtype SciPy would give. ``indptr`` and ``indices`` must
    share one integer dtype (int32 or int64), rows' indices sorted or not as SciPy would keep them."""
    m, n = shape
    if dense.ndim != 2 or dense.shape[0] != n:
        raise ValueError(f"csr_dense: a {shape} matrix times a {dense.shape} array")
    dtype = np.result_type(data.dtype, dense.dtype)
    if dense.shape[1] == 1:  # scipy's dispatch: a column goes through csr_matvec
        out = np.zeros(m, dtype=dtype)
        _sparsetools.csr_matvec(m, n, indptr, indices, data, dense.ravel(), out)
        return out.reshape(m, 1)
    result = np.zeros((m, dense.shape[1]), dtype=dtype)
    _sparsetools.csr_matvecs(m, n, dense.shape[1], indptr, indices, data, dense.ravel(), result.ravel())
    return result
