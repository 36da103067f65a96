"""RANSAC triangulation: per point, the camera subset that agrees best, vectorized over points.

For every point, each hypothesis is a pair of its views triangulated linearly; the pair's
point is projected into every camera and scored with MSAC's truncated cost
``sum_c min(e_c, threshold)^2`` over the point's valid views (``e_c`` in pixels, measured on
undistorted coordinates scaled by the focal length). Pairs are exhaustive for small rigs and
drawn per point, weighted by score, for large ones (``max_pairs``). The best hypothesis'
inliers (error below the threshold) are refit with the reweighted DLT of :mod:`.dlt`, and the
inlier set is refreshed once from the refit point. Hypotheses loop in Python (at most
``max_pairs``), points never do.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._kernels import HAVE_NUMBA, solve_weighted_pairs, view_errors_compiled
from .dlt import project_normalized, solve_weighted, triangulate_dlt

__all__ = ["triangulate_ransac", "view_errors"]


def view_errors(X: np.ndarray, u: np.ndarray, R: np.ndarray, t: np.ndarray,
                f: np.ndarray) -> np.ndarray:
    """Approximate pixel error of every view: focal length times the normalized error.

    Parameters
    ----------
    X : (N, 3) rig units
    u : (n_cams, N, 2) undistorted normalized coordinates
    R, t, f : camera arrays (see :func:`.dlt.rig_arrays`)

    Returns
    -------
    err : (n_cams, N) pixels; inf for points behind a camera, NaN where ``u`` or ``X`` is
    """
    proj, depth = project_normalized(X, R, t)
    err = f[:, None] * np.linalg.norm(proj - u, axis=-1)
    return np.where(depth > 0, err, np.inf)


def _hypotheses(valid: np.ndarray, w: np.ndarray, max_pairs: int,
                rng: np.random.Generator):
    """Yield per-point camera pairs ``(a, b)``: ints (exhaustive) or (N,) arrays (sampled)."""
    n_cams, n = valid.shape
    pairs = list(itertools.combinations(range(n_cams), 2))
    if len(pairs) <= max_pairs:
        yield from pairs
        return
    # weighted sampling without replacement (Efraimidis-Spirakis): largest u^(1/w) wins
    ww = np.where(valid, np.maximum(w, 1e-6), 0.0)
    idx = np.arange(n)
    for _ in range(max_pairs):
        with np.errstate(divide="ignore"):
            keys = np.where(valid, rng.random((n_cams, n)) ** (1.0 / np.where(valid, ww, 1.0)),
                            -1.0)
        top = np.argpartition(-keys, 1, axis=0)[:2]
        a, b = top[0], top[1]
        swap = keys[a, idx] < keys[b, idx]
        yield np.where(swap, b, a), np.where(swap, a, b)


def triangulate_ransac(u: np.ndarray, w: np.ndarray, R: np.ndarray, t: np.ndarray,
                       f: np.ndarray, threshold: float = 10.0, max_pairs: int = 28,
                       rng: np.random.Generator | int | None = 0, min_inliers: int = 2,
                       kernel: bool = False):
    """Robust triangulation of every point from its best-agreeing views.

    Parameters
    ----------
    u : (n_cams, N, 2)
        Undistorted normalized coordinates (NaN where missing).
    w : (n_cams, N)
        Weights in [0, 1] (0 leaves the view out); refits are weighted by them.
    R : (n_cams, 3, 3)
    t : (n_cams, 3) rig units
    f : (n_cams,) pixels
    threshold : float
        Inlier threshold in pixels.
    max_pairs : int
        Exhaustive pairs while ``n_cams * (n_cams - 1) / 2 <= max_pairs``, else this many
        sampled pairs per point.
    rng : Generator, int or None
        Randomness of the sampled pairs (unused when exhaustive).
    min_inliers : int
        Fewer agreeing views leave the point NaN.
    kernel : bool
        Solve the pairs with the compiled :func:`._kernels.solve_weighted_pairs` (numba).

    Returns
    -------
    X : (N, 3) rig units (NaN where no pair of views agrees)
    inliers : (n_cams, N) bool
        The views used for ``X``.
    """
    rng = np.random.default_rng(rng)
    solve = solve_weighted_pairs if kernel and HAVE_NUMBA else solve_weighted
    errors = view_errors_compiled if kernel and HAVE_NUMBA else view_errors
    n_cams, n = w.shape
    valid = np.isfinite(u[..., 0]) & np.isfinite(u[..., 1]) & (w > 0)
    uu = np.where(valid[..., None], u, 0.0)
    idx = np.arange(n)
    thr2 = float(threshold) ** 2
    best_cost = np.full(n, np.inf)
    best_X = np.full((n, 3), np.nan)
    for a, b in _hypotheses(valid, w, int(max_pairs), rng):
        if np.isscalar(a):
            pair_ok = valid[a] & valid[b]
            if not pair_ok.any():
                continue
            X, ok = solve(uu[[a, b]], np.stack([pair_ok, pair_ok]).astype(float),
                          R[[a, b]], t[[a, b]])
        else:
            pair_ok = valid[a, idx] & valid[b, idx]
            X, ok = solve(np.stack([uu[a, idx], uu[b, idx]]),
                          np.stack([pair_ok, pair_ok]).astype(float),
                          np.stack([R[a], R[b]]), np.stack([t[a], t[b]]))
        ok &= pair_ok
        err = errors(np.where(ok[:, None], X, 0.0), uu, R, t, f)
        cost = np.where(valid, np.minimum(err * err, thr2), 0.0).sum(0)
        better = ok & (cost < best_cost)
        best_cost = np.where(better, cost, best_cost)
        best_X[better] = X[better]
    has = np.isfinite(best_cost)
    inl = valid & (errors(np.where(has[:, None], best_X, 0.0), uu, R, t, f) < threshold)
    inl &= has[None]
    X = best_X
    for _ in range(2):
        enough = inl.sum(0) >= min_inliers
        Xr, used = triangulate_dlt(u, np.where(inl & enough[None], w, 0.0), R, t, f,
                                   kernel=kernel)
        X = np.where(np.isfinite(Xr), Xr, np.nan)
        fine = np.isfinite(X[..., 0]) & np.isfinite(X[..., 1]) & np.isfinite(X[..., 2])
        new = valid & fine[None] & (errors(np.where(fine[:, None], X, 0.0), uu, R, t, f)
                                    < threshold)
        if np.array_equal(new | inl, inl):
            break
        inl = np.where((new.sum(0) >= inl.sum(0))[None], new, inl)
    fine = np.isfinite(X[..., 0]) & np.isfinite(X[..., 1]) & np.isfinite(X[..., 2])
    fine &= used.sum(0) >= min_inliers
    X[~fine] = np.nan
    return X, used & fine[None]
