"""Confidence-weighted linear triangulation (DLT), vectorized over points.

Each view ``c`` of a point gives two linear equations in the world point ``X`` (rig units),
from the undistorted normalized coordinates ``u = (x, y)`` and ``[R | t]``
(Hartley & Zisserman, *Multiple View Geometry*, 2nd ed., section 12.2)::

    (x r3 - r1) . X = t1 - x t3
    (y r3 - r2) . X = t2 - y t3

The inhomogeneous 3x3 normal equations ``sum_c w_c A_c^T A_c X = sum_c w_c A_c^T b_c`` are
solved in closed form for every point at once (no per-point Python loop). An equation's
residual is ``depth_c * (u_c - projection_c)``; re-solving with weights
``w_c (f_c / depth_c)^2`` turns the algebraic error into the pixel error of each view, so a
couple of reweighting rounds approach the geometric (maximum-likelihood) solution.

All arrays here are flat over points: ``N = n_frames * n_joints``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rig_arrays", "solve_weighted", "triangulate_dlt", "project_normalized"]


def rig_arrays(rig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Linear camera parameters of a rig.

    Returns
    -------
    R : (n_cams, 3, 3) world-to-camera rotations
    t : (n_cams, 3) rig units
    f : (n_cams,) pixels
        Mean focal length, converting normalized errors to (approximate) pixels.
    """
    R = rig.rotations
    t = rig.translations
    f = np.array([0.5 * (c.matrix[0, 0] + c.matrix[1, 1]) for c in rig.cameras])
    return R, t, f


def _solve_sym3(M: np.ndarray, v: np.ndarray, rcond: float = 1e-10):
    """Solve symmetric 3x3 systems in closed form.

    Parameters
    ----------
    M : (N, 3, 3) symmetric
    v : (N, 3)

    Returns
    -------
    X : (N, 3); NaN where ``M`` is (near) singular
    ok : (N,) bool
    """
    a, b, c = M[:, 0, 0], M[:, 0, 1], M[:, 0, 2]
    d, e, g = M[:, 1, 1], M[:, 1, 2], M[:, 2, 2]
    A00 = d * g - e * e
    A01 = c * e - b * g
    A02 = b * e - c * d
    A11 = a * g - c * c
    A12 = b * c - a * e
    A22 = a * d - b * b
    det = a * A00 + b * A01 + c * A02
    scale = ((a + d + g) / 3.0) ** 3
    ok = det > rcond * scale
    inv = np.where(ok, 1.0 / np.where(ok, det, 1.0), np.nan)
    x = (A00 * v[:, 0] + A01 * v[:, 1] + A02 * v[:, 2]) * inv
    y = (A01 * v[:, 0] + A11 * v[:, 1] + A12 * v[:, 2]) * inv
    z = (A02 * v[:, 0] + A12 * v[:, 1] + A22 * v[:, 2]) * inv
    return np.stack([x, y, z], axis=-1), ok


def solve_weighted(u: np.ndarray, w: np.ndarray, R: np.ndarray, t: np.ndarray) -> tuple:
    """One weighted linear solve.

    Parameters
    ----------
    u : (n_views, N, 2)
        Undistorted normalized coordinates; entries with ``w == 0`` may hold anything finite.
    w : (n_views, N)
        Non-negative weights; 0 leaves the view out.
    R : (n_views, 3, 3) or (n_views, N, 3, 3)
    t : (n_views, 3) or (n_views, N, 3)

    Returns
    -------
    X : (N, 3) rig units, NaN where the views do not fix a point
    ok : (N,) bool
    """
    n = u.shape[1]
    M = np.zeros((n, 3, 3))
    v = np.zeros((n, 3))
    for c in range(u.shape[0]):
        Rc, tc = R[c], t[c]
        r1, r2, r3 = Rc[..., 0, :], Rc[..., 1, :], Rc[..., 2, :]   # (3,) or (N, 3)
        t1, t2, t3 = tc[..., 0], tc[..., 1], tc[..., 2]
        x, y, wc = u[c, :, 0:1], u[c, :, 1:2], w[c][:, None]
        a1 = x * r3 - r1                                            # (N, 3)
        a2 = y * r3 - r2
        b1 = t1 - x[:, 0] * t3                                      # (N,)
        b2 = t2 - y[:, 0] * t3
        wa1, wa2 = wc * a1, wc * a2
        M += wa1[:, :, None] * a1[:, None, :] + wa2[:, :, None] * a2[:, None, :]
        v += wa1 * b1[:, None] + wa2 * b2[:, None]
    return _solve_sym3(M, v)


def project_normalized(X: np.ndarray, R: np.ndarray, t: np.ndarray):
    """Ideal (undistorted) normalized projections and depths.

    Parameters
    ----------
    X : (N, 3) rig units
    R : (n_cams, 3, 3)
    t : (n_cams, 3)

    Returns
    -------
    u : (n_cams, N, 2)
    depth : (n_cams, N) rig units
    """
    p = np.matmul(X[None], np.swapaxes(R, 1, 2)) + t[:, None, :]
    depth = p[..., 2]
    safe = np.where(np.abs(depth) < 1e-12, 1e-12, depth)
    return p[..., :2] / safe[..., None], depth


def triangulate_dlt(u: np.ndarray, w: np.ndarray, R: np.ndarray, t: np.ndarray,
                    f: np.ndarray, reweight: int = 2, kernel: bool = False) -> tuple:
    """Weighted linear triangulation with depth reweighting.

    Parameters
    ----------
    u : (n_cams, N, 2)
        Undistorted normalized coordinates (NaN where missing).
    w : (n_cams, N)
        Weights (e.g. detection scores); 0 or NaN ``u`` leaves the view out.
    R : (n_cams, 3, 3)
    t : (n_cams, 3) rig units
    f : (n_cams,) pixels
    reweight : int
        Rounds of reweighting by ``(f / depth)^2`` after the algebraic solve (0 is plain
        weighted DLT).
    kernel : bool
        Solve with the compiled :func:`._kernels.solve_weighted_pairs` (numba, same results).

    Returns
    -------
    X : (N, 3) rig units; NaN where fewer than 2 views are usable
    used : (n_cams, N) bool
        Views that entered the solve.
    """
    valid = np.isfinite(u[..., 0]) & np.isfinite(u[..., 1]) & (w > 0)
    ok2 = valid.sum(0) >= 2
    used = valid & ok2[None]
    uu = np.where(used[..., None], u, 0.0)
    ww = np.where(used, w, 0.0)
    solve = solve_weighted
    if kernel:
        from ._kernels import HAVE_NUMBA, solve_weighted_pairs

        solve = solve_weighted_pairs if HAVE_NUMBA else solve_weighted
    X, ok = solve(uu, ww, R, t)
    for _ in range(int(reweight)):
        _, depth = project_normalized(np.where(ok[:, None], X, 0.0), R, t)
        depth = np.maximum(np.abs(depth), 1e-9)
        X2, ok2b = solve(uu, ww * (f[:, None] / depth) ** 2, R, t)
        X = np.where(ok2b[:, None], X2, X)
    X[~(ok & ok2)] = np.nan
    used &= (ok & ok2)[None]
    return X, used
