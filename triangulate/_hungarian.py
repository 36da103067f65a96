"""Minimum-cost assignment, compiled (numba): the Hungarian method and a gated variant.

Small dense problems (instances x tracks of one camera and frame), solved inside the
association's frame loop without leaving compiled code; tested against
:func:`scipy.optimize.linear_sum_assignment`.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def hungarian(C):
    """Minimum-cost assignment of the rows of ``C (n, m)``, ``n <= m``, to distinct columns.

    Returns ``(n,)`` column indices (Kuhn-Munkres with potentials, O(n^2 m)).
    """
    n, m = C.shape
    u = np.zeros(n + 1)
    v = np.zeros(m + 1)
    p = np.zeros(m + 1, np.int64)
    way = np.zeros(m + 1, np.int64)
    for i in range(1, n + 1):
        p[0] = i
        j0 = 0
        minv = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, np.bool_)
        while True:
            used[j0] = True
            i0 = p[j0]
            delta = np.inf
            j1 = 0
            for j in range(1, m + 1):
                if not used[j]:
                    cur = C[i0 - 1, j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j] = cur
                        way[j] = j0
                    if minv[j] < delta:
                        delta = minv[j]
                        j1 = j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while True:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
            if j0 == 0:
                break
    out = np.full(n, -1, np.int64)
    for j in range(1, m + 1):
        if p[j] > 0:
            out[p[j] - 1] = j - 1
    return out


@numba.njit(cache=True)
def assign_gated(C, gate):
    """Rows of ``C (n, m)`` to distinct columns at least total cost; pairs costing more than
    ``gate`` are left unassigned (-1). Works for any ``n, m``."""
    n, m = C.shape
    out = np.full(n, -1, np.int64)
    if n == 0 or m == 0:
        return out
    big = 1e6
    Cg = np.empty((n, m))
    for i in range(n):
        for j in range(m):
            Cg[i, j] = C[i, j] if C[i, j] <= gate else big
    if n <= m:
        a = hungarian(Cg)
        for i in range(n):
            if a[i] >= 0 and Cg[i, a[i]] < big:
                out[i] = a[i]
    else:
        a = hungarian(Cg.T.copy())
        for j in range(m):
            if a[j] >= 0 and Cg[a[j], j] < big:
                out[a[j]] = j
    return out
