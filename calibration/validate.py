"""Independent checks of a calibration: triangulated board corners against the board's geometry.

Anipose's paper measures calibration quality this way: corners seen by two or more cameras are
triangulated (linear, undistorted) and the distances between neighbouring corners compared with
the printed square length.
"""

from __future__ import annotations

import numpy as np

from .board import Board
from .rig import CameraRig

__all__ = ["triangulate_linear", "board_length_errors"]


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
    out = X[:, :3] / X[:, 3:]
    out[ok.sum(0) < 2] = np.nan
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
