"""Residuals and analytic Jacobian of the board bundle adjustment (see :mod:`calibration.bundle`).

Model of one observation ``i`` (camera ``c``, view ``v``, board corner ``k``)::

    X_world = R(r_v) X_k + t_v               board to world, X_k in the board frame (z = 0)
    X_cam   = R(r_c) X_world + t_c           world to camera
    pixel   = K(fx, fy, cx, cy) distort(X_cam[:2] / X_cam[2]; dist)
    residual_i = pixel - observation_i       (2,) px

Parameters of camera ``c`` are one row ``[r_c (3), t_c (3), fx, fy, cx, cy, d_1 .. d_m]``
(``fx .. d_m`` only when intrinsics are refined; ``d_j`` are the distortion coefficients named
by the intrinsics model, see :func:`distortion_slots`); those of view ``v`` are
``[r_v (3), t_v (3)]``.

Rotation derivatives use the right Jacobian of SO(3) (Gallego & Yezzi 2015, "A compact formula
for the derivative of a 3-D rotation in exponential coordinates", eq. 9, in the series form of
Sola et al. 2018, "A micro Lie theory", eq. 143)::

    d(R(r) v) / dr = -R(r) [v]_x J_r(r),
    J_r(r) = I - (1 - cos t) / t^2 [r]_x + (t - sin t) / t^3 [r]_x^2,  t = |r|

with Taylor coefficients near ``t = 0`` (where ``J_r -> I``). They chain with
:func:`calibration.projection.project_camera_points` (``d pixel / d X_cam``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from . import projection
from .camera import Camera
from .rotation import rodrigues_to_matrix

__all__ = [
    "POSE_SIZE",
    "INTRINSICS_MODELS",
    "distortion_slots",
    "skew_matrix",
    "right_jacobian",
    "distortion_coefficient_jacobian",
    "wrap_rotations",
    "posable_observations",
    "BundleModel",
]

#: Parameters of one rigid pose: Rodrigues vector (3, radians) and translation (3).
POSE_SIZE = 6

_PINHOLE = {"none": (), "k1": (0,), "k1k2": (0, 1), "k1k2p1p2": (0, 1, 2, 3),
            "k1k2p1p2k3": (0, 1, 2, 3, 4)}
_FISHEYE = {"none": (), "k1": (0,), "k1k2": (0, 1), "k1k2k3": (0, 1, 2),
            "k1k2k3k4": (0, 1, 2, 3), "fisheye": (0, 1, 2, 3),
            "k1k2p1p2": (0, 1, 2, 3), "k1k2p1p2k3": (0, 1, 2, 3)}
#: Accepted ``intrinsics_model`` names.
INTRINSICS_MODELS = tuple(sorted(set(_PINHOLE) | set(_FISHEYE), key=len))


def distortion_slots(model: str, fisheye: bool) -> tuple[int, ...]:
    """Positions in OpenCV's distortion vector that an intrinsics model refines.

    Parameters
    ----------
    model : str
        One of :data:`INTRINSICS_MODELS`. Pinhole cameras: ``"none"``, ``"k1"``, ``"k1k2"``,
        ``"k1k2p1p2"``, ``"k1k2p1p2k3"``. Fisheye cameras: ``"none"``, ``"k1"``, ``"k1k2"``,
        ``"k1k2k3"``, ``"k1k2k3k4"`` (alias ``"fisheye"``); the full pinhole names
        ``"k1k2p1p2"`` and ``"k1k2p1p2k3"`` select the full fisheye model ``k1 .. k4``.
    fisheye : bool

    Returns
    -------
    slots : tuple of int
        Indices into the padded coefficient vector (14 pinhole, 4 fisheye).
    """
    table = _FISHEYE if fisheye else _PINHOLE
    if model not in table:
        kind = "fisheye" if fisheye else "pinhole"
        raise ValueError(f"intrinsics_model {model!r} does not apply to {kind} cameras; "
                         f"choose one of {sorted(table)}")
    return table[model]


def skew_matrix(v: np.ndarray) -> np.ndarray:
    """Cross-product matrices ``[v]_x`` with ``[v]_x w = v x w``.

    Parameters
    ----------
    v : (..., 3)

    Returns
    -------
    S : (..., 3, 3)
    """
    v = np.asarray(v, dtype=np.float64)
    S = np.zeros(v.shape[:-1] + (3, 3))
    S[..., 0, 1], S[..., 0, 2] = -v[..., 2], v[..., 1]
    S[..., 1, 0], S[..., 1, 2] = v[..., 2], -v[..., 0]
    S[..., 2, 0], S[..., 2, 1] = -v[..., 1], v[..., 0]
    return S


def _cross_rows(a: np.ndarray, G: np.ndarray) -> np.ndarray:
    """``a x g`` for each row ``g`` of ``G``: a (m, 3), G (m, k, 3) -> (m, k, 3)."""
    ax, ay, az = (a[:, i, None] for i in range(3))
    gx, gy, gz = G[..., 0], G[..., 1], G[..., 2]
    return np.stack([ay * gz - az * gy, az * gx - ax * gz, ax * gy - ay * gx], axis=-1)


def right_jacobian(rvec: np.ndarray) -> np.ndarray:
    """Right Jacobian of SO(3): ``d(R(r) v)/dr = -R(r) [v]_x J_r(r)``.

    Parameters
    ----------
    rvec : (..., 3) radians

    Returns
    -------
    J_r : (..., 3, 3)
    """
    r = np.asarray(rvec, dtype=np.float64)
    t2 = np.einsum("...i,...i->...", r, r)
    t = np.sqrt(t2)
    small = t < 1e-2
    ts = np.where(small, 1.0, t)
    # series to t^4 where the closed forms cancel; truncation error < 1e-16 there
    a = np.where(small, 0.5 - t2 / 24 + t2 * t2 / 720, (1 - np.cos(ts)) / ts**2)
    b = np.where(small, 1 / 6 - t2 / 120 + t2 * t2 / 5040, (ts - np.sin(ts)) / ts**3)
    S = skew_matrix(r)
    return np.eye(3) - a[..., None, None] * S + b[..., None, None] * (S @ S)


def distortion_coefficient_jacobian(normalized: np.ndarray, dist: np.ndarray, fisheye: bool,
                                    slots: tuple[int, ...]) -> np.ndarray:
    """Derivative of distorted normalized coordinates with respect to distortion coefficients.

    Parameters
    ----------
    normalized : (..., 2)
        Ideal coordinates ``(X/Z, Y/Z)``.
    dist : (k,)
        All coefficients in OpenCV's order (the fixed ones enter the derivative).
    fisheye : bool
    slots : tuple of int
        Coefficients to differentiate: pinhole ``0 .. 4`` (k1, k2, p1, p2, k3), fisheye
        ``0 .. 3`` (k1 .. k4).

    Returns
    -------
    J : (..., 2, len(slots))
        ``d distort_normalized(normalized, dist) / d dist[slots]``.
    """
    xy = np.asarray(normalized, dtype=np.float64)
    d = projection.pad_distortion(dist, fisheye)
    x, y = xy[..., 0], xy[..., 1]
    J = np.zeros(xy.shape[:-1] + (2, len(slots)))
    if fisheye:
        r = np.hypot(x, y)
        theta = np.arctan(r)
        small = r < 1e-8
        ratio = np.where(small, 1.0, theta / np.where(small, 1.0, r))  # theta / r
        t2 = theta * theta
        for j, s in enumerate(slots):  # d theta_d / d k_s = theta^(2s+3)
            J[..., :, j] = xy * (ratio * t2 ** (s + 1))[..., None]
        return J
    r2 = x * x + y * y
    den = 1 + r2 * (d[5] + r2 * (d[6] + r2 * d[7]))
    cols = {0: (x * r2 / den, y * r2 / den),
            1: (x * r2**2 / den, y * r2**2 / den),
            2: (2 * x * y, r2 + 2 * y * y),
            3: (r2 + 2 * x * x, 2 * x * y),
            4: (x * r2**3 / den, y * r2**3 / den)}
    for j, s in enumerate(slots):
        J[..., 0, j], J[..., 1, j] = cols[s]
    if d[12] != 0 or d[13] != 0:  # tilted sensor: chain with the tilt homography
        flat = d.copy()
        flat[12:] = 0.0
        pre = projection.distort_normalized(xy, flat)
        T = projection.tilt_matrix(d[12], d[13])
        v = pre @ T[:, :2].T + T[:, 2]
        inv = 1.0 / v[..., 2]
        Jt = np.empty(xy.shape[:-1] + (2, 2))
        for i in range(2):
            for k in range(2):
                Jt[..., i, k] = (T[i, k] * v[..., 2] - v[..., i] * T[2, k]) * inv * inv
        J = Jt @ J
    return J


def wrap_rotations(params: np.ndarray) -> np.ndarray:
    """Pose rows whose Rodrigues vector is longer than pi, replaced by the equivalent shorter
    one (same rotation; keeps the parametrisation away from its singularity at 2 pi).

    Parameters
    ----------
    params : (n, k >= 3)
        Rows starting with a Rodrigues vector.
    """
    r = params[:, :3]
    t = np.linalg.norm(r, axis=1)
    wrap = t > np.pi
    if np.any(wrap):
        params = params.copy()
        params[wrap, :3] = r[wrap] * (1 - 2 * np.pi / t[wrap])[:, None]
    return params


def posable_observations(view: np.ndarray, points: np.ndarray, n_views: int,
                         keep: np.ndarray, min_corners: int = 4) -> np.ndarray:
    """Kept observations of views whose kept corners fix the board pose: at least
    ``min_corners`` of them, not all on one line (a line leaves the spin about it free).

    Parameters
    ----------
    view : (n_obs,) int
    points : (n_obs, 3) board-frame coordinates of each observed corner
    keep : (n_obs,) bool
    min_corners : int

    Returns
    -------
    posable : (n_obs,) bool
    """
    w = keep.astype(np.float64)
    n = np.bincount(view, w, minlength=n_views)
    mean = np.stack([np.bincount(view, w * points[:, i], minlength=n_views) for i in range(3)],
                    axis=1) / np.maximum(n, 1)[:, None]
    d = (points - mean[view]) * w[:, None]
    cov = np.zeros((n_views, 3, 3))
    for i in range(3):
        for j in range(i, 3):
            cov[:, i, j] = cov[:, j, i] = np.bincount(view, d[:, i] * d[:, j], minlength=n_views)
    ev = np.linalg.eigvalsh(cov)  # ascending
    planar = ev[:, 1] > 1e-9 * np.maximum(ev[:, 2], 1e-300)
    return keep & (n[view] >= min_corners) & planar[view]


@dataclass(eq=False)
class BundleModel:
    """Observations and fixed quantities of a bundle adjustment; evaluates residuals and Jacobians.

    Parameters
    ----------
    cameras : list of Camera
        Initial cameras; their skew, image size and unrefined coefficients stay fixed.
    object_points : (n_points, 3) board units, board frame
    cam_idx, view_idx, point_idx : (n_obs,) int
    observations : (n_obs, 2) px, finite
    n_views : int
    slots : list of tuple of int
        Refined distortion coefficients of each camera (:func:`distortion_slots`), or ``None``
        to keep all intrinsics fixed.
    """

    cameras: list[Camera]
    object_points: np.ndarray
    cam_idx: np.ndarray
    view_idx: np.ndarray
    point_idx: np.ndarray
    observations: np.ndarray
    n_views: int
    slots: list[tuple[int, ...]] | None

    @property
    def n_cam_params(self) -> int:
        """Parameters per camera: 6, or 10 plus the most refined distortion coefficients."""
        if self.slots is None:
            return POSE_SIZE
        return POSE_SIZE + 4 + max((len(s) for s in self.slots), default=0)

    def pack(self, board_rvecs: np.ndarray, board_tvecs: np.ndarray):
        """Parameter arrays of the initial cameras and the given board poses.

        Returns
        -------
        cam_params : (n_cams, n_cam_params)
        view_params : (n_views, 6)
        """
        cp = np.zeros((len(self.cameras), self.n_cam_params))
        for c, cam in enumerate(self.cameras):
            cp[c, :3], cp[c, 3:6] = cam.rvec, cam.tvec
            if self.slots is not None:
                K = cam.matrix
                cp[c, 6:10] = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
                d = projection.pad_distortion(cam.dist, cam.fisheye)
                cp[c, 10:10 + len(self.slots[c])] = d[list(self.slots[c])]
        vp = np.concatenate([board_rvecs, board_tvecs], axis=1).astype(np.float64)
        return cp, vp

    def intrinsics(self, c: int, cp_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Camera matrix ``(3, 3)`` and distortion ``(k,)`` of camera ``c`` at ``cp_c``."""
        cam = self.cameras[c]
        if self.slots is None:
            return cam.matrix, cam.dist
        K = cam.matrix.copy()
        K[0, 0], K[1, 1], K[0, 2], K[1, 2] = cp_c[6:10]
        slots = self.slots[c]
        need = max(slots, default=-1) + 1
        n = 4 if cam.fisheye else min(x for x in projection.N_DIST_PINHOLE
                                      if x >= max(need, cam.dist.size))
        d = projection.pad_distortion(cam.dist, cam.fisheye)
        d[list(slots)] = cp_c[10:10 + len(slots)]
        return K, d[:n]

    def cameras_at(self, cam_params: np.ndarray) -> list[Camera]:
        """Copies of the cameras with the given parameters."""
        out = []
        for c, cam in enumerate(self.cameras):
            K, d = self.intrinsics(c, cam_params[c])
            out.append(cam.copy(matrix=K, dist=d, rvec=cam_params[c, :3].copy(),
                                tvec=cam_params[c, 3:6].copy()))
        return out

    def board_in_world(self, view_params: np.ndarray) -> np.ndarray:
        """(n_views, n_points, 3) board corners in the world frame."""
        R = rodrigues_to_matrix(view_params[:, :3])
        return self.object_points @ R.transpose(0, 2, 1) + view_params[:, None, 3:]

    def camera_residuals(self, c: int, cp_c: np.ndarray, world: np.ndarray,
                         sel: slice | np.ndarray) -> np.ndarray:
        """Residuals ``(m, 2)`` px of observations ``sel`` (all of camera ``c``)."""
        Xw = world[self.view_idx[sel], self.point_idx[sel]]
        Xc = Xw @ rodrigues_to_matrix(cp_c[:3]).T + cp_c[3:6]
        K, d = self.intrinsics(c, cp_c)
        return projection.project_camera_points(Xc, K, d, self.cameras[c].fisheye) \
            - self.observations[sel]

    def residuals(self, cam_params: np.ndarray, view_params: np.ndarray) -> np.ndarray:
        """(n_obs, 2) px, projection minus observation."""
        world = self.board_in_world(view_params)
        out = np.empty_like(self.observations)
        for c in range(len(self.cameras)):
            sel = np.flatnonzero(self.cam_idx == c)
            out[sel] = self.camera_residuals(c, cam_params[c], world, sel)
        return out

    def view_terms(self, view_params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World board corners ``(n_views, n_points, 3)`` and ``R(r_v) J_r(r_v)``
        ``(n_views, 3, 3)``, shared by all cameras' Jacobians."""
        R = rodrigues_to_matrix(view_params[:, :3])
        world = self.object_points @ R.transpose(0, 2, 1) + view_params[:, None, 3:]
        return world, R @ right_jacobian(view_params[:, :3])

    def camera_blocks(self, c: int, cp_c: np.ndarray, view_params: np.ndarray,
                      terms: tuple[np.ndarray, np.ndarray], sel: slice | np.ndarray):
        """Residuals and Jacobian blocks of observations ``sel``, all of camera ``c``.

        Returns
        -------
        r : (m, 2) px
        J_cam : (m, 2, n_cam_params)
            ``d r / d cam_params[c]``.
        J_view : (m, 2, 6)
            ``d r / d view_params[view_idx[sel]]``.
        """
        world, RJ_view = terms
        v = self.view_idx[sel]
        Xw = world[v, self.point_idx[sel]]  # (m, 3)
        Rc = rodrigues_to_matrix(cp_c[:3])
        Xc = Xw @ Rc.T + cp_c[3:6]
        K, d = self.intrinsics(c, cp_c)
        fisheye = self.cameras[c].fisheye
        pix, Jp = projection.project_camera_points(Xc, K, d, fisheye, jacobian=True)
        m = len(Xw)
        Jc = np.zeros((m, 2, self.n_cam_params))
        Jv = np.empty((m, 2, POSE_SIZE))
        G = Jp @ Rc  # d pixel / d X_world, (m, 2, 3)
        # d pixel / d r_c = -G [X_w]_x J_r(r_c); row g: (X_w x g)^T J_r
        Jc[:, :, :3] = _cross_rows(Xw, G) @ right_jacobian(cp_c[:3])
        Jc[:, :, 3:6] = Jp
        # d pixel / d r_v = -G [R_v X_k]_x R_v J_r(r_v)
        Jv[:, :, :3] = _cross_rows(Xw - view_params[v, 3:], G) @ RJ_view[v]
        Jv[:, :, 3:] = G
        if self.slots is not None:
            dn = projection.pixels_to_normalized(pix, K)  # distorted normalized
            Jc[:, 0, 6], Jc[:, 1, 7] = dn[:, 0], dn[:, 1]
            Jc[:, 0, 8], Jc[:, 1, 9] = 1.0, 1.0
            slots = self.slots[c]
            if slots:
                Dd = distortion_coefficient_jacobian(Xc[:, :2] / Xc[:, 2:], d, fisheye, slots)
                Jc[:, 0, 10:10 + len(slots)] = K[0, 0] * Dd[:, 0] + K[0, 1] * Dd[:, 1]
                Jc[:, 1, 10:10 + len(slots)] = K[1, 1] * Dd[:, 1]
        return pix - self.observations[sel], Jc, Jv

    def sparse_jacobian(self, cam_params: np.ndarray, view_params: np.ndarray) -> sp.csr_matrix:
        """Jacobian of the stacked residuals as a sparse matrix.

        Rows ``2 i`` and ``2 i + 1`` are observation ``i``'s x and y residuals; columns are
        ``cam_params.ravel()`` followed by ``view_params.ravel()``.

        Returns
        -------
        J : (2 n_obs, n_cams * n_cam_params + 6 n_views) CSR
        """
        n_obs, p = len(self.observations), self.n_cam_params
        terms = self.view_terms(view_params)
        Jc = np.empty((n_obs, 2, p))
        Jv = np.empty((n_obs, 2, POSE_SIZE))
        for c in range(len(self.cameras)):
            sel = np.flatnonzero(self.cam_idx == c)
            _, Jc[sel], Jv[sel] = self.camera_blocks(c, cam_params[c], view_params, terms, sel)
        cols_c = self.cam_idx[:, None] * p + np.arange(p)
        cols_v = len(self.cameras) * p + self.view_idx[:, None] * POSE_SIZE + np.arange(6)
        cols = np.repeat(np.concatenate([cols_c, cols_v], axis=1), 2, axis=0)  # (2 n_obs, q)
        data = np.concatenate([Jc, Jv], axis=2).reshape(2 * n_obs, -1)
        q = data.shape[1]
        shape = (2 * n_obs, len(self.cameras) * p + POSE_SIZE * self.n_views)
        return sp.csr_matrix((data.ravel(), cols.ravel(), np.arange(0, 2 * n_obs * q + 1, q)),
                             shape=shape)
