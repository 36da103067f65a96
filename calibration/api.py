"""``calibrate()``: board videos or images from N cameras to a refined :class:`CameraRig`.

Stages: detection (cached, parallel over cameras) -> per-camera intrinsics (or fixed from a
file) -> board poses by PnP -> robust initial extrinsics over the co-visibility graph ->
bundle adjustment of cameras and rigid board poses with a robust loss and outlier rejection ->
validation against the board's square length.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .board import Board
from .camera import Camera
from .detect import Detections
from .detect_sources import all_cached, detect_sources
from .errors import CalibrationError, InputError
from .extrinsics import board_poses_in_cameras, covisibility, initial_extrinsics
from .intrinsics import IntrinsicsResult, calibrate_intrinsics
from .load_rig import load_rig
from .rig import CameraRig
from .rotation import matrix_to_rodrigues
from .sources import parse_inputs
from .validate import board_length_errors

__all__ = ["CalibrationResult", "calibrate", "calibrate_detections", "align_detections"]

log = logging.getLogger(__name__)


@dataclass
class CalibrationResult:
    """A calibrated rig with what it was computed from.

    Attributes
    ----------
    rig : CameraRig
    report : dict
        Figures written to ``report.json`` (see :func:`calibrate`).
    corners : (n_cams, n_frames, n_corners, 2) pixels
        Aligned detections (NaN where not seen).
    frame_ids : (n_frames,) int
    residuals : (n_obs, 2) px, cam_idx, view_idx : (n_obs,), inlier : (n_obs,) bool
        Bundle-adjustment observations at the solution.
    board_rvecs, board_tvecs : (n_views, 3)
        Board-to-world poses of the views in the bundle adjustment; ``views`` maps them to
        rows of ``frame_ids``.
    """

    rig: CameraRig
    report: dict
    corners: np.ndarray
    frame_ids: np.ndarray
    board: Board
    residuals: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    cam_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    view_idx: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    inlier: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    views: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    board_rvecs: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    board_tvecs: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))


def align_detections(dets: Sequence[Detections]) -> tuple[np.ndarray, np.ndarray]:
    """Stack detections of several cameras on the union of their frame ids.

    Returns
    -------
    corners : (n_cams, n_frames, n_corners, 2) pixels, NaN where not seen
    frame_ids : (n_frames,) int
    """
    frame_ids = np.unique(np.concatenate([d.frame_ids for d in dets]))
    n_corners = dets[0].corners.shape[1]
    corners = np.full((len(dets), len(frame_ids), n_corners, 2), np.nan)
    for c, d in enumerate(dets):
        corners[c, np.searchsorted(frame_ids, d.frame_ids)] = d.corners
    return corners, frame_ids


def _choose_views(valid: np.ndarray, max_views: int, per_camera: int = 20,
                  per_pair: int = 5) -> np.ndarray:
    """Frames for the bundle adjustment: those seen by the most cameras, spread over time,
    with every camera's ``per_camera`` and every co-visible pair's ``per_pair`` best-seen
    frames kept, so that no camera or link of the rig is lost.

    Parameters
    ----------
    valid : (n_cams, n_frames) bool
        Board pose found.
    max_views : int

    Returns
    -------
    frames : (n_selected,) int, sorted
    """
    n_seen = valid.sum(0)
    frames = np.flatnonzero(n_seen > 0)
    if len(frames) <= max_views:
        return frames
    order = frames[np.lexsort((frames % 7, -n_seen[frames]))]  # deterministic tie-break
    chosen = np.zeros(valid.shape[1], bool)
    n_cams = valid.shape[0]
    for c in range(n_cams):
        chosen[order[valid[c, order]][:per_camera]] = True
        for c2 in range(c + 1, n_cams):
            chosen[order[valid[c, order] & valid[c2, order]][:per_pair]] = True
    extra = order[~chosen[order]][:max(0, max_views - int(chosen.sum()))]
    chosen[extra] = True
    return np.flatnonzero(chosen)


def calibrate_detections(
    dets: Sequence[Detections],
    board: Board,
    fisheye: bool = False,
    intrinsics: CameraRig | None = None,
    distortion_model: str = "k1k2p1p2",
    refine_intrinsics: bool = True,
    max_views: int = 150,
    outlier_threshold_px: float = 4.0,
) -> CalibrationResult:
    """Calibrate a rig from board detections (see :func:`calibrate`)."""
    t0 = time.perf_counter()
    names = [d.camera for d in dets]
    if len(dets) < 2:
        raise InputError(f"calibration needs at least 2 cameras, got {len(dets)}")
    corners, frame_ids = align_detections(dets)
    cams: list[Camera] = []
    intr_info = {}
    for d in dets:
        if intrinsics is not None:
            if d.camera not in intrinsics.names:
                raise InputError(f"--intrinsics file has no camera {d.camera!r}; it has "
                                 f"{intrinsics.names}")
            c = intrinsics[d.camera].copy(rvec=np.zeros(3), tvec=np.zeros(3))
            if tuple(c.size) != tuple(d.image_size) and all(c.size):
                raise InputError(f"camera {d.camera!r}: --intrinsics size {c.size} differs from "
                                 f"the images' {d.image_size}")
            cams.append(c)
        else:
            r = d.extra if isinstance(d.extra, IntrinsicsResult) else None
            if r is None or r.model != ("fisheye" if fisheye else distortion_model):
                r = calibrate_intrinsics(d, board, fisheye=fisheye, model=distortion_model)
            cams.append(r.camera)
            intr_info[d.camera] = {"n_views": int(len(r.views)), "rms_px": r.rms_px,
                                   "n_rejected_views": int(len(r.rejected))}
    t_intr = time.perf_counter()
    poses = board_poses_in_cameras(corners, cams, board)
    rvecs, tvecs, board_R, board_t = initial_extrinsics(poses, names)
    for c, cam in enumerate(cams):
        cam.rvec, cam.tvec = rvecs[c], tvecs[c]
    rig = CameraRig(cams, units=board.units)
    t_init = time.perf_counter()

    views = _choose_views(poses.valid, max_views)
    sub = corners[:, views]  # (n_cams, n_views, n_corners, 2)
    use = poses.valid[:, views][:, :, None] & np.isfinite(sub[..., 0])
    cam_idx, v_idx, pt_idx = np.nonzero(use)
    obs = sub[cam_idx, v_idx, pt_idx]
    from .bundle import bundle_adjust

    ba = bundle_adjust(
        rig, board.object_points(), cam_idx, v_idx, pt_idx, obs,
        matrix_to_rodrigues(board_R[views]), board_t[views],
        refine_intrinsics=refine_intrinsics and intrinsics is None,
        intrinsics_model="fisheye" if fisheye else distortion_model,
        outlier_threshold_px=outlier_threshold_px,
    )
    rig = ba.rig
    t_ba = time.perf_counter()

    err = np.linalg.norm(ba.residuals, axis=-1)
    inl = ba.inlier
    lengths = board_length_errors(rig, corners, board)
    counts = covisibility(poses.valid)
    report = {
        "cameras": {},
        "reprojection_median_px": float(np.median(err[inl])),
        "reprojection_rmse_px": float(np.sqrt(np.mean(err[inl] ** 2))),
        "reprojection_p95_px": float(np.percentile(err[inl], 95)),
        "n_frames": int(len(frame_ids)),
        "n_views": int(len(views)),
        "n_observations": int(len(err)),
        "n_outliers": int((~inl).sum()),
        "board_length_error": {
            "units": board.units,
            "n_pairs": int(len(lengths)),
            "median_abs": float(np.median(np.abs(lengths))) if len(lengths) else None,
            "mean": float(np.mean(lengths)) if len(lengths) else None,
            "p95_abs": float(np.percentile(np.abs(lengths), 95)) if len(lengths) else None,
        },
        "covisibility": {"cameras": names, "counts": counts.tolist()},
        "units": board.units,
        "board": {"type": board.type, "squares_x": board.squares_x,
                  "squares_y": board.squares_y, "square_length": board.square_length},
        "seconds": {"intrinsics": t_intr - t0, "extrinsics_init": t_init - t_intr,
                    "bundle_adjustment": t_ba - t_init},
        "solver": {"converged": bool(ba.converged), "iterations": int(ba.n_iterations),
                   "message": str(ba.message)},
    }
    for c, d in enumerate(dets):
        m = cam_idx == c
        e = err[m & inl]
        report["cameras"][d.camera] = {
            "n_frames": int(len(d.frame_ids)),
            "n_detections": int((d.n_found > 0).sum()),
            "n_corners": int(d.n_found.sum()),
            "n_pose_views": int(poses.valid[c].sum()),
            "reprojection_median_px": float(np.median(e)) if len(e) else None,
            "reprojection_rmse_px": float(np.sqrt(np.mean(e ** 2))) if len(e) else None,
            "n_outliers": int((m & ~inl).sum()),
            "board_variant": {"legacy": d.variant.legacy, "inverted": d.variant.inverted,
                              "mirrored": d.variant.mirrored,
                              "low_contrast": d.variant.low_contrast},
            "intrinsics": intr_info.get(d.camera, {"source": "--intrinsics"}),
            "fx": rig[c].focal[0], "fy": rig[c].focal[1],
            "cx": rig[c].principal_point[0], "cy": rig[c].principal_point[1],
        }
    rig.metadata.update({"reprojection_median_px": report["reprojection_median_px"],
                         "calibrated_by": "tripose"})
    return CalibrationResult(rig, report, corners, frame_ids, board, ba.residuals, cam_idx,
                             v_idx, inl, views, ba.board_rvecs, ba.board_tvecs)


def _warm_bundle_kernel() -> None:
    try:
        from ._bundle_kernel import warm

        warm()
    except Exception:  # noqa: BLE001 - only a head start; the solve reports real problems
        log.debug("could not pre-load the bundle adjustment kernel", exc_info=True)


def check_options(step: int = 1, n_jobs: int | None = None, sample: str = "all",
                  motion_threshold: float = 1.0, distortion_model: str = "k1k2p1p2",
                  max_views: int = 150, outlier_threshold_px: float = 4.0, **_) -> None:
    """Refuse option values that would fail (or silently misbehave) after the detection.

    Raises
    ------
    InputError
        Naming the option and the values it takes.
    """
    from .intrinsics import DISTORTION_MODELS
    from .sampling import SAMPLING

    def whole(v) -> bool:
        return isinstance(v, (int, np.integer)) and not isinstance(v, bool)

    if not whole(step) or step < 1:
        raise InputError(f"step must be a whole number >= 1, got {step!r}")
    if n_jobs is not None and (not whole(n_jobs) or (n_jobs < 1 and n_jobs != -1)):
        raise InputError(f"jobs must be at least 1 (or -1: every core), got {n_jobs!r}")
    if sample not in SAMPLING:
        raise InputError(f"sample must be {' or '.join(SAMPLING)}, got {sample!r}")
    if not np.isfinite(motion_threshold) or motion_threshold < 0:
        raise InputError(f"motion_threshold must be a grey-level difference >= 0, got "
                         f"{motion_threshold!r}")
    if distortion_model not in DISTORTION_MODELS:
        raise InputError(f"unknown distortion model {distortion_model!r}; choose one of "
                         f"{list(DISTORTION_MODELS)}")
    if not whole(max_views) or max_views < 1:
        raise InputError(f"max_views must be at least 1, got {max_views!r}")
    if not np.isfinite(outlier_threshold_px) or outlier_threshold_px <= 0:
        raise InputError(f"outlier_threshold_px must be > 0, got {outlier_threshold_px!r}")


def calibrate(
    inputs: Sequence[str | Path],
    board: Board,
    fisheye: bool = False,
    intrinsics: str | Path | CameraRig | None = None,
    step: int = 1,
    cache_dir: str | Path | None = None,
    n_jobs: int | None = None,
    progress: bool = False,
    sample: str = "all",
    motion_threshold: float = 1.0,
    **options,
) -> CalibrationResult:
    """Calibrate a rig from board videos or image folders.

    Parameters
    ----------
    inputs : sequence of str
        ``PATH`` or ``NAME=PATH`` per camera: a video, a folder of images or a glob.
    board : Board
        Its ``square_length`` unit becomes the rig's unit.
    fisheye : bool
        Kannala-Brandt lenses.
    intrinsics : path or CameraRig, optional
        Fixed intrinsics (an existing calibration.toml, cameras matched by name).
    step : int
        Examine every ``step``-th frame.
    cache_dir : path, optional
        Detection cache.
    n_jobs : int, optional
    progress : bool
    sample : {"all", "motion"}
        ``"motion"`` skips frames that look like the last examined one (board held still,
        static scene): see :class:`~calibration.sampling.MotionSampler`.
    motion_threshold : float
        Mean absolute thumbnail difference (grey levels) below which a frame is skipped.
    **options
        Passed to :func:`calibrate_detections` (``distortion_model``, ``max_views``,
        ``outlier_threshold_px``, ``refine_intrinsics``).

    Returns
    -------
    CalibrationResult
        ``result.rig`` is the calibrated rig; ``result.report`` holds
        ``reprojection_median_px``, ``reprojection_rmse_px``, per-camera figures and the
        co-visibility counts.
    """
    check_options(step, n_jobs, sample, motion_threshold, **options)
    sources = parse_inputs(inputs)
    warm = None
    if not all_cached(sources, board, step, cache_dir, sample, motion_threshold):
        # the bundle adjustment's compiled kernel loads while the videos are decoded
        warm = threading.Thread(target=_warm_bundle_kernel, name="tripose-warm", daemon=True)
        warm.start()
    fixed = None
    if intrinsics is not None:
        fixed = intrinsics if isinstance(intrinsics, CameraRig) else load_rig(intrinsics)
    then = None
    if fixed is None:  # each camera's intrinsics as soon as its detection ends
        model = options.get("distortion_model", "k1k2p1p2")

        def then(d: Detections) -> IntrinsicsResult:
            return calibrate_intrinsics(d, board, fisheye=fisheye, model=model)

    try:
        dets = detect_sources(sources, board, step=step, n_jobs=n_jobs, cache_dir=cache_dir,
                              progress=progress, then=then, sample=sample,
                              motion_threshold=motion_threshold)
        return calibrate_detections(dets, board, fisheye=fisheye, intrinsics=fixed, **options)
    except np.linalg.LinAlgError as exc:
        raise CalibrationError(f"the calibration solve failed numerically ({exc}); check that "
                               f"the board file matches the printed board") from None
    finally:
        if warm is not None:  # not left importing numba while the interpreter exits
            warm.join()
