"""Fused compiled DLT (numba): masking, undistortion, solve, errors and summaries in one pass.

:func:`dlt_fused` reads the caller's detections and scores as they are (float32 or float64,
no chunk copies), drops views that are missing or score below the threshold, undistorts them
(OpenCV's pinhole model, see :mod:`._kernels`), solves the confidence-weighted normal
equations with depth reweighting (:mod:`.dlt`), measures every valid view's pixel error with
the full model and writes the per-point summaries (:func:`.prepare.summarize`) straight into
the result arrays. The numpy path (``kernel=False``) does the same in whole-array steps; tests
compare both. Blocks of :data:`_BLOCK` points run on numba's threads from
:data:`PARALLEL_MIN_POINTS` points.
"""

from __future__ import annotations

import os
import types

import numpy as np

from ._kernels import HAVE_NUMBA, _distort, _newton2, _undistort, camera_array
from ._kernels import _solve3_fm as _solve3

__all__ = ["dlt_fused", "PARALLEL_MIN_POINTS"]

if HAVE_NUMBA:
    import numba

    prange = numba.prange
else:  # pragma: no cover
    prange = range

_BLOCK = 1024  # points per parallel task (each allocates its own scratch)

#: Points below which the serial kernel runs: threads cost more than they save on small
#: inputs (and on busy cores a parallel section waits for its slowest thread).
PARALLEL_MIN_POINTS = 8_192


def _busy() -> bool:
    """Whether the machine's cores are all taken (1-minute load average >= cores).

    A parallel section then waits for its slowest thread, which another process holds:
    on 2 shared cores at load ~4-6 the serial kernel took half the time of the parallel one
    (same results: blocks are computed identically either way).
    """
    try:
        return os.getloadavg()[0] >= (os.cpu_count() or 1)
    except OSError:  # pragma: no cover
        return False


