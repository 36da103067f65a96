"""Per-camera intrinsics from board detections: view selection, OpenCV solve, outlier views."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from .board import Board
from .camera import Camera
from .detect import Detections
from .errors import CalibrationError

__all__ = ["DISTORTION_MODELS", "IntrinsicsResult", "select_views", "calibrate_intrinsics"]

log = logging.getLogger(__name__)

#: Distortion models: OpenCV flags and how many coefficients are estimated.
DISTORTION_MODELS = {
    "none": cv2.CALIB_FIX_K1 | cv2.CALIB_FIX_K2 | cv2.CALIB_FIX_K3 | cv2.CALIB_ZERO_TANGENT_DIST,
    "k1": cv2.CALIB_FIX_K2 | cv2.CALIB_FIX_K3 | cv2.CALIB_ZERO_TANGENT_DIST,
    "k1k2": cv2.CALIB_FIX_K3 | cv2.CALIB_ZERO_TANGENT_DIST,
    "k1k2p1p2": cv2.CALIB_FIX_K3,
    "k1k2p1p2k3": 0,
    "rational": cv2.CALIB_RATIONAL_MODEL,
}


@dataclass
class IntrinsicsResult:
    """Intrinsics of one camera and the views they came from.

    Attributes
    ----------
    camera : Camera
        Intrinsics set, extrinsics zero.
    views : (n_used,) int
        Rows of the detections used.
    view_rms_px : (n_used,) float
        RMS reprojection error of each used view.
    rejected : (n_rejected,) int
        Rows dropped as outlier views.
    rms_px : float
    model : str
        The distortion model solved for (``"fisheye"`` for Kannala-Brandt).
    """

    camera: Camera
    views: np.ndarray
    view_rms_px: np.ndarray
    rejected: np.ndarray
    rms_px: float
    model: str = ""


def select_views(corners: np.ndarray, image_size: tuple[int, int], max_views: int = 40,
                 min_corners: int = 8, grid: tuple[int, int] = (8, 6)) -> np.ndarray:
    """Pick well-spread views: greedy coverage of the image, then variety of board shape.

    Parameters
    ----------
    corners : (n_frames, n_corners, 2) pixels (NaN where not seen)
    image_size : (width, height)
    max_views : int
    min_corners : int
        Views with fewer corners are not considered.
    grid : (nx, ny)
        Cells over which coverage is counted.

    Returns
    -------
    rows : (n_selected,) int, sorted
    """
    seen = np.isfinite(corners[..., 0])
    cand = np.flatnonzero(seen.sum(1) >= min_corners)
    if len(cand) <= max_views:
        return cand
    w, h = image_size
    gx = np.clip((np.nan_to_num(corners[cand, :, 0], nan=-1) / w * grid[0]).astype(int), -1,
                 grid[0] - 1)
    gy = np.clip((np.nan_to_num(corners[cand, :, 1], nan=-1) / h * grid[1]).astype(int), -1,
                 grid[1] - 1)
    cells = np.zeros((len(cand), grid[0] * grid[1]), bool)
    rows = np.repeat(np.arange(len(cand))[:, None], corners.shape[1], 1)
    ok = seen[cand] & (gx >= 0) & (gy >= 0)
    cells[rows[ok], (gy * grid[0] + gx)[ok]] = True
    # shape descriptor: apparent size and aspect (a proxy for distance and tilt)
    spread = np.nanstd(corners[cand], axis=1)  # (n, 2)
    desc = np.c_[np.log(spread + 1e-3), np.nanmean(corners[cand], 1) / [w, h]]
    chosen: list[int] = []
    covered = np.zeros(cells.shape[1], int)
    for _ in range(max_views):
        gain = (cells & (covered == covered.min())[None]).sum(1).astype(float)
        if chosen:
            d = np.linalg.norm(desc[:, None] - desc[chosen][None], axis=-1).min(1)
        else:
            d = np.zeros(len(cand))
        score = gain + 2.0 * d + 1e-3 * seen[cand].sum(1)
        score[chosen] = -np.inf
        k = int(np.argmax(score))
        chosen.append(k)
        covered += cells[k]
    return np.sort(cand[chosen])


def _view_arrays(board: Board, corners: np.ndarray, rows: np.ndarray):
    obj = board.object_points().astype(np.float32)
    objs, imgs = [], []
    for r in rows:
        m = np.isfinite(corners[r, :, 0])
        objs.append(obj[m].reshape(-1, 1, 3))
        imgs.append(corners[r, m].astype(np.float32).reshape(-1, 1, 2))
    return objs, imgs


def _solve(board, corners, rows, size, fisheye, model, K0=None):
    objs, imgs = _view_arrays(board, corners, rows)
    if fisheye:
        flags = cv2.fisheye.CALIB_RECOMPUTE_EXTRINSIC | cv2.fisheye.CALIB_FIX_SKEW
        K = np.eye(3) if K0 is None else K0.copy()
        if K0 is not None:
            flags |= cv2.fisheye.CALIB_USE_INTRINSIC_GUESS
        crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-9)
        rms, K, D, rvecs, tvecs = cv2.fisheye.calibrate(objs, imgs, size, K, np.zeros(4),
                                                        flags=flags, criteria=crit)
        D = D.ravel()
    else:
        flags = DISTORTION_MODELS[model]
        crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-9)
        rms, K, D, rvecs, tvecs = cv2.calibrateCamera(objs, imgs, size, None, None, flags=flags,
                                                      criteria=crit)
        D = D.ravel()
        D = D[:8] if model == "rational" else D[:5]
    per_view = []
    for o, i, rv, tv in zip(objs, imgs, rvecs, tvecs, strict=True):
        if fisheye:
            p, _ = cv2.fisheye.projectPoints(o, rv, tv, K, D)
        else:
            p, _ = cv2.projectPoints(o, rv, tv, K, D)
        per_view.append(np.sqrt(np.mean(np.sum((p - i).reshape(-1, 2) ** 2, -1))))
    return K, D, np.array(per_view), float(rms)


def calibrate_intrinsics(det: Detections, board: Board, fisheye: bool = False,
                         model: str = "k1k2p1p2", max_views: int = 40, min_corners: int = 8,
                         reject_factor: float = 3.0) -> IntrinsicsResult:
    """Intrinsics of one camera from its detections.

    Parameters
    ----------
    det : Detections
    board : Board
    fisheye : bool
        Kannala-Brandt model (4 coefficients) instead of pinhole.
    model : str
        Pinhole distortion model, one of :data:`DISTORTION_MODELS`.
    max_views : int
        Views used (well spread, see :func:`select_views`).
    min_corners : int
    reject_factor : float
        Views whose RMS exceeds ``max(reject_factor * median, 1 px)`` are dropped and the
        solve repeated.

    Returns
    -------
    IntrinsicsResult

    Raises
    ------
    CalibrationError
        Too few usable views, naming the camera.
    """
    if model not in DISTORTION_MODELS:
        raise ValueError(f"unknown distortion model {model!r}; choose one of "
                         f"{list(DISTORTION_MODELS)}")
    rows = select_views(det.corners, det.image_size, max_views, min_corners)
    if len(rows) < 3:
        raise CalibrationError(
            f"camera {det.camera!r}: only {len(rows)} view(s) with >= {min_corners} board corners "
            f"(of {len(det.frame_ids)} frames); intrinsics need at least 3, better 15+ views "
            f"covering the image at varied tilts")
    try:
        K, D, per_view, rms = _solve(board, det.corners, rows, det.image_size, fisheye, model)
        bad = per_view > max(reject_factor * np.median(per_view), 1.0)
        rejected = rows[bad]
        if bad.any() and (~bad).sum() >= 3:
            rows = rows[~bad]
            K, D, per_view, rms = _solve(board, det.corners, rows, det.image_size, fisheye,
                                         model, K0=K)
    except cv2.error as exc:
        raise CalibrationError(
            f"camera {det.camera!r}: OpenCV could not solve the intrinsics from {len(rows)} "
            f"views ({str(exc).strip().splitlines()[-1]}); add views with the board tilted and "
            f"nearer the image corners") from None
    cam = Camera(name=det.camera, size=det.image_size, matrix=K, dist=D, fisheye=fisheye)
    log.info("camera %s: intrinsics from %d views, rms %.3f px (%d views rejected)",
             det.camera, len(rows), rms, len(rejected))
    return IntrinsicsResult(cam, rows, per_view, rejected, rms,
                            "fisheye" if fisheye else model)
