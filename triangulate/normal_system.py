"""The structured normal equations of the spatiotemporal optimization.

Per-frame 3x3 point blocks, a banded temporal-smoothness term, and a preconditioned
conjugate-gradient solve; used by :mod:`triangulate.optimize`.
"""

from __future__ import annotations

from math import comb

import numpy as np
from scipy.linalg import cho_solve_banded, cholesky_banded

from . import _optim_kernels as kern


def dense_frame_matrix(B: np.ndarray, K: np.ndarray, limbs: np.ndarray) -> np.ndarray:
    """Per-frame dense normal matrix: 3x3 point blocks on the diagonal, limb couplings off it.

    Parameters
    ----------
    B : (n_frames, n_joints, 3, 3)
        Diagonal point blocks.
    K : (n_limbs, n_frames, 3, 3)
        Coupling block of each limb, subtracted at (a, b) and (b, a).
    limbs : (n_limbs, 2) int

    Returns
    -------
    A : (n_frames, 3 * n_joints, 3 * n_joints)
    """
    n_frames, n_joints = B.shape[:2]
    A = np.zeros((n_frames, n_joints, 3, n_joints, 3))
    jj = np.arange(n_joints)
    A[:, jj, :, jj, :] = np.transpose(B, (1, 0, 2, 3))
    for li, (a, b) in enumerate(np.asarray(limbs).tolist()):
        A[:, a, :, b, :] -= K[li]
        A[:, b, :, a, :] -= K[li]
    return A.reshape(n_frames, 3 * n_joints, 3 * n_joints)


# --- structured normal matrix ----------------------------------------------------------
def _diff_coeffs(d: int) -> np.ndarray:
    return np.array([(-1) ** (d - k) * comb(d, k) for k in range(d + 1)], dtype=np.float64)


def _dtd_diagonals(n: int, d: int) -> np.ndarray:
    """Diagonals ``s = 0..d`` of ``D^T D`` for ``n`` frames: ``(d + 1, n)``, entry
    ``[s, f] = (D^T D)[f, f + s]`` (0 past the end)."""
    c = _diff_coeffs(d)
    out = np.zeros((d + 1, n))
    rows = max(n - d, 0)
    for s in range(d + 1):
        for m in range(d + 1 - s):
            f = np.arange(n)
            i = f - m
            ok = (i >= 0) & (i < rows) & (f + s < n)
            out[s] += np.where(ok, c[m] * c[m + s], 0.0)
    return out


def _dtd(v: np.ndarray, d: int) -> np.ndarray:
    """``D^T D v`` along axis 0."""
    if v.shape[0] <= d:
        return np.zeros_like(v)
    u = np.diff(v, n=d, axis=0)
    pad = [(d, d)] + [(0, 0)] * (v.ndim - 1)
    return (-1) ** d * np.diff(np.pad(u, pad), n=d, axis=0)


