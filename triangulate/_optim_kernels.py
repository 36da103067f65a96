"""Compiled pieces (numba) of the optimizer's Gauss-Newton steps on pinhole rigs.

Each function does in one pass over the points what :class:`.optimize._Problem` and
:class:`.normal_system._System` do with whole-array numpy operations (the reference, used
with ``kernel=False``, fisheye or tilted cameras, or without numba; tests compare both):

- :func:`reprojection_cost` and :func:`reprojection_normal`: the robust (Cauchy) reprojection
  cost, and its IRLS normal blocks ``B (F, J, 3, 3)`` and gradient ``g (F, J, 3)`` with the
  analytic projection Jacobian chained with ``R``;
- :func:`limb_normal`: the limb-length terms' cost, blocks and gradient;
- :func:`structured_matvec`: ``H v`` for the structured normal matrix (point blocks, limb
  couplings, ``lam D^T D`` along frames);
- :func:`band_cholesky` and :func:`banded_solve`: the track preconditioner's banded Cholesky
  factor and solve, all joints side by side (LAPACK's ``pbtrf``/``pbtrs`` one track each);
- :func:`pcg_track`: the preconditioned conjugate gradients end to end;
- :func:`inverse_block_traces`: the uncertainty's per-frame ``inv(A)`` diagonal blocks;
- :func:`project_points`: pixel projections (``rig.project``).

Cameras are packed as :func:`._kernels.camera_array`. Points are ``(F, J, 3)`` rig units,
detections ``(n_cams, F, J, 2)`` pixels with weights ``(n_cams, F, J)`` (0: unused view).
"""

from __future__ import annotations

import numpy as np

from ._kernels import HAVE_NUMBA
from ._kernels import _distort as _distort_inline

__all__ = ["project_points", "reprojection_cost", "reprojection_normal", "limb_normal",
           "structured_matvec", "banded_solve", "band_cholesky", "inverse_block_traces",
           "dtd_apply", "pcg_track"]


def _normalized(cam, c, X0, X1, X2):
    """Normalized coordinates ``(x, y)`` of world point ``X`` in camera ``c``, and 1 / depth."""
    q0 = cam[c, 0] * X0 + cam[c, 1] * X1 + cam[c, 2] * X2 + cam[c, 9]
    q1 = cam[c, 3] * X0 + cam[c, 4] * X1 + cam[c, 5] * X2 + cam[c, 10]
    q2 = cam[c, 6] * X0 + cam[c, 7] * X1 + cam[c, 8] * X2 + cam[c, 11]
    if q2 == 0:
        q2 = 2.220446049250313e-16
    iz = 1.0 / q2
    return q0 * iz, q1 * iz, iz


def _project(cam, c, X0, X1, X2):
    """Pixel projection of world point ``X`` by camera ``c`` and its Jacobian (2x3)."""
    x, y, iz = _normalized(cam, c, X0, X1, X2)
    xd, yd, j00, j01, j10, j11 = _distort(x, y, cam[c, 18], cam[c, 19], cam[c, 20],
                                          cam[c, 21], cam[c, 22], cam[c, 23], cam[c, 24],
                                          cam[c, 25], cam[c, 26], cam[c, 27], cam[c, 28],
                                          cam[c, 29])
    fx, fy, skew = cam[c, 12], cam[c, 13], cam[c, 16]
    u = fx * xd + skew * yd + cam[c, 14]
    v = fy * yd + cam[c, 15]
    # K_2x2 @ J_distortion, then d normalized / d camera point, then R
    a0, b0 = fx * j00 + skew * j10, fx * j01 + skew * j11
    a1, b1 = fy * j10, fy * j11
    n0, n1, n2 = a0 * iz, b0 * iz, -(a0 * x + b0 * y) * iz
    m0, m1, m2 = a1 * iz, b1 * iz, -(a1 * x + b1 * y) * iz
    J00 = n0 * cam[c, 0] + n1 * cam[c, 3] + n2 * cam[c, 6]
    J01 = n0 * cam[c, 1] + n1 * cam[c, 4] + n2 * cam[c, 7]
    J02 = n0 * cam[c, 2] + n1 * cam[c, 5] + n2 * cam[c, 8]
    J10 = m0 * cam[c, 0] + m1 * cam[c, 3] + m2 * cam[c, 6]
    J11 = m0 * cam[c, 1] + m1 * cam[c, 4] + m2 * cam[c, 7]
    J12 = m0 * cam[c, 2] + m1 * cam[c, 5] + m2 * cam[c, 8]
    return u, v, J00, J01, J02, J10, J11, J12


