"""Fused compiled kernel for DLT on pinhole rigs (numba), with a pure-numpy fallback.

One pass per point does what :mod:`.dlt` and :mod:`.prepare` do with whole-array numpy
operations: undistort each view (Newton on OpenCV's pinhole model without tilt), the weighted
linear solve with depth reweighting, and the pixel error of every view with the full model.
Fusing them avoids ~300 temporaries per chunk; the math is the same (tests compare both).
Used when numba is importable and no camera is fisheye or tilted; blocks of points run on
numba's threads from :data:`PARALLEL_MIN_POINTS` points. Undistortion of the common
k1, k2, p1, p2, k3 model runs branch-free (vectorized) with a scalar Newton fallback for the
views it does not settle and for the other models. :func:`undistort_pinhole` and
:func:`solve_weighted_pairs` are the compiled pieces RANSAC uses.
"""

from __future__ import annotations

import types

import numpy as np

__all__ = ["HAVE_NUMBA", "kernel_supported", "dlt_pinhole", "undistort_pinhole",
           "solve_weighted_pairs", "summarize_flat"]

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


_BLOCK = 1024  # points per parallel task (each allocates its own scratch)


def _distort(x, y, k1, k2, p1, p2, k3, k4, k5, k6, s1, s2, s3, s4):
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


def _undistort(px, py, fx, fy, cx, cy, skew, k1, k2, p1, p2, k3, k4, k5, k6, s1, s2, s3, s4):
    """Normalized undistorted coordinates of pixel ``(px, py)`` (Newton)."""
    yt = (py - cy) / fy
    xt = (px - cx - skew * yt) / fx
    x, y = xt, yt
    simple = k4 == 0 and k5 == 0 and k6 == 0 and s1 == 0 and s2 == 0 and s3 == 0 and s4 == 0
    if simple:  # one fixed-point step as the start: Newton then needs ~2 steps, not ~3
        r2 = xt * xt + yt * yt
        rad = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
        if 0.5 < rad < 2.0:
            inv = 1.0 / rad
            x = (xt - 2 * p1 * xt * yt - p2 * (r2 + 2 * xt * xt)) * inv
            y = (yt - p1 * (r2 + 2 * yt * yt) - 2 * p2 * xt * yt) * inv
    for _ in range(30):
        if simple:  # k1, k2, p1, p2, k3 only: no division in the model
            r2 = x * x + y * y
            rad = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
            drad = k1 + r2 * (2 * k2 + 3 * k3 * r2)
            xd = x * rad + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
            yd = y * rad + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
            j00 = rad + 2 * x * x * drad + 2 * p1 * y + 6 * p2 * x
            j01 = 2 * x * y * drad + 2 * p1 * x + 2 * p2 * y
            j10 = j01
            j11 = rad + 2 * y * y * drad + 6 * p1 * y + 2 * p2 * x
        else:
            xd, yd, j00, j01, j10, j11 = _distort(x, y, k1, k2, p1, p2, k3, k4, k5, k6,
                                                  s1, s2, s3, s4)
        rx, ry = xd - xt, yd - yt
        det = j00 * j11 - j01 * j10
        if abs(det) < 1e-12:
            det = 1e-12
        inv = 1.0 / det
        dx = (j11 * rx - j01 * ry) * inv
        dy = (j00 * ry - j10 * rx) * inv
        n2 = dx * dx + dy * dy
        if n2 > 0.25:
            s = 0.5 / np.sqrt(n2)
            dx *= s
            dy *= s
        x -= dx
        y -= dy
        # quadratic convergence: after a step below 1e-7 the error is ~C 1e-14 (C ~ |k|)
        if n2 < 1e-14:
            break
    return x, y


