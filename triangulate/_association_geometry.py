"""Compiled (numba) geometry of the association: instance-to-skeleton costs, epipolar
costs, robust triangulation of a track from its views, skeleton centroid and extent.

Coordinates are normalized (undistorted) camera coordinates; costs are dimensionless,
distances divided by the animal's projected size (see :mod:`._association_kernels`).
"""

from __future__ import annotations

import numba
import numpy as np

from ._kernels import _solve_pairs

#: Cost of an impossible pairing.
INF = 1e30


@numba.njit(cache=True)
def _trimmed_mean(d, n, keep):
    """Mean of the smallest ``ceil(keep * n)`` (at least 2) of ``d[:n]`` (sorts in place)."""
    for i in range(1, n):  # insertion sort: n is a skeleton's keypoint count
        x = d[i]
        j = i - 1
        while j >= 0 and d[j] > x:
            d[j + 1] = d[j]
            j -= 1
        d[j + 1] = x
    k = min(max(2, int(np.ceil(keep * n))), n)
    tot = 0.0
    for i in range(k):
        tot += d[i]
    return tot / k


@numba.njit(cache=True)
def _project(X, R, t, c):
    """Normalized projection of ``X (3,)`` in camera ``c``; NaN behind the camera."""
    z = R[c, 2, 0] * X[0] + R[c, 2, 1] * X[1] + R[c, 2, 2] * X[2] + t[c, 2]
    if not z > 1e-9:
        return np.nan, np.nan
    x = R[c, 0, 0] * X[0] + R[c, 0, 1] * X[1] + R[c, 0, 2] * X[2] + t[c, 0]
    y = R[c, 1, 0] * X[0] + R[c, 1, 1] * X[1] + R[c, 1, 2] * X[2] + t[c, 1]
    return x / z, y / z


@numba.njit(cache=True)
def project_skeleton(P, R, t, c, pr, box):
    """Project ``P (n_kp, 3)`` into camera ``c`` (``pr (n_kp, 2)``, NaN where unknown);
    ``box`` gets its centre and twice its radius. Returns that size (0 if < 2 points)."""
    n_kp = P.shape[0]
    mx = my = 0.0
    cnt = 0
    for j in range(n_kp):
        pr[j, 0] = pr[j, 1] = np.nan
        if np.isfinite(P[j, 0]):
            x, y = _project(P[j], R, t, c)
            if np.isfinite(x):
                pr[j, 0] = x
                pr[j, 1] = y
                mx += x
                my += y
                cnt += 1
    if cnt < 2:
        box[0] = box[1] = box[2] = 0.0
        return 0.0
    mx /= cnt
    my /= cnt
    size = 0.0
    for j in range(n_kp):
        if np.isfinite(pr[j, 0]):
            size = max(size, np.hypot(pr[j, 0] - mx, pr[j, 1] - my))
    box[0], box[1], box[2] = mx, my, max(2.0 * size, 1e-9)
    return box[2]


@numba.njit(cache=True)
def projection_cost(uf, wf, c, s, pr, box, centre, gate, min_kp, keep, buf):
    """Distance of instance ``s`` of camera ``c`` to a projected skeleton ``pr`` (trimmed
    mean over shared keypoints) relative to its size ``box[2]``; INF with fewer than
    ``min_kp`` shared keypoints, or (quick reject) when the instance's centre ``centre``
    is farther than ``gate`` + 1 sizes."""
    if box[2] <= 0:
        return INF
    if np.hypot(centre[0] - box[0], centre[1] - box[1]) > (gate + 1.0) * box[2]:
        return INF
    n = 0
    for j in range(pr.shape[0]):
        if wf[c, s, j] > 0 and np.isfinite(pr[j, 0]):
            buf[n] = np.hypot(pr[j, 0] - uf[c, s, j, 0], pr[j, 1] - uf[c, s, j, 1])
            n += 1
    if n < min_kp:
        return INF
    return _trimmed_mean(buf, n, keep) / box[2]


@numba.njit(cache=True)
def instance_cost(uf, wf, c, s, P, R, t, min_kp, keep, buf, pr, box):
    """:func:`projection_cost` of instance ``s`` to skeleton ``P (n_kp, 3)`` (no quick
    reject); ``pr (n_kp, 2)`` and ``box (3,)`` are scratch."""
    project_skeleton(P, R, t, c, pr, box)
    centre = np.array([box[0], box[1]])
    return projection_cost(uf, wf, c, s, pr, box, centre, INF, min_kp, keep, buf)


@numba.njit(cache=True)
def triangulate_views(uf, wf, cams, slots, n_views, R, t, X):
    """Every keypoint from the listed views (weighted linear least squares, the solve of
    :func:`._kernels.solve_weighted_pairs`); NaN where fewer than 2 views have it. Returns
    the number of keypoints triangulated."""
    n_kp = X.shape[0]
    u = np.empty((n_views, n_kp, 2))
    w = np.empty((n_views, n_kp))
    Rv = np.empty((n_views, n_kp, 3, 3))
    tv = np.empty((n_views, n_kp, 3))
    for i in range(n_views):
        c, s = cams[i], slots[i]
        for j in range(n_kp):
            wc = wf[c, s, j]
            w[i, j] = wc if wc > 0 else 0.0
            u[i, j, 0] = uf[c, s, j, 0] if wc > 0 else 0.0
            u[i, j, 1] = uf[c, s, j, 1] if wc > 0 else 0.0
            Rv[i, j] = R[c]
            tv[i, j] = t[c]
    ok = np.zeros(n_kp, np.bool_)
    _solve_pairs(u, w, Rv, tv, X, ok, 1e-10)
    good = 0
    for j in range(n_kp):
        nv = 0
        for i in range(n_views):
            if w[i, j] > 0:
                nv += 1
        if nv < 2:
            X[j, 0] = X[j, 1] = X[j, 2] = np.nan
        elif ok[j]:
            good += 1
    return good


