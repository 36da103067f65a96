"""Fused compiled kernel for DLT on pinhole rigs (numba), with a pure-numpy fallback.

One pass per point does what :mod:`.dlt` and :mod:`.prepare` do with whole-array numpy
operations: undistort each view (Newton on OpenCV's pinhole model without tilt), the weighted
linear solve with depth reweighting, and the pixel error of every view with the full model.
Fusing them avoids ~300 temporaries per chunk; the math is the same (tests compare both).
Used when numba is importable and no camera is fisheye or tilted; ``parallel`` spreads
points over numba's threads.
"""

from __future__ import annotations

import numpy as np

__all__ = ["HAVE_NUMBA", "kernel_supported", "dlt_pinhole"]

try:  # numba comes with aniposelib; everything works without it, slower
    import numba

    HAVE_NUMBA = True
    prange = numba.prange
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False
    prange = range


def kernel_supported(rig) -> bool:
    """Whether :func:`dlt_pinhole` handles the rig (pinhole, no tilt, numba present)."""
    if not HAVE_NUMBA:
        return False
    for cam in rig.cameras:
        if cam.fisheye or (cam.dist.size >= 14 and np.any(cam.dist[12:14] != 0)):
            return False
    return True


def _distort(x, y, d):
    k1, k2, p1, p2, k3, k4, k5, k6, s1, s2, s3, s4 = (d[0], d[1], d[2], d[3], d[4], d[5],
                                                      d[6], d[7], d[8], d[9], d[10], d[11])
    r2 = x * x + y * y
    num = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    den = 1 + r2 * (k4 + r2 * (k5 + r2 * k6))
    rad = num / den
    xd = x * rad + 2 * p1 * x * y + p2 * (r2 + 2 * x * x) + r2 * (s1 + s2 * r2)
    yd = y * rad + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y + r2 * (s3 + s4 * r2)
    dnum = k1 + r2 * (2 * k2 + 3 * k3 * r2)
    dden = k4 + r2 * (2 * k5 + 3 * k6 * r2)
    drad = (dnum * den - num * dden) / (den * den)
    px = s1 + 2 * s2 * r2
    py = s3 + 2 * s4 * r2
    j00 = rad + 2 * x * x * drad + 2 * p1 * y + 6 * p2 * x + 2 * x * px
    j01 = 2 * x * y * drad + 2 * p1 * x + 2 * p2 * y + 2 * y * px
    j10 = 2 * x * y * drad + 2 * p1 * x + 2 * p2 * y + 2 * x * py
    j11 = rad + 2 * y * y * drad + 6 * p1 * y + 2 * p2 * x + 2 * y * py
    return xd, yd, j00, j01, j10, j11