def _newton2(pix, c, lo, hi, fx, fy, cx, cy, skew, k1, k2, p1, p2, k3, ux, uy, conv):
    """Branch-free undistortion of points ``lo:hi`` of camera ``c`` (k1, k2, p1, p2, k3).

    A fixed-point start and two Newton steps, in a loop the compiler vectorizes;
    ``conv`` gets the last step's squared length (inf if a step was long), and views where
    it is not below 1e-14 are redone by :func:`_undistort`.
    """
    for i in range(lo, hi):
        yt = (pix[c, i, 1] - cy) / fy
        xt = (pix[c, i, 0] - cx - skew * yt) / fx
        r2 = xt * xt + yt * yt
        rad = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
        x = (xt - 2 * p1 * xt * yt - p2 * (r2 + 2 * xt * xt)) / rad
        y = (yt - p1 * (r2 + 2 * yt * yt) - 2 * p2 * xt * yt) / rad
        big = 0.0
        n2 = 0.0
        for _ in range(2):
            r2 = x * x + y * y
            rad = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
            drad = k1 + r2 * (2 * k2 + 3 * k3 * r2)
            rx = x * rad + 2 * p1 * x * y + p2 * (r2 + 2 * x * x) - xt
            ry = y * rad + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y - yt
            j00 = rad + 2 * x * x * drad + 2 * p1 * y + 6 * p2 * x
            j01 = 2 * x * y * drad + 2 * p1 * x + 2 * p2 * y
            j11 = rad + 2 * y * y * drad + 6 * p1 * y + 2 * p2 * x
            inv = 1.0 / (j00 * j11 - j01 * j01)
            dx = (j11 * rx - j01 * ry) * inv
            dy = (j00 * ry - j01 * rx) * inv
            n2 = dx * dx + dy * dy
            big = max(big, n2)
            x -= dx
            y -= dy
        ux[i - lo] = x
        uy[i - lo] = y
        conv[i - lo] = n2 if big <= 0.25 else np.inf