def _pixel(cam, c, X0, X1, X2):
    """Pixel projection only (the cost needs no Jacobian)."""
    x, y, _ = _normalized(cam, c, X0, X1, X2)
    xd, yd, _, _, _, _ = _distort(x, y, cam[c, 18], cam[c, 19], cam[c, 20],
                                  cam[c, 21], cam[c, 22], cam[c, 23], cam[c, 24], cam[c, 25],
                                  cam[c, 26], cam[c, 27], cam[c, 28], cam[c, 29])
    return cam[c, 12] * xd + cam[c, 16] * yd + cam[c, 14], cam[c, 13] * yd + cam[c, 15]


def project_points(X, cam, out):
    """``out (n_cams, F, J, 2)``: pixel projections of ``X (F, J, 3)`` (as ``rig.project``)."""
    F, J, _ = X.shape
    for c in range(cam.shape[0]):
        for f in range(F):
            for j in range(J):
                out[c, f, j, 0], out[c, f, j, 1] = _pixel(cam, c, X[f, j, 0], X[f, j, 1],
                                                          X[f, j, 2])


def reprojection_cost(X, p, w, cam, s2):
    """``sum_cfj w s2 log(1 + |proj_c(X_fj) - p_cfj|^2 / s2)`` over views with ``w > 0``."""
    n_cams, F, J = w.shape
    total = 0.0
    for f in range(F):
        for j in range(J):
            for c in range(n_cams):
                if w[c, f, j] == 0:
                    continue
                u, v = _pixel(cam, c, X[f, j, 0], X[f, j, 1], X[f, j, 2])
                e2 = (u - p[c, f, j, 0]) ** 2 + (v - p[c, f, j, 1]) ** 2
                total += w[c, f, j] * s2 * np.log1p(e2 / s2)
    return total


def reprojection_normal(X, p, w, cam, s2, B, g):
    """Write the IRLS reprojection blocks ``B (F, J, 3, 3)`` and gradient ``g (F, J, 3)``."""
    n_cams, F, J = w.shape
    for f in range(F):
        for j in range(J):
            b00 = b01 = b02 = b11 = b12 = b22 = 0.0
            g0 = g1 = g2 = 0.0
            for c in range(n_cams):
                wc = w[c, f, j]
                if wc == 0:
                    continue
                u, v, J00, J01, J02, J10, J11, J12 = _project(cam, c, X[f, j, 0], X[f, j, 1],
                                                              X[f, j, 2])
                r0, r1 = u - p[c, f, j, 0], v - p[c, f, j, 1]
                W = wc / (1.0 + (r0 * r0 + r1 * r1) / s2)  # Cauchy IRLS weight times score
                b00 += W * (J00 * J00 + J10 * J10)
                b01 += W * (J00 * J01 + J10 * J11)
                b02 += W * (J00 * J02 + J10 * J12)
                b11 += W * (J01 * J01 + J11 * J11)
                b12 += W * (J01 * J02 + J11 * J12)
                b22 += W * (J02 * J02 + J12 * J12)
                g0 += W * (J00 * r0 + J10 * r1)
                g1 += W * (J01 * r0 + J11 * r1)
                g2 += W * (J02 * r0 + J12 * r1)
            B[f, j, 0, 0], B[f, j, 0, 1], B[f, j, 0, 2] = b00, b01, b02
            B[f, j, 1, 0], B[f, j, 1, 1], B[f, j, 1, 2] = b01, b11, b12
            B[f, j, 2, 0], B[f, j, 2, 1], B[f, j, 2, 2] = b02, b12, b22
            g[f, j, 0], g[f, j, 1], g[f, j, 2] = g0, g1, g2