def _kernel(pix, w, K, dist, R, t, reweight, X, used, err, u):
    n_cams, n = w.shape
    for i in prange(n):
        n_valid = 0
        for c in range(n_cams):
            px, py = pix[c, i, 0], pix[c, i, 1]
            ok = w[c, i] > 0 and np.isfinite(px) and np.isfinite(py)
            used[c, i] = False
            if not ok:
                continue
            yt = (py - K[c, 1, 2]) / K[c, 1, 1]
            xt = (px - K[c, 0, 2] - K[c, 0, 1] * yt) / K[c, 0, 0]
            x, y = xt, yt
            for _ in range(30):
                xd, yd, j00, j01, j10, j11 = _distort(x, y, dist[c])
                rx, ry = xd - xt, yd - yt
                det = j00 * j11 - j01 * j10
                if abs(det) < 1e-12:
                    det = 1e-12
                dx = (j11 * rx - j01 * ry) / det
                dy = (-j10 * rx + j00 * ry) / det
                nrm = np.sqrt(dx * dx + dy * dy)
                if nrm > 0.5:
                    dx *= 0.5 / nrm
                    dy *= 0.5 / nrm
                x -= dx
                y -= dy
                if abs(dx) < 1e-14 and abs(dy) < 1e-14:
                    break
            if np.isfinite(x) and np.isfinite(y):
                u[c, i, 0], u[c, i, 1] = x, y
                used[c, i] = True
                n_valid += 1
        X[i, 0] = np.nan
        X[i, 1] = np.nan
        X[i, 2] = np.nan
        if n_valid < 2:
            for c in range(n_cams):
                used[c, i] = False
                err[c, i] = np.nan
            continue
        solved = False
        for rnd in range(reweight + 1):
            m00 = m01 = m02 = m11 = m12 = m22 = 0.0
            v0 = v1 = v2 = 0.0
            for c in range(n_cams):
                if not used[c, i]:
                    continue
                wc = w[c, i]
                if rnd > 0:
                    z = R[c, 2, 0] * X[i, 0] + R[c, 2, 1] * X[i, 1] + R[c, 2, 2] * X[i, 2] \
                        + t[c, 2]
                    z = max(abs(z), 1e-9)
                    fc = 0.5 * (K[c, 0, 0] + K[c, 1, 1])
                    wc = wc * (fc / z) ** 2
                for row in range(2):
                    uc = u[c, i, row]
                    a0 = uc * R[c, 2, 0] - R[c, row, 0]
                    a1 = uc * R[c, 2, 1] - R[c, row, 1]
                    a2 = uc * R[c, 2, 2] - R[c, row, 2]
                    b = t[c, row] - uc * t[c, 2]
                    m00 += wc * a0 * a0
                    m01 += wc * a0 * a1
                    m02 += wc * a0 * a2
                    m11 += wc * a1 * a1
                    m12 += wc * a1 * a2
                    m22 += wc * a2 * a2
                    v0 += wc * a0 * b
                    v1 += wc * a1 * b
                    v2 += wc * a2 * b
            c00 = m11 * m22 - m12 * m12
            c01 = m02 * m12 - m01 * m22
            c02 = m01 * m12 - m02 * m11
            c11 = m00 * m22 - m02 * m02
            c12 = m01 * m02 - m00 * m12
            c22 = m00 * m11 - m01 * m01
            det = m00 * c00 + m01 * c01 + m02 * c02
            tr = (m00 + m11 + m22) / 3.0
            if not det > 1e-10 * tr * tr * tr:
                break
            X[i, 0] = (c00 * v0 + c01 * v1 + c02 * v2) / det
            X[i, 1] = (c01 * v0 + c11 * v1 + c12 * v2) / det
            X[i, 2] = (c02 * v0 + c12 * v1 + c22 * v2) / det
            solved = True
        for c in range(n_cams):
            if not solved:
                used[c, i] = False
                err[c, i] = np.nan
                continue
            px, py = pix[c, i, 0], pix[c, i, 1]
            if not (w[c, i] > 0 and np.isfinite(px) and np.isfinite(py)):
                err[c, i] = np.nan
                continue
            p0 = R[c, 0, 0] * X[i, 0] + R[c, 0, 1] * X[i, 1] + R[c, 0, 2] * X[i, 2] + t[c, 0]
            p1 = R[c, 1, 0] * X[i, 0] + R[c, 1, 1] * X[i, 1] + R[c, 1, 2] * X[i, 2] + t[c, 1]
            p2 = R[c, 2, 0] * X[i, 0] + R[c, 2, 1] * X[i, 1] + R[c, 2, 2] * X[i, 2] + t[c, 2]
            if p2 == 0:
                p2 = 2.220446049250313e-16
            xd, yd, _, _, _, _ = _distort(p0 / p2, p1 / p2, dist[c])
            qx = K[c, 0, 0] * xd + K[c, 0, 1] * yd + K[c, 0, 2]
            qy = K[c, 1, 1] * yd + K[c, 1, 2]
            err[c, i] = np.sqrt((qx - px) ** 2 + (qy - py) ** 2)


if HAVE_NUMBA:
    _distort = numba.njit(cache=True, inline="always")(_distort)
    _kernel = numba.njit(cache=True, parallel=True)(_kernel)


def dlt_pinhole(rig, pixels: np.ndarray, weights: np.ndarray, reweight: int = 2):
    """Undistort, triangulate (weighted, depth-reweighted) and measure errors in one pass.

    Parameters
    ----------
    rig : CameraRig
        Pinhole cameras without tilt (see :func:`kernel_supported`).
    pixels : (n_cams, N, 2) float64 pixels, NaN where missing
    weights : (n_cams, N) float64, 0 leaves a view out
    reweight : int
        Depth reweighting rounds (as :func:`.dlt.triangulate_dlt`).

    Returns
    -------
    X : (N, 3) rig units (NaN where fewer than 2 views)
    used : (n_cams, N) bool
    err : (n_cams, N) pixels of every valid view (NaN elsewhere or where X is NaN)
    """
    n_cams, n, _ = pixels.shape
    K = np.ascontiguousarray(rig.intrinsics)
    dist = np.zeros((n_cams, 14))
    for c, cam in enumerate(rig.cameras):
        dist[c, :cam.dist.size] = cam.dist
    R = np.ascontiguousarray(rig.rotations)
    t = np.ascontiguousarray(rig.translations)
    X = np.empty((n, 3))
    used = np.empty((n_cams, n), np.bool_)
    err = np.empty((n_cams, n))
    u = np.empty((n_cams, n, 2))
    _kernel(np.ascontiguousarray(pixels), np.ascontiguousarray(weights), K, dist, R, t,
            int(reweight), X, used, err, u)
    return X, used, err
