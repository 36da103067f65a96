"""Batched rotation conversions: Rodrigues vectors and rotation matrices.

All functions are pure and vectorized over any number of leading axes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rodrigues_to_matrix", "matrix_to_rodrigues", "rotation_angle_deg"]


def rodrigues_to_matrix(rvec: np.ndarray) -> np.ndarray:
    """Rotation matrices from Rodrigues (axis-angle) vectors.

    Parameters
    ----------
    rvec : (..., 3) radians
        Axis times angle.

    Returns
    -------
    R : (..., 3, 3)
        Rotation matrices, equal to ``cv2.Rodrigues`` for each vector.
    """
    rvec = np.asarray(rvec, dtype=np.float64)
    theta = np.linalg.norm(rvec, axis=-1)[..., None, None]  # (..., 1, 1)
    small = theta < 1e-12
    safe = np.where(small, 1.0, theta)
    k = rvec / safe[..., 0]  # (..., 3)
    kx, ky, kz = k[..., 0], k[..., 1], k[..., 2]
    zero = np.zeros_like(kx)
    K = np.stack(
        [
            np.stack([zero, -kz, ky], axis=-1),
            np.stack([kz, zero, -kx], axis=-1),
            np.stack([-ky, kx, zero], axis=-1),
        ],
        axis=-2,
    )  # (..., 3, 3)
    s = np.sin(theta)
    c = np.cos(theta)
    eye = np.eye(3)
    R = eye + s * K + (1.0 - c) * (K @ K)
    # first-order expansion where the angle vanishes
    Kr = np.stack(
        [
            np.stack([zero, -rvec[..., 2], rvec[..., 1]], axis=-1),
            np.stack([rvec[..., 2], zero, -rvec[..., 0]], axis=-1),
            np.stack([-rvec[..., 1], rvec[..., 0], zero], axis=-1),
        ],
        axis=-2,
    )
    return np.where(small, eye + Kr, R)


def matrix_to_rodrigues(R: np.ndarray) -> np.ndarray:
    """Rodrigues vectors from rotation matrices (inverse of :func:`rodrigues_to_matrix`).

    Parameters
    ----------
    R : (..., 3, 3)
        Rotation matrices (orthonormalized first by SVD).

    Returns
    -------
    rvec : (..., 3) radians
    """
    R = np.asarray(R, dtype=np.float64)
    U, _, Vt = np.linalg.svd(R)
    R = U @ Vt
    v = np.stack(
        [R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]],
        axis=-1,
    )  # 2 sin(theta) axis
    sin = np.linalg.norm(v, axis=-1) / 2.0
    cos = (np.trace(R, axis1=-2, axis2=-1) - 1.0) / 2.0
    theta = np.arctan2(sin, cos)  # accurate over [0, pi]
    generic = sin > 1e-4
    scale = np.where(generic, theta / np.where(generic, 2.0 * sin, 1.0), 0.5)
    out = v * scale[..., None]
    # near pi, the antisymmetric part vanishes: take the axis from the symmetric part
    near_pi = (~generic) & (cos < 0)
    if np.any(near_pi):
        Rp = R[near_pi]
        c = cos[near_pi][:, None, None]
        A = ((Rp + np.swapaxes(Rp, -1, -2)) / 2.0 - c * np.eye(3)) / (1.0 - c)  # axis axis^T
        idx = np.argmax(np.diagonal(A, axis1=-2, axis2=-1), axis=-1)
        rows = A[np.arange(len(idx)), idx]  # (m, 3) = a_idx * a
        axis = rows / np.sqrt(np.clip(rows[np.arange(len(idx)), idx], 1e-300, None))[:, None]
        sign = np.where(np.einsum("mi,mi->m", axis, v[near_pi]) < 0, -1.0, 1.0)
        out[near_pi] = axis * (sign * theta[near_pi])[:, None]
    return out


def rotation_angle_deg(R1: np.ndarray, R2: np.ndarray) -> np.ndarray:
    """Angle of the relative rotation ``R1 @ R2.T``.

    Parameters
    ----------
    R1, R2 : (..., 3, 3)

    Returns
    -------
    angle : (...) degrees
    """
    Rr = np.asarray(R1) @ np.swapaxes(np.asarray(R2), -1, -2)
    cos = np.clip((np.trace(Rr, axis1=-2, axis2=-1) - 1.0) / 2.0, -1.0, 1.0)
    return np.degrees(np.arccos(cos))
