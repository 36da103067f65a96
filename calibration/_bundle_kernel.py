"""Compiled (numba) normal equations of the board bundle adjustment on pinhole cameras.

:func:`normal_pairs` does in one pass over the observations what
:meth:`calibration.bundle_solver._Solver.normal_equations` does with whole-array numpy operations
through :meth:`calibration.bundle_jacobian.BundleModel.camera_blocks` (the reference, used
for fisheye or tilted-sensor cameras, or without numba; tests compare both): residual,
analytic Jacobian of one observation with respect to its camera's and its board view's
parameters, robust IRLS weight, and the products ``J^T J`` and ``-J^T r`` summed per
(camera, view) pair. Observations are taken in order, so the result is deterministic.

Importing numba and loading the cached machine code take ~0.7 s once per process (compiling
it, the first time ever, ~2 s): :func:`compiled` does it on first use, :func:`warm` ahead of
time (``calibrate`` runs it in a background thread while the videos are decoded), and
:func:`ready` tells whether it is done, so that small solves need not wait for it.
"""

from __future__ import annotations

import importlib.util
import threading

import numpy as np

from .pinhole_scalar import distort_point

#: numba is installed (imported only when the kernel is first wanted: ~0.4 s).
HAVE_NUMBA = importlib.util.find_spec("numba") is not None

__all__ = ["HAVE_NUMBA", "LOSS_CODES", "normal_pairs", "compiled", "warm", "ready", "mark_ready"]

#: Robust losses of :data:`calibration.bundle.LOSSES` as the kernel's codes.
LOSS_CODES = {"linear": 0, "soft_l1": 1, "huber": 2}