def _kernel(pix, sc, has_s, thr, check_inf, cam, reweight, in_off, out_off, n,
            X, reproj, ncams, score, used, err, bad):
    """Points ``in_off + i`` of ``pix``/``sc`` to ``out_off + i`` of the outputs, ``i < n``.

    ``pix (n_cams, *, 2)``, ``sc (n_cams, *)`` (ignored unless ``has_s``), ``cam`` as
    :func:`._kernels.camera_array`; outputs ``X (*, 3)``, ``reproj (*)``, ``ncams (*)``
    int16, ``score (*)`` float32, ``used (n_cams, *)`` bool, ``err (n_cams, *)`` float32;
    ``bad[block]`` is set to 1 where a score is outside [0, 1] (or a coordinate is infinite
    with ``check_inf``): the caller then raises with the offender's position.

    Per block of points: each camera's pixels are copied to contiguous rows so that the
    undistortion and the error pass loop over points without branches (the compiler
    vectorizes them); the 3x3 solves go point by point with their views' sums in registers.
    """
    n_cams = cam.shape[0]
    n_blocks = (n + _BLOCK - 1) // _BLOCK
    for blk in prange(n_blocks):
        lo, hi = blk * _BLOCK, min(n, (blk + 1) * _BLOCK)
        m = hi - lo
        G = np.empty((n_cams, m, 9))   # per view: A^T A (6) and A^T b (3)
        W = np.zeros((n_cams, m))      # weight of each usable view, 0 if none
        n_valid = np.zeros(m, np.int64)
        ux = np.empty(m)
        uy = np.empty(m)
        conv = np.empty(m)
        xs = np.empty((n_cams, m))     # the block's pixels, contiguous per camera
        ys = np.empty((n_cams, m))
        ok = np.zeros((n_cams, m), np.bool_)  # valid detection (its error is reported)
        Xb = np.empty((3, m))
        nbad = 0
        # cameras outside, points inside: consecutive Newton solves are independent, so the
        # compiler vectorizes them (one point's views in a row would be one dependency chain)
        for c in range(n_cams):
            simple = True
            for k in range(23, 30):
                simple = simple and cam[c, k] == 0
            xc, yc = xs[c], ys[c]
            for j in range(m):  # contiguous copies: the loops over points then vectorize
                xc[j] = pix[c, in_off + lo + j, 0]
                yc[j] = pix[c, in_off + lo + j, 1]
            if simple:
                _newton2(xc, yc, cam[c, 12], cam[c, 13], cam[c, 14], cam[c, 15], cam[c, 16],
                         cam[c, 18], cam[c, 19], cam[c, 20], cam[c, 21], cam[c, 22], ux, uy,
                         conv)
            for j in range(m):
                i = in_off + lo + j
                px, py = np.float64(pix[c, i, 0]), np.float64(pix[c, i, 1])
                wc = np.float64(sc[c, i]) if has_s else 1.0
                if wc < 0 or wc > 1:
                    nbad += 1
                if check_inf and (np.isinf(px) or np.isinf(py)):
                    nbad += 1
                if not (wc > 0 and wc >= thr and np.isfinite(px) and np.isfinite(py)):
                    continue
                ok[c, j] = True
                if simple and conv[j] < 1e-14:
                    x, y = ux[j], uy[j]
                else:
                    x, y = _undistort(px, py, cam[c, 12], cam[c, 13], cam[c, 14], cam[c, 15],
                                      cam[c, 16], cam[c, 18], cam[c, 19], cam[c, 20],
                                      cam[c, 21], cam[c, 22], cam[c, 23], cam[c, 24],
                                      cam[c, 25], cam[c, 26], cam[c, 27], cam[c, 28],
                                      cam[c, 29])
                if not (np.isfinite(x) and np.isfinite(y)):
                    continue
                W[c, j] = wc
                n_valid[j] += 1
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
                G[c, j, 0], G[c, j, 1], G[c, j, 2], G[c, j, 3] = g0, g1, g2, g3
                G[c, j, 4], G[c, j, 5], G[c, j, 6], G[c, j, 7] = g4, g5, g6, g7
                G[c, j, 8] = g8
        bad[blk] = 1 if nbad else 0
        for j in range(m):
            i, o = in_off + lo + j, out_off + lo + j
            X0 = X1 = X2 = np.nan
            if n_valid[j] >= 2:
                # weighted normal equations, then rounds reweighted by (f / depth)^2
                for rnd in range(reweight + 1):
                    m00 = m01 = m02 = m11 = m12 = m22 = 0.0
                    v0 = v1 = v2 = 0.0
                    for c in range(n_cams):
                        wc = W[c, j]
                        if wc == 0:
                            continue
                        if rnd > 0:
                            z = cam[c, 6] * X0 + cam[c, 7] * X1 + cam[c, 8] * X2 + cam[c, 11]
                            z = max(abs(z), 1e-9)
                            wc = wc * (cam[c, 17] / z) ** 2
                        m00 += wc * G[c, j, 0]
                        m01 += wc * G[c, j, 1]
                        m02 += wc * G[c, j, 2]
                        m11 += wc * G[c, j, 3]
                        m12 += wc * G[c, j, 4]
                        m22 += wc * G[c, j, 5]
                        v0 += wc * G[c, j, 6]
                        v1 += wc * G[c, j, 7]
                        v2 += wc * G[c, j, 8]
                    solved, Y0, Y1, Y2 = _solve3(m00, m01, m02, m11, m12, m22, v0, v1, v2,
                                                 1e-10)
                    if not solved:
                        break
                    X0, X1, X2 = Y0, Y1, Y2
            Xb[0, j], Xb[1, j], Xb[2, j] = X0, X1, X2
        # pixel errors of every valid view with the full model (NaN where X is NaN)
        acc = np.zeros(m)
        cnt = np.zeros(m, np.int64)
        low = np.full(m, np.inf)
        eb = np.empty((n_cams, m))
        ub = np.empty((n_cams, m), np.bool_)
        X0s, X1s, X2s = Xb[0], Xb[1], Xb[2]
        for c in range(n_cams):
            k1, k2, p1, p2, k3 = cam[c, 18], cam[c, 19], cam[c, 20], cam[c, 21], cam[c, 22]
            fx, fy, cx, cy, skew = cam[c, 12], cam[c, 13], cam[c, 14], cam[c, 15], cam[c, 16]
            r00, r01, r02 = cam[c, 0], cam[c, 1], cam[c, 2]
            r10, r11, r12 = cam[c, 3], cam[c, 4], cam[c, 5]
            r20, r21, r22 = cam[c, 6], cam[c, 7], cam[c, 8]
            t0, t1, t2 = cam[c, 9], cam[c, 10], cam[c, 11]
            simple = True
            for k in range(23, 30):
                simple = simple and cam[c, k] == 0
            xc, yc, okc, Wc, ebc, ubc = xs[c], ys[c], ok[c], W[c], eb[c], ub[c]
            for j in range(m):
                X0, X1, X2 = X0s[j], X1s[j], X2s[j]
                q0 = r00 * X0 + r01 * X1 + r02 * X2 + t0
                q1 = r10 * X0 + r11 * X1 + r12 * X2 + t1
                q2 = r20 * X0 + r21 * X1 + r22 * X2 + t2
                iz = 1.0 / (q2 if q2 != 0 else 2.220446049250313e-16)
                x, y = q0 * iz, q1 * iz
                if simple:
                    r2 = x * x + y * y
                    rad = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
                    xd = x * rad + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
                    yd = y * rad + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
                else:
                    xd, yd, _, _, _, _ = _distort(x, y, k1, k2, p1, p2, k3, cam[c, 23],
                                                  cam[c, 24], cam[c, 25], cam[c, 26],
                                                  cam[c, 27], cam[c, 28], cam[c, 29])
                dx = fx * xd + skew * yd + cx - xc[j]
                dy = fy * yd + cy - yc[j]
                e = np.sqrt(dx * dx + dy * dy)
                e = e if okc[j] else np.nan
                ebc[j] = e
                u = (Wc[j] > 0) & np.isfinite(X0)
                ubc[j] = u
                acc[j] += e if u else 0.0
                cnt[j] += u
                wl = Wc[j] if u else np.inf
                low[j] = low[j] if low[j] < wl else wl
        for c in range(n_cams):
            for j in range(m):
                o = out_off + lo + j
                err[c, o] = eb[c, j]
                used[c, o] = ub[c, j]
        for j in range(m):
            o = out_off + lo + j
            k = cnt[j]
            X[o, 0], X[o, 1], X[o, 2] = Xb[0, j], Xb[1, j], Xb[2, j]
            ncams[o] = k
            reproj[o] = acc[j] / k if k else np.nan
            score[o] = low[j] if k else np.nan