def limb_normal(X, limbs, lengths, tols, B, g, K, with_normal):
    """Limb-length cost; with ``with_normal`` also add its blocks to ``B``, ``g``, fill ``K``.

    ``limbs (L, 2)`` int, ``lengths``, ``tols (L,)``, ``K (L, F, 3, 3)``; the residual of limb
    ``l`` at frame ``f`` is ``(|X_fa - X_fb| - L_l) / (tol_l L_l)``.
    """
    F = X.shape[0]
    total = 0.0
    for li in range(limbs.shape[0]):
        a, b = limbs[li, 0], limbs[li, 1]
        L, scale = lengths[li], tols[li] * lengths[li]
        k = 1.0 / (scale * scale)
        for f in range(F):
            d0 = X[f, a, 0] - X[f, b, 0]
            d1 = X[f, a, 1] - X[f, b, 1]
            d2 = X[f, a, 2] - X[f, b, 2]
            ln = np.sqrt(d0 * d0 + d1 * d1 + d2 * d2)
            res = (ln - L) / scale
            total += res * res
            if not with_normal:
                continue
            ln = max(ln, 1e-12)
            u0, u1, u2 = d0 / ln, d1 / ln, d2 / ln
            for r in range(3):
                ur = u0 if r == 0 else (u1 if r == 1 else u2)
                for s in range(3):
                    us = u0 if s == 0 else (u1 if s == 1 else u2)
                    kv = k * ur * us
                    K[li, f, r, s] = kv
                    B[f, a, r, s] += kv
                    B[f, b, r, s] += kv
            gl = k * (ln - L)
            g[f, a, 0] += gl * u0
            g[f, a, 1] += gl * u1
            g[f, a, 2] += gl * u2
            g[f, b, 0] -= gl * u0
            g[f, b, 1] -= gl * u1
            g[f, b, 2] -= gl * u2
    return total


def dtd_apply(v, coeffs, lam, out):
    """``out += lam D^T D v`` along axis 0 of ``v (F, J, 3)``; ``coeffs (d + 1,)`` of ``D``."""
    F, J, _ = v.shape
    d = coeffs.shape[0] - 1
    if F <= d:
        return
    n = 3 * J
    vf = v.reshape(F, n)
    of = out.reshape(F, n)
    acc = np.empty(n)
    for i in range(F - d):  # row i of D: sum_k c_k v[i + k]; joints and xyz side by side
        for q in range(n):
            acc[q] = 0.0
        for k in range(d + 1):
            ck = coeffs[k]
            for q in range(n):
                acc[q] += ck * vf[i + k, q]
        for k in range(d + 1):
            ck = lam * coeffs[k]
            for q in range(n):
                of[i + k, q] += ck * acc[q]


def structured_matvec(B, K, limbs, coeffs, lam, v, out):
    """``out = H v``: point blocks, minus limb couplings, plus ``lam D^T D`` (``lam > 0``)."""
    F, J, _ = v.shape
    for f in range(F):
        for j in range(J):
            for r in range(3):
                out[f, j, r] = B[f, j, r, 0] * v[f, j, 0] + B[f, j, r, 1] * v[f, j, 1] \
                    + B[f, j, r, 2] * v[f, j, 2]
        for li in range(limbs.shape[0]):
            a, b = limbs[li, 0], limbs[li, 1]
            for r in range(3):
                out[f, a, r] -= K[li, f, r, 0] * v[f, b, 0] + K[li, f, r, 1] * v[f, b, 1] \
                    + K[li, f, r, 2] * v[f, b, 2]
                out[f, b, r] -= K[li, f, r, 0] * v[f, a, 0] + K[li, f, r, 1] * v[f, a, 1] \
                    + K[li, f, r, 2] * v[f, a, 2]
    if lam > 0:
        dtd_apply(v, coeffs, lam, out)


def banded_solve(V, r, out):
    """Solve ``U^T U x = r`` for every track at once.

    ``V (3F, u + 1, J)``: :func:`band_cholesky`'s factor (reciprocal diagonal); ``r`` and
    ``out`` ``(F, J, 3)``. The joints are the inner (SIMD) loop: one track alone is a
    latency-bound chain of dependent substitutions.
    """
    F, J, _ = r.shape
    m, u1, _ = V.shape
    u = u1 - 1
    y = np.empty((m, J))
    acc = np.empty(J)
    for f in range(F):  # U^T y = r: U^T[i, i - s] = U[i - s, i] = V[i, u - s, j]
        for x in range(3):
            i = 3 * f + x
            for j in range(J):
                acc[j] = r[f, j, x]
            for s in range(1, min(u, i) + 1):
                for j in range(J):
                    acc[j] -= V[i, u - s, j] * y[i - s, j]
            for j in range(J):
                y[i, j] = acc[j] * V[i, u, j]
    for f in range(F - 1, -1, -1):  # U x = y: U[i, i + s] = V[i + s, u - s, j]
        for x in range(2, -1, -1):
            i = 3 * f + x
            for j in range(J):
                acc[j] = y[i, j]
            for s in range(1, min(u, m - 1 - i) + 1):
                for j in range(J):
                    acc[j] -= V[i + s, u - s, j] * y[i + s, j]
            for j in range(J):
                y[i, j] = acc[j] * V[i, u, j]
                out[f, j, x] = y[i, j]


