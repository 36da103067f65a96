"""Levenberg-Marquardt solver of the board bundle adjustment (see :mod:`calibration.bundle`).

:class:`_Solver` builds the normal equations chunk by chunk (camera blocks ``U``, view blocks
``V``, their couplings ``W``), eliminates the views by the Schur complement and solves the
reduced camera system by Cholesky. On pinhole cameras without a tilted sensor the normal
equations come from the compiled kernel :func:`calibration._bundle_kernel.normal_pairs`
(~3x faster); the numpy path is the reference and serves the other models.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from . import _bundle_kernel
from .bundle_jacobian import POSE_SIZE, BundleModel, right_jacobian, wrap_rotations
from .projection import pad_distortion
from .rotation import rodrigues_to_matrix

log = logging.getLogger("calibration.bundle")

_CHUNK = 4096  # observations per Jacobian chunk (cache-sized)
_KERNEL_MIN_OBS = 60_000  # observations from which loading the compiled kernel pays
_XTOL = 1e-10  # relative step size
_LAMBDA0, _LAMBDA_DOWN = 1e-2, 0.1  # initial damping; floor of its decrease factor


def _loss(loss: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rho(z)`` and ``rho'(z)`` for squared scaled errors ``z >= 0``."""
    if loss == "linear":
        return z, np.ones_like(z)
    if loss == "soft_l1":
        s = np.sqrt(1.0 + z)
        return 2.0 * (s - 1.0), 1.0 / s
    big = z > 1.0
    sq = np.sqrt(np.where(big, z, 1.0))
    return np.where(big, 2.0 * sq - 1.0, z), np.where(big, 1.0 / sq, 1.0)