def normal_pairs(world, view_idx, point_idx, cam_idx, pair_of_obs, obs, inlier, R_cam,
                 t_cam, Jr_cam, intr, dist, slots, free_cam, view_free, t_view, RJ_view,
                 loss_code, scale, pair_cam, pair_view, H, g, U, V, gc, gv):
    """Per-pair normal blocks of the robust reprojection cost; returns the robust cost sum.

    Parameters
    ----------
    world : (n_views, n_points, 3) rig units
        Board corners in the world frame per view.
    view_idx, point_idx, cam_idx, pair_of_obs : (n_obs,) int
        Each observation's view, board corner, camera and (camera, view) pair.
    obs : (n_obs, 2) px
    inlier : (n_obs,) float, 1 or 0
    R_cam, Jr_cam : (n_cams, 3, 3)
        World-to-camera rotations and the right Jacobians of their Rodrigues vectors.
    t_cam : (n_cams, 3) rig units
    intr : (n_cams, 5)
        ``fx, fy, cx, cy, skew`` px.
    dist : (n_cams, 14)
        OpenCV's pinhole coefficients, padded (no tilt: ``dist[:, 12:] == 0``).
    slots : (n_cams, 5) int
        Refined distortion coefficients (``0 .. 4``: k1, k2, p1, p2, k3), ``-1`` padded;
        all ``-1`` with ``H.shape[1] == 6`` when intrinsics are fixed.
    free_cam : (n_cams, p) float, 1 or 0
    view_free : (n_views,) float, 1 or 0
    t_view : (n_views, 3)
        Board view translations.
    RJ_view : (n_views, 3, 3)
        ``R(r_v) J_r(r_v)`` of each view.
    loss_code : int, see :data:`LOSS_CODES`
    scale : float, px
    pair_cam, pair_view : (n_pairs,) int
        Camera and view of each pair.
    H : (n_pairs, q, q) float, out
        ``sum J^T w J`` per pair, ``q = p + 6`` (camera parameters, then the view's).
    g : (n_pairs, q) float, out
        ``-sum J^T w r`` per pair.
    U, gc : (n_cams, p, p), (n_cams, p) float, out
        The camera blocks of ``H`` and ``g`` summed per camera.
    V, gv : (n_views, 6, 6), (n_views, 6) float, out
        The view blocks summed per view.

    Returns
    -------
    float
        ``sum rho(|r|^2 / scale^2)`` over inliers (without the ``0.5 scale^2`` factor).
    """
    n_obs = obs.shape[0]
    q = H.shape[1]
    p = q - 6
    H[:] = 0.0
    g[:] = 0.0
    J = np.zeros((2, q))
    G = np.zeros((2, 3))
    Jp = np.zeros((2, 3))
    cost = 0.0
    inv_s2 = 1.0 / (scale * scale)
    for i in range(n_obs):
        c = cam_idx[i]
        v = view_idx[i]
        k = point_idx[i]
        X0 = world[v, k, 0]
        X1 = world[v, k, 1]
        X2 = world[v, k, 2]
        Xc0 = R_cam[c, 0, 0] * X0 + R_cam[c, 0, 1] * X1 + R_cam[c, 0, 2] * X2 + t_cam[c, 0]
        Xc1 = R_cam[c, 1, 0] * X0 + R_cam[c, 1, 1] * X1 + R_cam[c, 1, 2] * X2 + t_cam[c, 1]
        Xc2 = R_cam[c, 2, 0] * X0 + R_cam[c, 2, 1] * X1 + R_cam[c, 2, 2] * X2 + t_cam[c, 2]
        iz = 1.0 / (Xc2 if Xc2 != 0.0 else 2.220446049250313e-16)
        x = Xc0 * iz
        y = Xc1 * iz
        xd, yd, d00, d01, d10, d11 = _distort(
            x, y, dist[c, 0], dist[c, 1], dist[c, 2], dist[c, 3], dist[c, 4], dist[c, 5],
            dist[c, 6], dist[c, 7], dist[c, 8], dist[c, 9], dist[c, 10], dist[c, 11])
        fx = intr[c, 0]
        fy = intr[c, 1]
        sk = intr[c, 4]
        r0 = fx * xd + sk * yd + intr[c, 2] - obs[i, 0]
        r1 = fy * yd + intr[c, 3] - obs[i, 1]
        # d pixel / d normalized = Kp Jd, then d normalized / d X_cam
        a00 = fx * d00 + sk * d10
        a01 = fx * d01 + sk * d11
        a10 = fy * d10
        a11 = fy * d11
        # Jp = A Jn, Jn = [[iz, 0, -x iz], [0, iz, -y iz]]
        Jp[0, 0] = a00 * iz
        Jp[0, 1] = a01 * iz
        Jp[0, 2] = -(a00 * x + a01 * y) * iz
        Jp[1, 0] = a10 * iz
        Jp[1, 1] = a11 * iz
        Jp[1, 2] = -(a10 * x + a11 * y) * iz
        for row in range(2):  # G = Jp R_cam: d pixel / d X_world
            for a in range(3):
                G[row, a] = (Jp[row, 0] * R_cam[c, 0, a] + Jp[row, 1] * R_cam[c, 1, a]
                             + Jp[row, 2] * R_cam[c, 2, a])
        # board point relative to the view's origin, for the view rotation
        B0 = X0 - t_view[v, 0]
        B1 = X1 - t_view[v, 1]
        B2 = X2 - t_view[v, 2]
        fv = view_free[v]
        for row in range(2):
            g0 = G[row, 0]
            g1 = G[row, 1]
            g2 = G[row, 2]
            # X_w x g, then times J_r(r_c): d pixel / d r_c
            cx0 = X1 * g2 - X2 * g1
            cx1 = X2 * g0 - X0 * g2
            cx2 = X0 * g1 - X1 * g0
            # (B x g) R_v J_r(r_v): d pixel / d r_v
            bx0 = B1 * g2 - B2 * g1
            bx1 = B2 * g0 - B0 * g2
            bx2 = B0 * g1 - B1 * g0
            for a in range(3):
                J[row, a] = (cx0 * Jr_cam[c, 0, a] + cx1 * Jr_cam[c, 1, a]
                             + cx2 * Jr_cam[c, 2, a]) * free_cam[c, a]
                J[row, 3 + a] = Jp[row, a] * free_cam[c, 3 + a]
                J[row, p + a] = (bx0 * RJ_view[v, 0, a] + bx1 * RJ_view[v, 1, a]
                                 + bx2 * RJ_view[v, 2, a]) * fv
                J[row, p + 3 + a] = G[row, a] * fv
        if p > 6:  # intrinsics refined: fx, fy, cx, cy, then the distortion slots
            r2 = x * x + y * y
            den = 1.0 + r2 * (dist[c, 5] + r2 * (dist[c, 6] + r2 * dist[c, 7]))
            for a in range(6, p):
                J[0, a] = 0.0
                J[1, a] = 0.0
            J[0, 6] = xd * free_cam[c, 6]
            J[1, 7] = yd * free_cam[c, 7]
            J[0, 8] = free_cam[c, 8]
            J[1, 9] = free_cam[c, 9]
            for j in range(slots.shape[1]):
                s = slots[c, j]
                if s < 0:
                    break
                if s == 0:
                    e0 = x * r2 / den
                    e1 = y * r2 / den
                elif s == 1:
                    e0 = x * r2 * r2 / den
                    e1 = y * r2 * r2 / den
                elif s == 2:
                    e0 = 2.0 * x * y
                    e1 = r2 + 2.0 * y * y
                elif s == 3:
                    e0 = r2 + 2.0 * x * x
                    e1 = 2.0 * x * y
                else:
                    e0 = x * r2 * r2 * r2 / den
                    e1 = y * r2 * r2 * r2 / den
                J[0, 10 + j] = (fx * e0 + sk * e1) * free_cam[c, 10 + j]
                J[1, 10 + j] = fy * e1 * free_cam[c, 10 + j]
        z = (r0 * r0 + r1 * r1) * inv_s2
        if loss_code == 0:
            rho = z
            d1 = 1.0
        elif loss_code == 1:
            sq = np.sqrt(1.0 + z)
            rho = 2.0 * (sq - 1.0)
            d1 = 1.0 / sq
        elif z > 1.0:
            sq = np.sqrt(z)
            rho = 2.0 * sq - 1.0
            d1 = 1.0 / sq
        else:
            rho = z
            d1 = 1.0
        w = inlier[i]
        cost += rho * w
        ww = d1 * w  # IRLS weight rho'(z), curvature of rho ignored
        if ww == 0.0:
            continue
        pr = pair_of_obs[i]
        for a in range(q):
            wa0 = ww * J[0, a]
            wa1 = ww * J[1, a]
            g[pr, a] -= wa0 * r0 + wa1 * r1
            for b in range(a, q):
                H[pr, a, b] += wa0 * J[0, b] + wa1 * J[1, b]
    U[:] = 0.0
    V[:] = 0.0
    gc[:] = 0.0
    gv[:] = 0.0
    for pr in range(H.shape[0]):  # mirror the upper triangles, sum per camera and view
        for a in range(q):
            for b in range(a + 1, q):
                H[pr, b, a] = H[pr, a, b]
        c = pair_cam[pr]
        v = pair_view[pr]
        for a in range(p):
            gc[c, a] += g[pr, a]
            for b in range(p):
                U[c, a, b] += H[pr, a, b]
        for a in range(6):
            gv[v, a] += g[pr, p + a]
            for b in range(6):
                V[v, a, b] += H[pr, p + a, p + b]
    return cost