@numba.njit(cache=True)
def _robust_triangulate(uf, wf, cams, slots, n_views, R, t, X, view_gate, min_kp,
                        keep, buf, dropped, pr, box):
    """Triangulate, then let go of the worst view while it is farther than ``view_gate``
    from the skeleton (3 views or more); with 2 views that disagree nothing is kept.
    ``dropped[i]`` marks let-go views. Returns the views kept."""
    n_kp = X.shape[0]
    for i in range(n_views):
        dropped[i] = False
    kc = np.empty(n_views, np.int64)
    ks = np.empty(n_views, np.int64)
    while True:
        nk = 0
        for i in range(n_views):
            if not dropped[i]:
                kc[nk] = cams[i]
                ks[nk] = slots[i]
                nk += 1
        if nk < 2:
            for j in range(n_kp):
                X[j, 0] = X[j, 1] = X[j, 2] = np.nan
            return 0
        good = triangulate_views(uf, wf, kc, ks, nk, R, t, X)
        if good < 2:
            for i in range(n_views):
                dropped[i] = True
            return 0
        worst = -1
        wcost = -1.0
        for i in range(n_views):
            if dropped[i]:
                continue
            cst = instance_cost(uf, wf, cams[i], slots[i], X, R, t, min_kp, keep, buf, pr,
                                box)
            if cst > wcost:
                wcost = cst
                worst = i
        if wcost <= view_gate:
            return nk
        if nk == 2:
            for i in range(n_views):
                dropped[i] = True
            for j in range(n_kp):
                X[j, 0] = X[j, 1] = X[j, 2] = np.nan
            return 0
        dropped[worst] = True


@numba.njit(cache=True)
def _epipolar_cost(uf, wf, a, sa, b, sb, E, min_kp, keep, buf):
    """Symmetric epipolar distance between instance ``sa`` of camera ``a`` and ``sb`` of
    ``b`` (trimmed mean over shared keypoints), relative to the instances' image sizes."""
    n_kp = uf.shape[2]
    sz = np.zeros(2)
    for k in range(2):
        c = a if k == 0 else b
        s = sa if k == 0 else sb
        mx = my = 0.0
        cnt = 0
        for j in range(n_kp):
            if wf[c, s, j] > 0:
                mx += uf[c, s, j, 0]
                my += uf[c, s, j, 1]
                cnt += 1
        if cnt < 2:
            return INF
        mx /= cnt
        my /= cnt
        r = 0.0
        for j in range(n_kp):
            if wf[c, s, j] > 0:
                r = max(r, np.hypot(uf[c, s, j, 0] - mx, uf[c, s, j, 1] - my))
        sz[k] = max(2.0 * r, 1e-9)
    n = 0
    for j in range(n_kp):
        if wf[a, sa, j] > 0 and wf[b, sb, j] > 0:
            xa, ya = uf[a, sa, j, 0], uf[a, sa, j, 1]
            xb, yb = uf[b, sb, j, 0], uf[b, sb, j, 1]
            # line in b: E xa; line in a: E^T xb
            l0 = E[a, b, 0, 0] * xa + E[a, b, 0, 1] * ya + E[a, b, 0, 2]
            l1 = E[a, b, 1, 0] * xa + E[a, b, 1, 1] * ya + E[a, b, 1, 2]
            l2 = E[a, b, 2, 0] * xa + E[a, b, 2, 1] * ya + E[a, b, 2, 2]
            db = abs(xb * l0 + yb * l1 + l2) / max(np.hypot(l0, l1), 1e-12)
            m0 = E[a, b, 0, 0] * xb + E[a, b, 1, 0] * yb + E[a, b, 2, 0]
            m1 = E[a, b, 0, 1] * xb + E[a, b, 1, 1] * yb + E[a, b, 2, 1]
            da = abs(xa * m0 + ya * m1 + (E[a, b, 0, 2] * xb + E[a, b, 1, 2] * yb
                                            + E[a, b, 2, 2])) / max(np.hypot(m0, m1), 1e-12)
            buf[n] = 0.5 * (da / sz[0] + db / sz[1])
            n += 1
    if n < min_kp:
        return INF
    return _trimmed_mean(buf, n, keep)


@numba.njit(cache=True)
def _centroid(X):
    n = 0
    c = np.zeros(3)
    for j in range(X.shape[0]):
        if np.isfinite(X[j, 0]):
            c += X[j]
            n += 1
    if n == 0:
        c[:] = np.nan
        return c
    return c / n


@numba.njit(cache=True)
def _extent(X):
    c = _centroid(X)
    r = 0.0
    for j in range(X.shape[0]):
        if np.isfinite(X[j, 0]):
            r = max(r, np.sqrt(((X[j] - c) ** 2).sum()))
    return 2.0 * r
