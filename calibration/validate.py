"""Independent checks of a calibration: triangulated board corners against the board's geometry.

Anipose's paper measures calibration quality this way: corners seen by two or more cameras are
triangulated (linear, undistorted) and the distances between neighbouring corners compared with
the printed square length.
"""

from __future__ import annotations

import numpy as np

from .board import Board
from .rig import CameraRig

__all__ = ["triangulate_linear", "board_length_errors", "compare_rigs", "rigid_alignment"]


def triangulate_linear(rig: CameraRig, points2d: np.ndarray) -> np.ndarray:
    """Unweighted linear (DLT) triangulation on undistorted points, vectorized.

    Parameters
    ----------
    rig : CameraRig
    points2d : (n_cams, ..., 2) pixels, NaN where missing

    Returns
    -------
    points3d : (..., 3) rig units; NaN where fewer than 2 cameras see the point
    """
    p = np.asarray(points2d, dtype=np.float64)
    shape = p.shape[1:-1]
    xy = rig.undistort(p).reshape(rig.n_cams, -1, 2)
    P = rig.projection_matrices(normalized=True)  # (c, 3, 4)
    ok = np.isfinite(xy).all(-1)  # (c, n)
    xy = np.where(ok[..., None], xy, 0.0)
    # rows x*P2 - P0 and y*P2 - P1, zeroed for missing views: (n, 2c, 4)
    A = np.concatenate([xy[..., 0:1] * P[:, None, 2] - P[:, None, 0],
                        xy[..., 1:2] * P[:, None, 2] - P[:, None, 1]], axis=0)
    A = A * np.concatenate([ok, ok], axis=0)[..., None]
    A = np.swapaxes(A, 0, 1)
    _, _, Vt = np.linalg.svd(A)
    X = Vt[:, -1]
    seen = ok.sum(0) >= 2  # points of fewer views have an all-zero A: w = 0, no division
    with np.errstate(divide="ignore", invalid="ignore"):
        out = X[:, :3] / X[:, 3:]
    out[~seen] = np.nan
    return out.reshape(shape + (3,))


def board_length_errors(rig: CameraRig, corners: np.ndarray, board: Board) -> np.ndarray:
    """Neighbouring-corner distance errors of triangulated board corners.

    Parameters
    ----------
    rig : CameraRig
    corners : (n_cams, n_frames, n_corners, 2) pixels
    board : Board

    Returns
    -------
    errors : (n_pairs,) board units
        ``|X_a - X_b| - square_length`` for horizontally and vertically adjacent corners seen
        by 2+ cameras.
    """
    X = triangulate_linear(rig, corners)  # (n_frames, n_corners, 3)
    nx, ny = board.inner_corners
    grid = X.reshape(X.shape[0], ny, nx, 3)
    dx = np.linalg.norm(grid[:, :, 1:] - grid[:, :, :-1], axis=-1).ravel()
    dy = np.linalg.norm(grid[:, 1:] - grid[:, :-1], axis=-1).ravel()
    d = np.concatenate([dx, dy])
    return d[np.isfinite(d)] - board.square_length


def compare_rigs(estimate: CameraRig, truth: CameraRig, names: list[str] | None = None) -> dict:
    """Errors of an estimated rig against the truth after the best rigid alignment.

    The estimate's world frame is arbitrary (gauge), so it is first mapped onto the truth's by
    the rigid transform that best aligns the camera poses (chordal mean of the per-camera
    rotations, then a least-squares translation of the centres).

    Parameters
    ----------
    estimate, truth : CameraRig
        Same units; cameras matched by name.
    names : list of str, optional
        Cameras to compare (default: the truth's).

    Returns
    -------
    dict
        Per camera ``focal_error_pct``, ``principal_point_error_px``, ``rotation_error_deg``,
        ``center_error`` (rig units), plus their maxima under ``max_*``.
    """
    from .rotation import rotation_angle_deg

    names = list(names or truth.names)
    R, t = rigid_alignment(estimate, truth, names)
    Re = np.stack([estimate[n].R for n in names])
    Rt = np.stack([truth[n].R for n in names])
    ce = np.stack([estimate[n].center for n in names])
    ct = np.stack([truth[n].center for n in names])
    aligned_c = ce @ R.T + t
    aligned_R = Re @ R.T
    out = {"cameras": {}}
    for k, n in enumerate(names):
        fe, ft = np.array(estimate[n].focal), np.array(truth[n].focal)
        pe, pt = np.array(estimate[n].principal_point), np.array(truth[n].principal_point)
        out["cameras"][n] = {
            "focal_error_pct": float(100 * np.max(np.abs(fe - ft) / ft)),
            "principal_point_error_px": float(np.linalg.norm(pe - pt)),
            "rotation_error_deg": float(rotation_angle_deg(aligned_R[k], Rt[k])),
            "center_error": float(np.linalg.norm(aligned_c[k] - ct[k])),
        }
    for key in ("focal_error_pct", "principal_point_error_px", "rotation_error_deg",
                "center_error"):
        out[f"max_{key}"] = max(c[key] for c in out["cameras"].values())
    return out


def rigid_alignment(estimate: CameraRig, truth: CameraRig,
                    names: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The rigid transform taking the estimate's world frame onto the truth's.

    Chordal mean of the per-camera rotations ``R_true^T R_est``, then the least-squares
    translation of the camera centres.

    Returns
    -------
    R : (3, 3), t : (3,)
        ``X_truth = R @ X_estimate + t``.
    """
    names = list(names or truth.names)
    Re = np.stack([estimate[n].R for n in names])
    Rt = np.stack([truth[n].R for n in names])
    U, _, Vt = np.linalg.svd((np.swapaxes(Rt, 1, 2) @ Re).sum(0))
    R = U @ np.diag([1, 1, np.sign(np.linalg.det(U @ Vt))]) @ Vt
    ce = np.stack([estimate[n].center for n in names])
    ct = np.stack([truth[n].center for n in names])
    return R, (ct - ce @ R.T).mean(0)