_distort = distort_point  # jitted (without caching of its own) by :func:`compiled`
_compiled = None
_lock = threading.Lock()
_ready = threading.Event()


def compiled():
    """:func:`normal_pairs` compiled by numba (imported and loaded on the first call)."""
    global _compiled, _distort
    with _lock:
        if _compiled is None:
            import numba

            # its own dispatcher, not triangulate's cached fast-math one: numba's cache does
            # not tell the two option sets apart
            _distort = numba.njit(error_model="numpy")(distort_point)
            _compiled = numba.njit(cache=True, error_model="numpy")(normal_pairs)
    return _compiled


def ready() -> bool:
    """Whether the compiled kernel is loaded and has run (by :func:`warm` or a solve)."""
    return _ready.is_set()


def mark_ready() -> None:
    """Record that the compiled kernel has run."""
    _ready.set()


def warm() -> None:
    """Load (or, the first time ever, compile) the kernel on a one-observation problem."""
    if not HAVE_NUMBA or ready():
        return
    i1 = np.zeros(1, np.int64)
    compiled()(np.zeros((1, 1, 3)) + [0.0, 0.0, 1.0], i1, i1, i1, i1, np.zeros((1, 2)),
               np.ones(1), np.eye(3)[None], np.zeros((1, 3)), np.eye(3)[None],
               np.ones((1, 5)), np.zeros((1, 14)), np.full((1, 5), -1, np.int64),
               np.ones((1, 6)), np.ones(1), np.zeros((1, 3)), np.eye(3)[None], 0, 1.0, i1,
               i1, np.zeros((1, 12, 12)), np.zeros((1, 12)), np.zeros((1, 6, 6)),
               np.zeros((1, 6, 6)), np.zeros((1, 6)), np.zeros((1, 6)))
    mark_ready()
