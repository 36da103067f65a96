"""Initial rig extrinsics from board poses: PnP per detection, a co-visibility graph, robust
pairwise relative poses (rotation averaging) and a spanning tree from the best-connected camera.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from .board import Board
from .camera import Camera
from .errors import CalibrationError
from .projection import project_camera_points
from .rotation import matrix_to_rodrigues, rodrigues_to_matrix, rotation_angle_deg

__all__ = ["BoardPoses", "board_poses_in_cameras", "average_rotations", "covisibility",
           "initial_extrinsics", "format_covisibility"]

log = logging.getLogger(__name__)


@dataclass
class BoardPoses:
    """Board pose seen by each camera in each frame (board to camera).

    Attributes
    ----------
    R : (n_cams, n_frames, 3, 3)
    t : (n_cams, n_frames, 3) board units
    valid : (n_cams, n_frames) bool
    error_px : (n_cams, n_frames) RMS reprojection error of the PnP fit (NaN if invalid)
    """

    R: np.ndarray
    t: np.ndarray
    valid: np.ndarray
    error_px: np.ndarray


def board_poses_in_cameras(corners: np.ndarray, cameras: list[Camera], board: Board,
                           min_corners: int = 6, max_error_px: float = 5.0) -> BoardPoses:
    """PnP pose of the board in every camera and frame with enough corners.

    Parameters
    ----------
    corners : (n_cams, n_frames, n_corners, 2) pixels, NaN where not seen
    cameras : list of n_cams Camera (intrinsics used)
    board : Board
    min_corners : int
    max_error_px : float
        Poses whose RMS reprojection error exceeds this are marked invalid.

    Returns
    -------
    BoardPoses
    """
    n_cams, n_frames = corners.shape[:2]
    obj = board.object_points()
    R = np.tile(np.eye(3), (n_cams, n_frames, 1, 1))
    t = np.zeros((n_cams, n_frames, 3))
    valid = np.zeros((n_cams, n_frames), bool)
    err = np.full((n_cams, n_frames), np.nan)
    for c, cam in enumerate(cameras):
        seen = np.isfinite(corners[c, :, :, 0])
        frames = np.flatnonzero(seen.sum(1) >= min_corners)
        if not len(frames):
            continue
        px = corners[c, frames]  # (k, n_corners, 2)
        m_all = seen[frames]
        # undistorted normalized coordinates (one batched call): one PnP for pinhole and
        # fisheye alike
        xy = np.full_like(px, np.nan)
        xy[m_all] = cam.undistort(px[m_all])
        rv = np.zeros((len(frames), 3))
        tv = np.zeros((len(frames), 3))
        ok = np.zeros(len(frames), bool)
        eye = np.eye(3)
        for j in range(len(frames)):
            m = m_all[j]
            good, r, tt = cv2.solvePnP(obj[m], xy[j, m].reshape(-1, 1, 2), eye, None,
                                       flags=cv2.SOLVEPNP_IPPE)
            if good:
                rv[j], tv[j], ok[j] = r.ravel(), tt.ravel(), True
        ok &= tv[:, 2] > 0
        Rk = rodrigues_to_matrix(rv)
        pts = np.einsum("kij,nj->kni", Rk, obj) + tv[:, None]  # (k, n_corners, 3) camera
        proj = project_camera_points(pts, cam.matrix, cam.dist, cam.fisheye)
        sq = np.where(m_all, np.sum((proj - px) ** 2, -1), 0.0)
        e = np.sqrt(sq.sum(1) / m_all.sum(1))
        fs = frames[ok]
        err[c, fs] = e[ok]
        good = ok & (e <= max_error_px)
        R[c, frames[good]] = Rk[good]
        t[c, frames[good]] = tv[good]
        valid[c, frames[good]] = True
    return BoardPoses(R, t, valid, err)


def average_rotations(Rs: np.ndarray, inlier_deg: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Robust average of rotations: the medoid, then the chordal mean of its inliers.

    Parameters
    ----------
    Rs : (m, 3, 3)
    inlier_deg : float
        Minimum inlier radius around the medoid (grows with the spread of the samples).

    Returns
    -------
    R : (3, 3)
    inliers : (m,) bool
    """
    m = len(Rs)
    sample = np.linspace(0, m - 1, min(m, 200)).astype(int)
    d = rotation_angle_deg(Rs[sample][:, None], Rs[sample][None])  # (s, s)
    medoid = Rs[sample[np.argmin(d.sum(1))]]
    dist = rotation_angle_deg(Rs, medoid[None])
    radius = max(inlier_deg, 3.0 * float(np.median(dist)))
    inl = dist <= radius
    U, _, Vt = np.linalg.svd(Rs[inl].sum(0))
    Rm = U @ np.diag([1, 1, np.sign(np.linalg.det(U @ Vt))]) @ Vt
    return Rm, inl