def _kernel(pix, w, cam, reweight, X, used, err, u):
    """``cam`` (n_cams, 32): R (9, row-major), t (3), fx, fy, cx, cy, skew, f, dist (12)."""
    n_cams, n = w.shape
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        lo, hi = blk * _BLOCK, min(n, (blk + 1) * _BLOCK)
        # per view: A^T A (6) and A^T b (3), built once per point
        G = np.empty((n_cams, hi - lo, 9))
        n_valid = np.zeros(hi - lo, np.int64)
        ux = np.empty(hi - lo)
        uy = np.empty(hi - lo)
        conv = np.empty(hi - lo)
        # cameras outside, points inside: consecutive Newton solves are independent, so the
        # CPU overlaps them (one point's views in a row would be one long dependency chain)
        for c in range(n_cams):
            simple = True
            for k in range(23, 30):
                simple = simple and cam[c, k] == 0
            if simple:
                _newton2(pix, c, lo, hi, cam[c, 12], cam[c, 13], cam[c, 14], cam[c, 15],
                         cam[c, 16], cam[c, 18], cam[c, 19], cam[c, 20], cam[c, 21],
                         cam[c, 22], ux, uy, conv)
            for i in range(lo, hi):
                px, py = pix[c, i, 0], pix[c, i, 1]
                ok = w[c, i] > 0 and np.isfinite(px) and np.isfinite(py)
                used[c, i] = False
                if not ok:
                    continue
                if simple and conv[i - lo] < 1e-14:
                    x, y = ux[i - lo], uy[i - lo]
                else:
                    x, y = _undistort(px, py, cam[c, 12], cam[c, 13], cam[c, 14],
                                      cam[c, 15],
                                      cam[c, 16], cam[c, 18], cam[c, 19], cam[c, 20],
                                      cam[c, 21], cam[c, 22], cam[c, 23], cam[c, 24],
                                      cam[c, 25], cam[c, 26], cam[c, 27], cam[c, 28],
                                      cam[c, 29])
                if np.isfinite(x) and np.isfinite(y):
                    u[c, i, 0], u[c, i, 1] = x, y
                    used[c, i] = True
                    n_valid[i - lo] += 1
                    g0 = g1 = g2 = g3 = g4 = g5 = g6 = g7 = g8 = 0.0
                    for row in range(2):
                        uc = x if row == 0 else y
                        a0 = uc * cam[c, 6] - cam[c, 3 * row]
                        a1 = uc * cam[c, 7] - cam[c, 3 * row + 1]
                        a2 = uc * cam[c, 8] - cam[c, 3 * row + 2]
                        b = cam[c, 9 + row] - uc * cam[c, 11]
                        g0 += a0 * a0
                        g1 += a0 * a1
                        g2 += a0 * a2
                        g3 += a1 * a1
                        g4 += a1 * a2
                        g5 += a2 * a2
                        g6 += a0 * b
                        g7 += a1 * b
                        g8 += a2 * b
                    j = i - lo
                    G[c, j, 0], G[c, j, 1], G[c, j, 2], G[c, j, 3] = g0, g1, g2, g3
                    G[c, j, 4], G[c, j, 5], G[c, j, 6], G[c, j, 7] = g4, g5, g6, g7
                    G[c, j, 8] = g8
        for i in range(lo, hi):
            X[i, 0] = np.nan
            X[i, 1] = np.nan
            X[i, 2] = np.nan
            if n_valid[i - lo] < 2:
                for c in range(n_cams):
                    used[c, i] = False
                    err[c, i] = np.nan
                continue
            # weighted normal equations, then rounds reweighted by (f / depth)^2
            X0 = X1 = X2 = np.nan
            for rnd in range(reweight + 1):
                m00 = m01 = m02 = m11 = m12 = m22 = 0.0
                v0 = v1 = v2 = 0.0
                for c in range(n_cams):
                    if not used[c, i]:
                        continue
                    wc = w[c, i]
                    if rnd > 0:
                        z = cam[c, 6] * X0 + cam[c, 7] * X1 + cam[c, 8] * X2 + cam[c, 11]
                        z = max(abs(z), 1e-9)
                        wc = wc * (cam[c, 17] / z) ** 2
                    m00 += wc * G[c, i - lo, 0]
                    m01 += wc * G[c, i - lo, 1]
                    m02 += wc * G[c, i - lo, 2]
                    m11 += wc * G[c, i - lo, 3]
                    m12 += wc * G[c, i - lo, 4]
                    m22 += wc * G[c, i - lo, 5]
                    v0 += wc * G[c, i - lo, 6]
                    v1 += wc * G[c, i - lo, 7]
                    v2 += wc * G[c, i - lo, 8]
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
                inv = 1.0 / det
                X0 = (c00 * v0 + c01 * v1 + c02 * v2) * inv
                X1 = (c01 * v0 + c11 * v1 + c12 * v2) * inv
                X2 = (c02 * v0 + c12 * v1 + c22 * v2) * inv
            solved = not np.isnan(X0)
            X[i, 0], X[i, 1], X[i, 2] = X0, X1, X2
            for c in range(n_cams):
                if not solved:
                    used[c, i] = False
                    err[c, i] = np.nan
                    continue
                px, py = pix[c, i, 0], pix[c, i, 1]
                if not (w[c, i] > 0 and np.isfinite(px) and np.isfinite(py)):
                    err[c, i] = np.nan
                    continue
                q0 = cam[c, 0] * X0 + cam[c, 1] * X1 + cam[c, 2] * X2 + cam[c, 9]
                q1 = cam[c, 3] * X0 + cam[c, 4] * X1 + cam[c, 5] * X2 + cam[c, 10]
                q2 = cam[c, 6] * X0 + cam[c, 7] * X1 + cam[c, 8] * X2 + cam[c, 11]
                if q2 == 0:
                    q2 = 2.220446049250313e-16
                iz = 1.0 / q2
                xd, yd, _, _, _, _ = _distort(q0 * iz, q1 * iz, cam[c, 18], cam[c, 19],
                                              cam[c, 20], cam[c, 21], cam[c, 22], cam[c, 23],
                                              cam[c, 24], cam[c, 25], cam[c, 26], cam[c, 27],
                                              cam[c, 28], cam[c, 29])
                qx = cam[c, 12] * xd + cam[c, 16] * yd + cam[c, 14]
                qy = cam[c, 13] * yd + cam[c, 15]
                err[c, i] = np.sqrt((qx - px) ** 2 + (qy - py) ** 2)