def _bmv(M: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Batched matrix-vector product ``M (..., m, n) @ v (..., n)`` without BLAS."""
    return (M * v[..., None, :]).sum(-1)


class _System:
    """``H`` of one Gauss-Newton step, its preconditioner and products."""

    def __init__(self, B, limbs, K, lam, d, n_frames, n_joints, schwarz=True, kernel=False):
        self.B, self.K, self.lam, self.d = B, K, lam, d
        self.kernel = kernel  # compiled products and solves (:mod:`._optim_kernels`)
        self.coeffs = _diff_coeffs(d)
        self.limbs = np.asarray(limbs, dtype=np.int64).reshape(-1, 2)
        self.F, self.J = n_frames, n_joints
        self.limb_list = self.limbs.tolist()
        n_limbs = len(self.limbs)
        use_t = lam > 0 and n_frames > d
        self.use_t = use_t
        # per-track banded matrix, ordering (joint, frame, xyz), upper form, bandwidth 3d
        u = 3 * d if use_t else 2
        diag_t = _dtd_diagonals(n_frames, d) * lam if use_t else None  # (d + 1, F)
        if kernel:
            self.band_rows, ok = kern.band_cholesky(
                B, diag_t if use_t else np.zeros((0, n_frames)), u)
            if not ok:
                raise np.linalg.LinAlgError("track system is not positive definite")
        else:
            self.band = cholesky_banded(self._band(B, diag_t, u), lower=False)
        self.frame_inv = None
        if not (schwarz and n_limbs):
            return
        # per-frame dense matrix (limb coupling + temporal diagonal)
        m = 3 * n_joints
        A = dense_frame_matrix(B, K, self.limbs)
        if use_t:
            A[:, np.arange(m), np.arange(m)] += np.repeat(diag_t[0], m).reshape(n_frames, m)
        self.frame_inv = np.linalg.inv(A)

    def _band(self, B, diag_t, u):
        """LAPACK upper band storage ``(u + 1, J * 3F)`` of the tracks' systems."""
        n_frames, n_joints = self.F, self.J
        n = n_frames * n_joints * 3
        ab = np.zeros((u + 1, n))
        Bt = np.transpose(B, (1, 0, 2, 3))  # (J, F, 3, 3)
        for o in range(3):
            vals = np.zeros((n_joints, n_frames, 3))
            vals[..., : 3 - o] = Bt[..., np.arange(3 - o), np.arange(o, 3)]
            flat = vals.ravel()
            ab[u - o, o:] += flat[: n - o] if o else flat
        if diag_t is not None:
            for s in range(diag_t.shape[0]):
                vals = np.zeros((n_joints, n_frames, 3))
                vals[:] = diag_t[s][None, :, None]
                flat = vals.ravel()
                o = 3 * s
                ab[u - o, o:] += flat[: n - o] if o else flat
        return ab

    def matvec(self, v):
        if self.kernel:
            out = np.empty_like(v)
            kern.structured_matvec(self.B, self.K, self.limbs, self.coeffs,
                                 self.lam if self.use_t else 0.0, v, out)
            return out
        out = _bmv(self.B, v)
        if self.use_t:
            out += self.lam * _dtd(v, self.d)
        for li, (a, b) in enumerate(self.limb_list):
            K = self.K[li]
            out[:, a] -= _bmv(K, v[:, b])
            out[:, b] -= _bmv(K, v[:, a])
        return out

    def _track_solve(self, r):
        if self.kernel:
            out = np.empty_like(r)
            kern.banded_solve(self.band_rows, r, out)
            return out
        x = cho_solve_banded((self.band, False), np.transpose(r, (1, 0, 2)).ravel())
        return np.transpose(x.reshape(self.J, self.F, 3), (1, 0, 2))

    def _frame_solve(self, r):
        return _bmv(self.frame_inv, r.reshape(self.F, -1)).reshape(r.shape)

    def precondition(self, r):
        z = self._track_solve(r)
        if self.frame_inv is None:
            return z
        z = z + self._frame_solve(r - self.matvec(z))
        return z + self._track_solve(r - self.matvec(z))


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product without BLAS (whose thread start-up dominates at these sizes)."""
    return float((a * b).sum())


def _pcg(system: _System, b: np.ndarray, rtol: float = 1e-3, maxiter: int = 60):
    """Preconditioned conjugate gradients for ``H x = b``; returns ``(x, iterations)``."""
    if system.kernel and system.frame_inv is None:
        return kern.pcg_track(system.B, system.K, system.limbs, system.coeffs,
                              system.lam if system.use_t else 0.0, system.band_rows,
                              np.ascontiguousarray(b), rtol, maxiter)
    x = np.zeros_like(b)
    r = b.copy()
    z = system.precondition(r)
    p = z.copy()
    rz = _dot(r, z)
    b_norm = np.sqrt(_dot(b, b))
    if b_norm == 0:
        return x, 0
    for it in range(1, maxiter + 1):
        Hp = system.matvec(p)
        pHp = _dot(p, Hp)
        if not pHp > 0:
            return x, it
        alpha = rz / pHp
        x += alpha * p
        r -= alpha * Hp
        if np.sqrt(_dot(r, r)) < rtol * b_norm:
            return x, it
        z = system.precondition(r)
        rz_new = _dot(r, z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x, maxiter