def covisibility(valid: np.ndarray) -> np.ndarray:
    """(n_cams, n_cams) int: frames in which both cameras have a board pose."""
    v = valid.astype(np.int64)
    return v @ v.T


def format_covisibility(counts: np.ndarray, names: list[str]) -> str:
    """The co-visibility table as aligned text."""
    w = max(6, *(len(n) for n in names)) + 1
    lines = [" " * w + "".join(f"{n:>{w}}" for n in names)]
    for n, row in zip(names, counts, strict=True):
        lines.append(f"{n:>{w}}" + "".join(f"{int(c):>{w}}" for c in row))
    return "\n".join(lines)


def _relative_pose(poses: BoardPoses, i: int, j: int):
    """Robust pose of camera i relative to camera j (X_i = R X_j + t)."""
    both = np.flatnonzero(poses.valid[i] & poses.valid[j])
    Ri, ti = poses.R[i, both], poses.t[i, both]
    Rj, tj = poses.R[j, both], poses.t[j, both]
    Rij = Ri @ np.swapaxes(Rj, -1, -2)
    tij = ti - np.einsum("nab,nb->na", Rij, tj)
    R, inl = average_rotations(Rij)
    t = np.median(tij[inl], axis=0)
    return R, t


def initial_extrinsics(poses: BoardPoses, names: list[str]):
    """Camera extrinsics (world = the first camera's frame) and board poses in the world.

    Parameters
    ----------
    poses : BoardPoses
    names : list of n_cams str

    Returns
    -------
    rvecs, tvecs : (n_cams, 3)
        World to camera.
    board_R, board_t : (n_frames, 3, 3), (n_frames, 3)
        Board to world (NaN for frames without a valid pose in any camera).

    Raises
    ------
    CalibrationError
        When cameras share no board views, listing the groups and the co-visibility table.
    """
    n_cams = len(names)
    counts = covisibility(poses.valid)
    adj = counts.copy()
    np.fill_diagonal(adj, 0)
    n_comp, labels = connected_components(adj > 0, directed=False)
    if n_comp > 1:
        groups = [[names[k] for k in np.flatnonzero(labels == g)] for g in range(n_comp)]
        raise CalibrationError(
            "cameras are not connected by shared board views; groups that see the board "
            f"together: {groups}. Record frames where the board is visible to cameras of "
            f"different groups at once.\nco-visibility (frames with a board pose in both):\n"
            + format_covisibility(counts, names))
    root = int(np.argmax(adj.sum(1)))
    # maximum spanning tree over co-visibility counts
    weight = np.where(adj > 0, adj.max() + 1 - adj, 0)
    tree = minimum_spanning_tree(weight).toarray()
    tree = (tree + tree.T) > 0
    R_world = np.zeros((n_cams, 3, 3))  # camera from root
    t_world = np.zeros((n_cams, 3))
    R_world[root] = np.eye(3)
    done = {root}
    queue = deque([root])
    while queue:
        i = queue.popleft()
        for j in np.flatnonzero(tree[i]):
            if j in done:
                continue
            Rji, tji = _relative_pose(poses, j, i)
            R_world[j] = Rji @ R_world[i]
            t_world[j] = Rji @ t_world[i] + tji
            done.add(int(j))
            queue.append(int(j))
            log.debug("camera %s from %s over %d shared views", names[j], names[i], adj[i, j])
    # re-express with camera 0 as the world frame
    R0, t0 = R_world[0], t_world[0]
    R_cam = R_world @ R0.T
    t_cam = t_world - np.einsum("cab,b->ca", R_cam, t0)
    # board to world from every camera that sees it, robustly combined
    n_frames = poses.valid.shape[1]
    board_R = np.full((n_frames, 3, 3), np.nan)
    board_t = np.full((n_frames, 3), np.nan)
    Rt = np.swapaxes(R_cam, -1, -2)
    for f in np.flatnonzero(poses.valid.any(0)):
        cams = np.flatnonzero(poses.valid[:, f])
        Rwb = Rt[cams] @ poses.R[cams, f]
        twb = np.einsum("cab,cb->ca", Rt[cams], poses.t[cams, f] - t_cam[cams])
        if len(cams) > 2:
            board_R[f], inl = average_rotations(Rwb)
            board_t[f] = np.median(twb[inl], axis=0)
        else:
            best = int(np.argmin(poses.error_px[cams, f]))
            board_R[f], board_t[f] = Rwb[best], twb[best]
    return matrix_to_rodrigues(R_cam), t_cam, board_R, board_t
