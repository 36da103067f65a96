"""Compiled pieces (numba) for pinhole rigs, with pure-numpy fallbacks elsewhere.

Undistortion (Newton on OpenCV's pinhole model without tilt; the common k1, k2, p1, p2, k3
model branch-free and vectorized, with a scalar Newton fallback for the views it does not
settle and for the other models), the packed camera parameters, and the weighted 3x3 solves
RANSAC uses (:func:`undistort_pinhole`, :func:`solve_weighted_pairs`). The fused DLT pass is
in :mod:`._dlt_kernel`; the optimizer's kernels in :mod:`._optim_kernels`. Tests compare every
compiled path with its numpy reference.
"""

from __future__ import annotations

import types

import numpy as np

from calibration.pinhole_scalar import distort_point as _distort

__all__ = ["HAVE_NUMBA", "kernel_supported", "camera_array", "undistort_pinhole",
           "solve_weighted_pairs", "view_errors_compiled"]

try:  # numba comes with aniposelib; everything works without it, slower
    import numba

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False


def kernel_supported(rig) -> bool:
    """Whether the compiled kernels handle the rig (pinhole, no tilt, numba present)."""
    if not HAVE_NUMBA:
        return False
    for cam in rig.cameras:
        if cam.fisheye or (cam.dist.size >= 14 and np.any(cam.dist[12:14] != 0)):
            return False
    return True


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


def _newton2(xs, ys, fx, fy, cx, cy, skew, k1, k2, p1, p2, k3, ux, uy, conv):
    """Branch-free undistortion of pixels ``(xs, ys)`` (1-D, contiguous; k1, k2, p1, p2, k3).

    A fixed-point start and two Newton steps, in a loop the compiler vectorizes (contiguous
    1-D arrays indexed by the loop counter, no ``max``); ``conv`` gets the last step's
    squared length (inf if a step was long), and views where it is not below 1e-14 are
    redone by :func:`_undistort`.
    """
    for i in range(xs.shape[0]):
        yt = (ys[i] - cy) / fy
        xt = (xs[i] - cx - skew * yt) / fx
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
            big = big if big > n2 else n2
            x -= dx
            y -= dy
        ux[i] = x
        uy[i] = y
        conv[i] = n2 if big <= 0.25 else np.inf


if HAVE_NUMBA:
    # no "nnan"/"ninf" fast-math flags: NaN marks missing views and must stay NaN
    _fm = {"contract", "arcp", "nsz"}
    # plain calls (LLVM still inlines them): numba's IR inlining made the first compile of
    # the kernels that call them ~2x longer
    _jit = numba.njit(cache=True, error_model="numpy", fastmath=_fm)
    _distort = _jit(_distort)
    _undistort = _jit(_undistort)
    _newton2 = numba.njit(cache=True, error_model="numpy", fastmath=_fm)(_newton2)


_CAMERA_CACHE: dict = {}


def camera_array(rig) -> np.ndarray:
    """Camera parameters packed for the kernels.

    Returns
    -------
    cam : (n_cams, 32) float64
        R (9, row-major), t (3, rig units), fx, fy, cx, cy, skew (pixels), mean focal (pixels),
        pinhole distortion (12), 0 (2). Cached on the cameras' values (building it costs
        ~0.1-0.4 ms, as much as a small DLT).
    """
    key = tuple((c.rvec.tobytes(), c.tvec.tobytes(), c.matrix.tobytes(), c.dist.tobytes())
                for c in rig.cameras)
    cam = _CAMERA_CACHE.get(key)
    if cam is None:
        if len(_CAMERA_CACHE) > 16:
            _CAMERA_CACHE.clear()
        cam = _CAMERA_CACHE[key] = _build_camera_array(rig)
        cam.flags.writeable = False
    return cam


def _build_camera_array(rig) -> np.ndarray:
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
    _undistort_all(pix, camera_array(rig), u)
    return u.reshape(shape)


def _solve3(m00, m01, m02, m11, m12, m22, v0, v1, v2, rcond):
    """``(ok, X0, X1, X2)``: ``M X = v`` for symmetric ``M`` by cofactors.

    ``ok`` is False (and ``X`` NaN) where ``det(M) <= rcond (trace(M) / 3)^3``.
    """
    c00 = m11 * m22 - m12 * m12
    c01 = m02 * m12 - m01 * m22
    c02 = m01 * m12 - m02 * m11
    c11 = m00 * m22 - m02 * m02
    c12 = m01 * m02 - m00 * m12
    c22 = m00 * m11 - m01 * m01
    det = m00 * c00 + m01 * c01 + m02 * c02
    tr = (m00 + m11 + m22) / 3.0
    if not det > rcond * tr * tr * tr:
        return False, np.nan, np.nan, np.nan
    inv = 1.0 / det
    return (True, (c00 * v0 + c01 * v1 + c02 * v2) * inv, (c01 * v0 + c11 * v1 + c12 * v2) * inv,
            (c02 * v0 + c12 * v1 + c22 * v2) * inv)


if HAVE_NUMBA:
    # two compilations, so that each caller keeps its floating-point flags (same bits as
    # before); the fast-math one is a copy under its own name (numba's cache is keyed by it)
    _fm_py = types.FunctionType(_solve3.__code__, _solve3.__globals__, "_solve3_fm")
    _fm_py.__qualname__ = "_solve3_fm"
    _solve3_fm = numba.njit(cache=True, error_model="numpy", fastmath=_fm)(_fm_py)
    _solve3 = numba.njit(cache=True, error_model="numpy")(_solve3)
else:  # pragma: no cover
    _solve3_fm = _solve3


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
        ok[i], X[i, 0], X[i, 1], X[i, 2] = _solve3(m00, m01, m02, m11, m12, m22, v0, v1, v2,
                                                   rcond)


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


def _view_errors(X, u, R, t, f, err):
    n_cams, n = err.shape
    for c in range(n_cams):
        for i in range(n):
            p0 = R[c, 0, 0] * X[i, 0] + R[c, 0, 1] * X[i, 1] + R[c, 0, 2] * X[i, 2] + t[c, 0]
            p1 = R[c, 1, 0] * X[i, 0] + R[c, 1, 1] * X[i, 1] + R[c, 1, 2] * X[i, 2] + t[c, 1]
            z = R[c, 2, 0] * X[i, 0] + R[c, 2, 1] * X[i, 1] + R[c, 2, 2] * X[i, 2] + t[c, 2]
            if not z > 0:
                err[c, i] = np.inf
                continue
            zz = 1e-12 if z < 1e-12 else z
            dx, dy = p0 / zz - u[c, i, 0], p1 / zz - u[c, i, 1]
            err[c, i] = f[c] * np.sqrt(dx * dx + dy * dy)


if HAVE_NUMBA:
    _view_errors = numba.njit(cache=True, error_model="numpy")(_view_errors)


def view_errors_compiled(X, u, R, t, f):
    """Compiled :func:`.ransac.view_errors` (same arguments and results)."""
    err = np.empty(u.shape[:2])
    _view_errors(np.ascontiguousarray(X, dtype=np.float64),
                 np.ascontiguousarray(u, dtype=np.float64), np.ascontiguousarray(R),
                 np.ascontiguousarray(t), np.ascontiguousarray(f, dtype=np.float64), err)
    return err