def band_cholesky(B, diag_t, u):
    """Banded Cholesky factor of every track's system, the joints side by side.

    Parameters
    ----------
    B : (F, J, 3, 3) point blocks
    diag_t : (d + 1, F)
        ``lam D^T D``'s diagonals (``[s, f]`` couples frames ``f`` and ``f + s``), or
        ``(0, F)`` without temporal term.
    u : int
        Half bandwidth (``3 d``, at least 2).

    Returns
    -------
    V : (3F, u + 1, J)
        ``V[k, u - s, j] = U[k - s, k]`` (``s > 0``) of track ``j``'s upper factor
        ``A = U^T U`` in the (frame, xyz) order, and ``V[k, u, j] = 1 / U[k, k]``.
    ok : bool
        False where a track's system is not positive definite.
    """
    F, J = B.shape[0], B.shape[1]
    m = 3 * F
    V = np.zeros((m, u + 1, J))
    for f in range(F):
        for x in range(3):
            for y in range(x, 3):
                for j in range(J):
                    V[3 * f + y, u - (y - x), j] = B[f, j, x, y]
        for t in range(diag_t.shape[0]):
            if f + t < F:
                for x in range(3):
                    for j in range(J):
                        V[3 * (f + t) + x, u - 3 * t, j] += diag_t[t, f]
    acc = np.empty(J)
    for k in range(m):  # Cholesky-Crout on the band, the joints side by side
        for i in range(max(0, k - u), k):
            for j in range(J):
                V[k, u, j] -= V[k, u - (k - i), j] ** 2
        for j in range(J):
            if not V[k, u, j] > 0:
                return V, False
            V[k, u, j] = np.sqrt(V[k, u, j])
        for l in range(k + 1, min(m, k + u + 1)):
            for j in range(J):
                acc[j] = V[l, u - (l - k), j]
            for i in range(max(0, l - u), k):
                for j in range(J):
                    acc[j] -= V[k, u - (k - i), j] * V[l, u - (l - i), j]
            for j in range(J):
                V[l, u - (l - k), j] = acc[j] / V[k, u, j]
    for k in range(m):
        for j in range(J):
            V[k, u, j] = 1.0 / V[k, u, j]
    return V, True


_FRAMES = 32  # frames factorized side by side in :func:`inverse_block_traces`