if HAVE_NUMBA:
    # no "nnan"/"ninf" fast-math flags: NaN marks missing views and must stay NaN
    _fm = {"contract", "arcp", "nsz"}
    _jit = numba.njit(cache=True, error_model="numpy", inline="always", fastmath=_fm)
    _distort = _jit(_distort)
    _undistort = _jit(_undistort)
    _newton2 = numba.njit(cache=True, error_model="numpy", fastmath=_fm)(_newton2)
    # a copy under its own name: numba's cache is keyed by the function's name, and the
    # serial and parallel compilations of one function would overwrite each other
    _serial_py = types.FunctionType(_kernel.__code__, _kernel.__globals__, "_kernel_serial")
    _serial_py.__qualname__ = "_kernel_serial"
    _kernel_serial = numba.njit(cache=True, error_model="numpy", fastmath=_fm)(_serial_py)
    _kernel = numba.njit(cache=True, parallel=True, error_model="numpy", fastmath=_fm)(_kernel)
else:  # pragma: no cover
    _kernel_serial = _kernel

#: Points below which the serial kernel runs: threads cost more than they save on small
#: chunks (and on busy cores a parallel section waits for its slowest thread).
PARALLEL_MIN_POINTS = 8_192


def _camera_array(rig) -> np.ndarray:
    """(n_cams, 32): R (9, row-major), t (3), fx, fy, cx, cy, skew, f, dist (12), 0 (2)."""
    n_cams = len(rig.cameras)
    cam = np.zeros((n_cams, 32))
    cam[:, 0:9] = np.asarray(rig.rotations).reshape(n_cams, 9)
    cam[:, 9:12] = rig.translations
    for c, cm in enumerate(rig.cameras):
        K = cm.matrix
        cam[c, 12:18] = K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1], 0.5 * (K[0, 0] + K[1, 1])
        d = np.asarray(cm.dist, dtype=np.float64).ravel()[:12]
        cam[c, 18:18 + d.size] = d
    return cam


def _undistort_all(pix, cam, u):
    for c in range(pix.shape[0]):
        for i in range(pix.shape[1]):
            px, py = pix[c, i, 0], pix[c, i, 1]
            if np.isfinite(px) and np.isfinite(py):
                u[c, i, 0], u[c, i, 1] = _undistort(
                    px, py, cam[c, 12], cam[c, 13], cam[c, 14], cam[c, 15], cam[c, 16],
                    cam[c, 18], cam[c, 19], cam[c, 20], cam[c, 21], cam[c, 22], cam[c, 23],
                    cam[c, 24], cam[c, 25], cam[c, 26], cam[c, 27], cam[c, 28], cam[c, 29])
            else:
                u[c, i, 0] = np.nan
                u[c, i, 1] = np.nan


if HAVE_NUMBA:
    _undistort_all = numba.njit(cache=True, error_model="numpy")(_undistort_all)


def undistort_pinhole(rig, pixels: np.ndarray) -> np.ndarray:
    """``rig.undistort(pixels)`` (normalized) compiled, for rigs :func:`kernel_supported` takes.

    Parameters
    ----------
    pixels : (n_cams, ..., 2)

    Returns
    -------
    (n_cams, ..., 2) undistorted normalized coordinates; NaN where the pixel is not finite
    """
    shape = pixels.shape
    pix = np.ascontiguousarray(pixels, dtype=np.float64).reshape(shape[0], -1, 2)
    u = np.empty(pix.shape)
    _undistort_all(pix, _camera_array(rig), u)
    return u.reshape(shape)