if HAVE_NUMBA:
    # no "nnan"/"ninf" fast-math flags: NaN marks missing views and must stay NaN
    _fm = {"contract", "arcp", "nsz"}
    # a copy under its own name: numba's cache is keyed by the function's name, and the
    # serial and parallel compilations of one function would overwrite each other
    _serial_py = types.FunctionType(_kernel.__code__, _kernel.__globals__, "_kernel_serial")
    _serial_py.__qualname__ = "_kernel_serial"
    _kernel_serial = numba.njit(cache=True, error_model="numpy", fastmath=_fm)(_serial_py)
    _kernel = numba.njit(cache=True, parallel=True, error_model="numpy", fastmath=_fm)(_kernel)
else:  # pragma: no cover
    _kernel_serial = _kernel


def dlt_fused(rig, pixels: np.ndarray, scores: np.ndarray | None, score_threshold: float,
              out: dict, start: int = 0, check_inf: bool = False, reweight: int = 2) -> bool:
    """DLT of frames ``start:start + pixels.shape[1]`` written into ``out`` in place.

    Parameters
    ----------
    rig : CameraRig
        Pinhole cameras without tilt (see :func:`._kernels.kernel_supported`).
    pixels : (n_cams, n, n_joints, 2) float32 or float64 pixels; NaN (or inf) where missing
    scores : (n_cams, n, n_joints) float32 or float64 in [0, 1], or None (every view 1)
    score_threshold : float
        Views scoring below it (or 0) are left out.
    out : dict
        The result arrays of the whole recording, C-contiguous: ``points3d (F, J, 3)``,
        ``reprojection_error (F, J)``, ``n_cams (F, J)`` int16, ``score (F, J)`` float32,
        ``inliers (n_cams, F, J)`` bool, ``camera_errors (n_cams, F, J)`` float32.
    start : int
        First frame of ``pixels`` in the recording.
    check_inf : bool
        Report infinite coordinates (``nonfinite="error"``) like bad scores.
    reweight : int
        Depth reweighting rounds (as :func:`.dlt.triangulate_dlt`).

    Returns
    -------
    bool
        False where a score is outside [0, 1] (or, with ``check_inf``, a coordinate is
        infinite): the caller raises with :func:`.validators.check_chunk`.
    """
    n_cams, n_frames, n_joints, _ = pixels.shape
    n = n_frames * n_joints
    pix = np.ascontiguousarray(pixels).reshape(n_cams, n, 2)
    has_s = scores is not None
    sc = np.ascontiguousarray(scores).reshape(n_cams, n) if has_s else np.ones((1, 1))
    X = out["points3d"].reshape(-1, 3)
    flat = X.shape[0]
    bad = np.zeros((n + _BLOCK - 1) // _BLOCK, np.uint8)
    parallel = n >= PARALLEL_MIN_POINTS and numba.get_num_threads() > 1 and not _busy()
    (_kernel if parallel else _kernel_serial)(
        pix, sc, has_s, float(score_threshold), bool(check_inf), camera_array(rig),
        int(reweight), 0, start * n_joints, n, X, out["reprojection_error"].reshape(flat),
        out["n_cams"].reshape(flat), out["score"].reshape(flat),
        out["inliers"].reshape(n_cams, flat), out["camera_errors"].reshape(n_cams, flat), bad)
    return not bad.any()