def inverse_block_traces(B, K, limbs, out):
    """``out[f, j] = trace(inv(A_f)[3j:3j+3, 3j:3j+3])``; False if an ``A_f`` is not PD.

    ``A_f (3J, 3J)`` is frame ``f``'s normal matrix (:func:`.normal_system.dense_frame_matrix`
    of ``B (F, J, 3, 3)``, ``K (L, F, 3, 3)``, ``limbs (L, 2)``), built here a block of
    :data:`_FRAMES` frames at a time with the frames as the innermost (SIMD) axis: upper
    Cholesky ``A = U^T U``, then ``inv(A)_cc = |U^-T e_c|^2``.
    """
    F, J = B.shape[0], B.shape[1]
    m = 3 * J
    U = np.empty((m, m, _FRAMES))
    y = np.empty((m, _FRAMES))
    acc = np.empty(_FRAMES)
    for f0 in range(0, F, _FRAMES):
        nb = min(_FRAMES, F - f0)
        U[:] = 0.0
        for j in range(J):
            for r in range(3):
                for s in range(3):
                    for q in range(nb):
                        U[3 * j + r, 3 * j + s, q] = B[f0 + q, j, r, s]
        for li in range(limbs.shape[0]):
            a, b = min(limbs[li, 0], limbs[li, 1]), max(limbs[li, 0], limbs[li, 1])
            for r in range(3):
                for s in range(3):
                    for q in range(nb):
                        U[3 * a + r, 3 * b + s, q] -= K[li, f0 + q, r, s]
        for c in range(m):  # right-looking upper Cholesky, all frames of the block at once
            for q in range(nb):
                if not U[c, c, q] > 0:
                    return False
                d = np.sqrt(U[c, c, q])
                U[c, c, q] = d
                y[c, q] = 1.0 / d
            for s in range(c + 1, m):
                for q in range(nb):
                    U[c, s, q] *= y[c, q]
            for r in range(c + 1, m):
                for s in range(r, m):
                    for q in range(nb):
                        U[r, s, q] -= U[c, r, q] * U[c, s, q]
        for j in range(J):
            for q in range(nb):
                out[f0 + q, j] = 0.0
        for c in range(m):  # y = U^-T e_c (rows >= c), forward substitution by rows of U
            for k in range(c, m):
                for q in range(nb):
                    y[k, q] = 0.0
            for q in range(nb):
                y[c, q] = 1.0
                acc[q] = 0.0
            for k in range(c, m):
                for q in range(nb):
                    y[k, q] /= U[k, k, q]
                    acc[q] += y[k, q] * y[k, q]
                for s in range(k + 1, m):
                    for q in range(nb):
                        y[s, q] -= U[k, s, q] * y[k, q]
            for q in range(nb):
                out[f0 + q, c // 3] += acc[q]
    return True


def _dot(a, b):
    F, J, _ = a.shape
    s = 0.0
    for f in range(F):
        for j in range(J):
            s += a[f, j, 0] * b[f, j, 0] + a[f, j, 1] * b[f, j, 1] + a[f, j, 2] * b[f, j, 2]
    return s


def pcg_track(B, K, limbs, coeffs, lam, V, b, rtol, maxiter):
    """:func:`.normal_system._pcg` with the track preconditioner, compiled end to end.

    Solves ``H x = b`` (``H`` as :func:`structured_matvec`, preconditioner
    :func:`banded_solve` of ``V``); returns ``(x, iterations)``.
    """
    x = np.zeros_like(b)
    r = b.copy()
    z = np.empty_like(b)
    Hp = np.empty_like(b)
    banded_solve(V, r, z)
    p = z.copy()
    rz = _dot(r, z)
    b_norm = np.sqrt(_dot(b, b))
    if b_norm == 0:
        return x, 0
    flat_x, flat_r, flat_p, flat_z, flat_h = (x.reshape(-1), r.reshape(-1), p.reshape(-1),
                                              z.reshape(-1), Hp.reshape(-1))
    for it in range(1, maxiter + 1):
        structured_matvec(B, K, limbs, coeffs, lam, p, Hp)
        pHp = _dot(p, Hp)
        if not pHp > 0:
            return x, it
        alpha = rz / pHp
        rr = 0.0
        for q in range(flat_x.shape[0]):
            flat_x[q] += alpha * flat_p[q]
            flat_r[q] -= alpha * flat_h[q]
            rr += flat_r[q] * flat_r[q]
        if np.sqrt(rr) < rtol * b_norm:
            return x, it
        banded_solve(V, r, z)
        rz_new = _dot(r, z)
        beta = rz_new / rz
        for q in range(flat_p.shape[0]):
            flat_p[q] = flat_z[q] + beta * flat_p[q]
        rz = rz_new
    return x, maxiter


_distort = _distort_inline  # the pinhole model (numpy fallback: plain Python)

if HAVE_NUMBA:
    import numba

    _fm = {"contract", "arcp", "nsz"}
    # plain calls, not numba's IR inlining (LLVM still inlines them): the first compile of
    # this module takes ~3x less time, the speed is the same
    _jit = numba.njit(cache=True, error_model="numpy", fastmath=_fm)
    _distort = _jit(_distort_inline.py_func)
    _normalized = _jit(_normalized)
    _project = _jit(_project)
    _pixel = _jit(_pixel)
    project_points = _jit(project_points)
    reprojection_cost = _jit(reprojection_cost)
    reprojection_normal = _jit(reprojection_normal)
    limb_normal = _jit(limb_normal)
    dtd_apply = _jit(dtd_apply)
    structured_matvec = _jit(structured_matvec)
    banded_solve = _jit(banded_solve)
    band_cholesky = _jit(band_cholesky)
    inverse_block_traces = _jit(inverse_block_traces)
    _dot = _jit(_dot)
    pcg_track = _jit(pcg_track)