def _solve_pairs(u, w, R, t, X, ok, rcond):
    n_views, n = w.shape
    for i in range(n):
        m00 = m01 = m02 = m11 = m12 = m22 = 0.0
        v0 = v1 = v2 = 0.0
        for c in range(n_views):
            wc = w[c, i]
            for row in range(2):
                uc = u[c, i, row]
                a0 = uc * R[c, i, 2, 0] - R[c, i, row, 0]
                a1 = uc * R[c, i, 2, 1] - R[c, i, row, 1]
                a2 = uc * R[c, i, 2, 2] - R[c, i, row, 2]
                b = t[c, i, row] - uc * t[c, i, 2]
                wa0, wa1, wa2 = wc * a0, wc * a1, wc * a2
                m00 += wa0 * a0
                m01 += wa0 * a1
                m02 += wa0 * a2
                m11 += wa1 * a1
                m12 += wa1 * a2
                m22 += wa2 * a2
                v0 += wa0 * b
                v1 += wa1 * b
                v2 += wa2 * b
        c00 = m11 * m22 - m12 * m12
        c01 = m02 * m12 - m01 * m22
        c02 = m01 * m12 - m02 * m11
        c11 = m00 * m22 - m02 * m02
        c12 = m01 * m02 - m00 * m12
        c22 = m00 * m11 - m01 * m01
        det = m00 * c00 + m01 * c01 + m02 * c02
        tr = (m00 + m11 + m22) / 3.0
        ok[i] = det > rcond * tr * tr * tr
        if ok[i]:
            inv = 1.0 / det
            X[i, 0] = (c00 * v0 + c01 * v1 + c02 * v2) * inv
            X[i, 1] = (c01 * v0 + c11 * v1 + c12 * v2) * inv
            X[i, 2] = (c02 * v0 + c12 * v1 + c22 * v2) * inv
        else:
            X[i, 0] = X[i, 1] = X[i, 2] = np.nan


if HAVE_NUMBA:
    _solve_pairs = numba.njit(cache=True, error_model="numpy")(_solve_pairs)


def solve_weighted_pairs(u, w, R, t, rcond: float = 1e-10):
    """Compiled :func:`.dlt.solve_weighted` (same arguments and results)."""
    n_views, n = w.shape
    R = np.asarray(R, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if R.ndim == 3:
        R = np.broadcast_to(R[:, None], (n_views, n, 3, 3))
        t = np.broadcast_to(t[:, None], (n_views, n, 3))
    X = np.empty((n, 3))
    ok = np.empty(n, np.bool_)
    _solve_pairs(np.asarray(u, dtype=np.float64), np.asarray(w, dtype=np.float64), R, t, X, ok,
                 float(rcond))
    return X, ok


def _summarize(err, used, w, reproj, n_used, score, err32):
    n_cams, n = err.shape
    for i in range(n):
        k = 0
        acc = 0.0
        lo = np.inf
        for c in range(n_cams):
            err32[c, i] = err[c, i]
            if used[c, i]:
                k += 1
                acc += err[c, i]
                lo = min(lo, w[c, i])
        n_used[i] = k
        reproj[i] = acc / k if k else np.nan
        score[i] = lo if k else np.nan


if HAVE_NUMBA:
    _summarize = numba.njit(cache=True, error_model="numpy")(_summarize)


def summarize_flat(err: np.ndarray, used: np.ndarray, weights: np.ndarray):
    """Compiled :func:`.prepare.summarize` of ``(n_cams, n)`` arrays (same results)."""
    n_cams, n = err.shape
    reproj = np.empty(n)
    n_used = np.empty(n, np.int16)
    score = np.empty(n, np.float32)
    err32 = np.empty((n_cams, n), np.float32)
    _summarize(err, used, np.ascontiguousarray(weights, dtype=np.float64), reproj, n_used,
               score, err32)
    return err32, reproj, n_used, score


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
    cam = _camera_array(rig)
    X = np.empty((n, 3))
    used = np.empty((n_cams, n), np.bool_)
    err = np.empty((n_cams, n))
    u = np.empty((n_cams, n, 2))
    parallel = n >= PARALLEL_MIN_POINTS and numba.get_num_threads() > 1
    (_kernel if parallel else _kernel_serial)(
        np.ascontiguousarray(pixels, dtype=np.float64),
        np.ascontiguousarray(weights, dtype=np.float64), cam, int(reweight), X, used, err, u)
    return X, used, err