@dataclass(eq=False)
class _Solver:
    """Chunked normal equations and the Schur-complement LM loop for one :class:`BundleModel`."""

    model: BundleModel
    loss: str
    scale: float
    free_cam: np.ndarray  # (n_cams, n_cam_params) bool
    fixed_views: np.ndarray  # (n_views,) bool, held at their input value
    level: int  # logging level of the iteration log
    kernel: bool = True  # compiled normal equations where the model allows (pinhole, no tilt)

    def __post_init__(self) -> None:
        m = self.model
        key = m.cam_idx * m.n_views + m.view_idx  # observations arrive sorted by (cam, view)
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        self.pair_of_obs = np.cumsum(np.r_[False, key[1:] != key[:-1]])
        self.rank = np.arange(len(key)) - starts[self.pair_of_obs]  # position within its pair
        self.pair_view, self.pair_cam = m.view_idx[starts], m.cam_idx[starts]
        self.max_group = int(self.rank.max()) + 1
        # camera pairs sharing views: (c1, c2, pairs of c1, pairs of c2) over their common views
        self.links = []
        cam_pairs = [np.flatnonzero(self.pair_cam == c) for c in range(len(m.cameras))]
        for c1, a in enumerate(cam_pairs):
            for c2 in range(c1, len(m.cameras)):
                b = cam_pairs[c2]
                _, ia, ib = np.intersect1d(self.pair_view[a], self.pair_view[b],
                                           assume_unique=True, return_indices=True)
                if len(ia):
                    self.links.append((c1, c2, a[ia], b[ib]))
        # the compiled kernel when it is loaded already, or when the solve is big enough to
        # pay for loading it (~0.7 s against ~12 us saved per observation over a solve)
        self.kernel = self.kernel and _kernel_supported(m, self.loss) and (
            _bundle_kernel.ready() or len(m.observations) >= _KERNEL_MIN_OBS)
        if self.kernel:
            # one compiled signature: C-contiguous int64 indices, float64 observations
            self.k_arrays = tuple(np.ascontiguousarray(a, dtype=dt) for a, dt in (
                (m.view_idx, np.int64), (m.point_idx, np.int64), (m.cam_idx, np.int64),
                (self.pair_of_obs, np.int64), (m.observations, np.float64)))
            self.k_pairs = (np.ascontiguousarray(self.pair_cam, dtype=np.int64),
                            np.ascontiguousarray(self.pair_view, dtype=np.int64))
            self.slot_arr = np.full((len(m.cameras), 5), -1, dtype=np.int64)
            for c, sl in enumerate(m.slots or []):
                self.slot_arr[c, :len(sl)] = sl
        ends = np.r_[starts[1:], len(key)]
        self.chunks = []  # (camera, first obs, end obs, first pair, end pair)
        for c in range(len(m.cameras)):
            p = np.flatnonzero(m.cam_idx[starts] == c)
            while len(p):
                n = max(1, int(np.searchsorted(ends[p] - starts[p[0]], _CHUNK, side="right")))
                q = p[:n]
                self.chunks.append((c, starts[q[0]], ends[q[-1]], q[0], q[-1] + 1))
                p = p[n:]

    def cost(self, cp: np.ndarray, vp: np.ndarray, inlier: np.ndarray) -> float:
        """Robust cost of the inlier observations, px^2."""
        world = self.model.board_in_world(vp)
        total = 0.0
        for c, s, e, _, _ in self.chunks:
            r = self.model.camera_residuals(c, cp[c], world, slice(s, e))
            rho = _loss(self.loss, np.einsum("ij,ij->i", r, r) / self.scale**2)[0]
            total += float(rho @ inlier[s:e])
        return 0.5 * self.scale**2 * total

    def normal_equations(self, cp: np.ndarray, vp: np.ndarray, inlier: np.ndarray):
        """Cost, camera blocks ``U (n_cams, p, p)``, view blocks ``V (n_views, 6, 6)``, coupling
        blocks ``W (n_pairs, p, 6)`` of each (camera, view) pair and right-hand sides
        ``-J^T w r`` (``gc (n_cams, p)``, ``gv (n_views, 6)``)."""
        if self.kernel:
            return self._normal_equations_kernel(cp, vp, inlier)
        m, p = self.model, self.model.n_cam_params
        n_cams, q = len(m.cameras), p + POSE_SIZE
        U = np.zeros((n_cams, p, p))
        V = np.zeros((m.n_views, POSE_SIZE, POSE_SIZE))
        W = np.empty((len(self.pair_view), p, POSE_SIZE))
        gc, gv = np.zeros((n_cams, p)), np.zeros((m.n_views, POSE_SIZE))
        terms = m.view_terms(vp)
        cost = 0.0
        for c, s, e, p0, p1 in self.chunks:
            sl = slice(s, e)
            r, Jc, Jv = m.camera_blocks(c, cp[c], vp, terms, sl)
            r2 = np.einsum("ij,ij->i", r, r)
            z = r2 / self.scale**2
            rho, d1 = _loss(self.loss, z)
            cost += float(rho @ inlier[sl])
            Jc *= self.free_cam[c]
            Jv *= ~self.fixed_views[m.view_idx[sl], None, None]
            sw = np.sqrt(d1 * inlier[sl])  # IRLS: weights rho'(z), curvature of rho ignored
            J = np.concatenate([Jc, Jv], axis=2) * sw[:, None, None]  # (m, 2, q)
            rw = r * sw[:, None]
            # zero-padded (pair, corner) layout: one small dense product per (camera, view)
            A = np.zeros((p1 - p0, self.max_group, 2, q))
            b = np.zeros((p1 - p0, self.max_group, 2))
            idx = (self.pair_of_obs[sl] - p0, self.rank[sl])
            A[idx] = J
            b[idx] = rw
            A = A.reshape(p1 - p0, -1, q)
            At = A.transpose(0, 2, 1)
            H = At @ A  # (pairs, q, q)
            g = -(At @ b.reshape(p1 - p0, -1, 1))[..., 0]
            views = self.pair_view[p0:p1]  # distinct within one camera
            U[c] += H[:, :p, :p].sum(0)
            gc[c] += g[:, :p].sum(0)
            V[views] += H[:, p:, p:]
            gv[views] += g[:, p:]
            W[p0:p1] = H[:, :p, p:]
        return 0.5 * self.scale**2 * cost, U, V, W, gc, gv

    def _normal_equations_kernel(self, cp: np.ndarray, vp: np.ndarray, inlier: np.ndarray):
        """:meth:`normal_equations` through the compiled per-pair products."""
        m, p = self.model, self.model.n_cam_params
        n_cams, q = len(m.cameras), p + POSE_SIZE
        world, RJ_view = m.view_terms(vp)
        intr, dist = np.zeros((n_cams, 5)), np.zeros((n_cams, 14))
        for c in range(n_cams):
            K, d = m.intrinsics(c, cp[c])
            intr[c] = K[0, 0], K[1, 1], K[0, 2], K[1, 2], K[0, 1]
            dist[c] = pad_distortion(d)
        H = np.empty((len(self.pair_view), q, q))
        g = np.empty((len(self.pair_view), q))
        U, gc = np.empty((n_cams, p, p)), np.empty((n_cams, p))
        V, gv = np.empty((m.n_views, POSE_SIZE, POSE_SIZE)), np.empty((m.n_views, POSE_SIZE))
        cost = _bundle_kernel.compiled()(
            np.ascontiguousarray(world), *self.k_arrays, inlier.astype(np.float64),
            rodrigues_to_matrix(cp[:, :3]),
            np.ascontiguousarray(cp[:, 3:6]), right_jacobian(cp[:, :3]), intr, dist,
            self.slot_arr, self.free_cam.astype(np.float64),
            (~self.fixed_views).astype(np.float64), np.ascontiguousarray(vp[:, 3:]),
            np.ascontiguousarray(RJ_view), _bundle_kernel.LOSS_CODES[self.loss], float(self.scale),
            *self.k_pairs, H, g, U, V, gc, gv)
        _bundle_kernel.mark_ready()
        return 0.5 * self.scale**2 * cost, U, V, np.ascontiguousarray(H[:, :p, p:]), gc, gv

    def step(self, U, V, W, gc, gv, lam: float):
        """Damped Gauss-Newton step ``(dc (n_cams, p), dv (n_views, 6), predicted decrease)``,
        or ``None`` when the reduced camera system is not positive definite."""
        n_cams, p = U.shape[:2]
        N = n_cams * p
        Dc = np.maximum(np.einsum("cii->ci", U), 1e-12 * max(U.max(), 1e-300))
        Dv = np.maximum(np.einsum("vii->vi", V), 1e-12 * max(V.max(), 1e-300))
        Vd = V + lam * Dv[:, :, None] * np.eye(POSE_SIZE)
        Vd[self.fixed_views] = np.eye(POSE_SIZE)
        try:
            Vinv = np.linalg.inv(Vd)
        except np.linalg.LinAlgError:
            return None
        Y = W @ Vinv[self.pair_view]  # (n_pairs, p, 6)
        # reduced camera system S = U - sum_v W_v V_v^-1 W_v^T, one product per camera pair
        S = np.zeros((N, N))
        for c1, c2, a, b in self.links:
            blk = Y[a].transpose(1, 0, 2).reshape(p, -1) @ W[b].transpose(0, 2, 1).reshape(-1, p)
            S[c1 * p:(c1 + 1) * p, c2 * p:(c2 + 1) * p] = -blk
            S[c2 * p:(c2 + 1) * p, c1 * p:(c1 + 1) * p] = -blk.T
        Ud = U + lam * Dc[:, :, None] * np.eye(p)
        for c in range(n_cams):
            S[c * p:(c + 1) * p, c * p:(c + 1) * p] += Ud[c]
        rhs = gc.copy()
        np.add.at(rhs, self.pair_cam, -(Y @ gv[self.pair_view, :, None])[..., 0])
        rhs = rhs.ravel()
        free = self.free_cam.ravel()
        Sf = S[np.ix_(free, free)]
        d = np.sqrt(np.maximum(np.diag(Sf), 1e-300))  # Jacobi scaling for the factorisation
        try:
            cho = scipy.linalg.cho_factor(Sf / d[:, None] / d, check_finite=False)
        except np.linalg.LinAlgError:
            return None
        dc = np.zeros(N)
        dc[free] = scipy.linalg.cho_solve(cho, rhs[free] / d, check_finite=False) / d
        back = gv.copy()
        np.add.at(back, self.pair_view,
                  -np.einsum("qik,qi->qk", W, dc.reshape(n_cams, p)[self.pair_cam]))
        dv = np.einsum("vij,vj->vi", Vinv, back)
        dv[self.fixed_views] = 0.0
        dc = dc.reshape(n_cams, p)
        pred = 0.5 * (np.sum(dc * gc) + np.sum(dv * gv)
                      + lam * (np.sum(Dc * dc * dc) + np.sum(Dv * dv * dv)))
        return dc, dv, pred

    def solve(self, cp: np.ndarray, vp: np.ndarray, inlier: np.ndarray, max_iterations: int,
              ftol: float, lam: float = _LAMBDA0):
        """Levenberg-Marquardt from ``(cp, vp)`` with damping ``lam`` (Nielsen's update).

        Returns
        -------
        cp, vp, cost, iterations, converged, reason, lam
        """
        cost, *blocks = self.normal_equations(cp, vp, inlier)
        nu = 2.0
        converged, reason, it = False, "reached max_iterations", 0
        while it < max_iterations:
            it += 1
            out = self.step(*blocks, lam)
            if out is None:
                lam, nu = lam * nu, nu * 2.0
                continue
            dc, dv, pred = out
            if pred <= max(ftol * 1e-3 * cost, 1e-20):
                converged, reason = True, "predicted decrease below tolerance"
                break
            cp_new, vp_new = cp + dc, vp + dv
            new = self.cost(cp_new, vp_new, inlier)
            gain = (cost - new) / pred
            log.log(self.level, "iteration %d: cost %.6g -> %.6g (predicted %.6g), lambda %.2g",
                    it, cost, new, cost - pred, lam)
            if gain > 0:
                small = (np.linalg.norm(dc) + np.linalg.norm(dv)
                         < _XTOL * (np.linalg.norm(cp) + np.linalg.norm(vp) + _XTOL))
                rel = (cost - new) / max(cost, 1e-300)
                cp, vp = wrap_rotations(cp_new), wrap_rotations(vp_new)
                cost, *blocks = self.normal_equations(cp, vp, inlier)
                lam = max(lam * max(_LAMBDA_DOWN, 1 - (2 * gain - 1) ** 3), 1e-12)
                nu = 2.0
                if (rel < ftol and gain > 0.25) or small:
                    converged, reason = True, "cost or step change below tolerance"
                    break
                continue
            lam, nu = lam * nu, nu * 2.0  # rejected
            if lam > 1e16:
                converged, reason = True, "no decrease possible (damping saturated)"
                break
        return cp, vp, cost, it, converged, reason, lam


def _kernel_supported(model: BundleModel, loss: str) -> bool:
    """Whether :func:`._bundle_kernel.normal_pairs` covers this model: numba, pinhole
    cameras without a tilted sensor, refined coefficients among k1, k2, p1, p2, k3."""
    if not _bundle_kernel.HAVE_NUMBA or loss not in _bundle_kernel.LOSS_CODES:
        return False
    for c, cam in enumerate(model.cameras):
        if cam.fisheye or np.any(pad_distortion(cam.dist)[12:] != 0):
            return False
        if model.slots is not None and any(s > 4 for s in model.slots[c]):
            return False
    return True
