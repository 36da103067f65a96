"""``tripose synth --animals K`` (K > 1): several mice in an open field, with exact truth.

Layout written under ``OUT``::

    board.toml, skeleton.toml, session.json
    calibration/<cam>.mp4               ChArUco board (30 mm squares) moved over the arena
    videos/<cam>.mp4                    the mice (both videos unless render=False)
    pose2d/<cam>.h5                     simulated multi-animal detections, DeepLabCut
                                        multi-animal format: individuals ind1 ... (arbitrary
                                        order every frame) or, with identity, mouse1 ...
                                        (right most of the time) and unknown1 ... for
                                        false positives
    ground_truth/calibration.toml       the true rig (anipose format, mm)
    ground_truth/points3d_<mouse>.csv   true 3D per individual (anipose pose-3d columns)
    ground_truth/pose2d/<cam>.h5 (.csv) exact projections of every mouse (DeepLabCut
                                        multi-animal; likelihood 1 visible, 0 hidden)
    ground_truth/board_corners.npz      true ChArUco corners per camera and frame (videos)
    ground_truth/detections.npz         per camera, frame and slot: the true mouse (-1 none),
                                        false positives, keypoints taken from another mouse,
                                        label swaps; per mouse keypoint visibility
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from calibration import Board, CameraRig, save_board
from poses import Poses
from poses.atomic import atomic_path, make_folder, write_text_atomic
from poses.io.dlc import save_dlc
from poses.skeleton import Skeleton, save_skeleton

from .mice import (
    MOUSE_SKELETON,
    OPEN_FIELD_CENTER,
    capsule_visibility,
    make_open_field_rig,
    mouse_names,
    simulate_mice,
)
from .multi_detections import MultiDetections, simulate_multi_detections
from .session import _tripose_version, save_points3d_csv

__all__ = ["SocialSession", "make_social_session", "open_field_board"]

FPS = 100.0
CALIBRATION_FPS = 30.0


@dataclass
class SocialSession:
    """What :func:`make_social_session` made (the files are the product; this is for tests)."""

    root: Path
    rig: CameraRig
    skeleton: Skeleton
    names: list[str]
    points3d: np.ndarray  # (n_frames, n_mice, 14, 3) mm
    scales: np.ndarray  # (n_mice,)
    visible: np.ndarray  # (n_cams, n_frames, n_mice, 14) bool
    detections: MultiDetections


def open_field_board() -> Board:
    """The open field's ChArUco board: 7 x 5 squares of 30 mm, 22 mm 4x4 markers."""
    return Board(type="charuco", squares_x=7, squares_y=5, square_length=30.0,
                 marker_length=22.0, dictionary="DICT_4X4_50", legacy=False, inverted=False)


def _render_camera(rig, i, board, board_poses, points3d, scales, root, seed, crf, render):
    from .render_board import render_calibration_video
    from .render_mice import render_mice_video

    cam = rig[i]
    if not render:
        return None
    corners = render_calibration_video(cam, board, board_poses,
                                       root / "calibration" / f"{cam.name}.mp4",
                                       np.random.default_rng([seed, 1, i]),
                                       fps=CALIBRATION_FPS, crf=crf)
    render_mice_video(cam, points3d, scales, root / "videos" / f"{cam.name}.mp4",
                      np.random.default_rng([seed, 2, i]), fps=FPS, crf=crf)
    return corners


def make_social_session(out: str | Path, n_animals: int = 3, n_cams: int = 6,
                        n_frames: int = 300, seed: int = 0,
                        size: tuple[int, int] = (640, 480), noise_px: float = 1.0,
                        false_positive_rate: float = 0.05, identity: bool = False,
                        identity_swap_rate: float = 0.02,
                        n_calibration_frames: int | None = None, crf: int = 12,
                        render: bool = True, n_jobs: int | None = None) -> SocialSession:
    """Generate a multi-animal synthetic session (see the module docstring for the layout).

    Parameters
    ----------
    out : str or Path
    n_animals : int
        2 to 12 mice.
    n_cams : int
        2 to 16 cameras on a ring around a 40 cm open field.
    n_frames : int
        Behaviour frames (100 fps).
    seed : int
    size : (width, height) pixels
    noise_px : float
        Detector noise, pixels.
    false_positive_rate : float
        False-positive instances as a fraction of all instances.
    identity : bool
        Detections labelled with the mice's names (swapped ``identity_swap_rate`` of the
        time) instead of in arbitrary order.
    identity_swap_rate : float
    n_calibration_frames : int, optional
        Frames of the ChArUco videos (default ``clip(n_frames, 60, 300)``).
    crf : int
        x264 quality.
    render : bool
        Render the videos, calibration and behaviour (False: truth and detections only,
        much faster).
    n_jobs : int, optional
        Worker processes for rendering.

    Returns
    -------
    SocialSession
    """
    from joblib import Parallel, delayed

    from .render_board import board_poses

    root = make_folder(out, "session folder")
    rig = make_open_field_rig(n_cams, size, seed)
    names = mouse_names(n_animals)
    skeleton = MOUSE_SKELETON
    points3d, scales = simulate_mice(n_frames, n_animals, np.random.default_rng([seed, 20]),
                                     fps=FPS)
    visible = capsule_visibility(rig, points3d, scales)
    n_kp = len(skeleton.bodyparts)
    exact = rig.project(points3d.reshape(n_frames, -1, 3)).reshape(
        n_cams, n_frames, n_animals, n_kp, 2)
    det = simulate_multi_detections(exact, visible, size, np.random.default_rng([seed, 30]),
                                    noise_px=noise_px,
                                    false_positive_rate=false_positive_rate,
                                    identity=identity, identity_swap_rate=identity_swap_rate,
                                    names=names)
    board = open_field_board()
    n_cal = int(n_calibration_frames or np.clip(n_frames, 60, 300))
    bp = board_poses(n_cal, np.random.default_rng([seed, 10]), board,
                     center=OPEN_FIELD_CENTER + np.array([0.0, 0.0, 50.0]), spread=110.0)
    jobs = n_jobs or max(1, min(n_cams, os.cpu_count() or 1)) if render else 1
    corners = Parallel(n_jobs=jobs)(
        delayed(_render_camera)(rig, i, board, bp, points3d, scales, root, seed, crf, render)
        for i in range(n_cams))

    gt = root / "ground_truth"
    save_board(board, root / "board.toml")
    save_skeleton(skeleton, root / "skeleton.toml")
    rig.save(gt / "calibration.toml")
    for k, name in enumerate(names):
        save_points3d_csv(gt / f"points3d_{name}.csv", points3d[:, k], skeleton.bodyparts)
    inside = np.stack([cam.in_image(exact[i]) for i, cam in enumerate(rig)])
    for i, cam in enumerate(rig):
        truth2d = np.where(inside[i][..., None], exact[i], np.nan)
        save_dlc(Poses(truth2d, visible[i].astype(float), keypoints=skeleton.bodyparts,
                       individuals=names, camera=cam.name),
                 gt / "pose2d" / f"{cam.name}.h5", scorer="ground_truth", csv=True)
        save_dlc(Poses(det.points2d[i], det.scores[i], keypoints=skeleton.bodyparts,
                       individuals=det.slot_names, camera=cam.name),
                 root / "pose2d" / f"{cam.name}.h5", scorer="simulated_detector")
    if render:
        with atomic_path(gt / "board_corners.npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez_compressed(fh, names=np.array(rig.names), corners=np.stack(corners),
                                    rvecs=bp.rvecs, tvecs=bp.tvecs, present=bp.present)
    with atomic_path(gt / "detections.npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, truth=det.truth, false_positive=det.false_positive,
                                swapped=det.swapped, label_swapped=det.label_swapped,
                                slot_names=np.array(det.slot_names), visible=visible,
                                scales=scales)
    manifest = {
        "generator": "tripose synth", "tripose_version": _tripose_version(), "seed": int(seed),
        "cameras": rig.names, "size": list(size), "frames": int(n_frames),
        "calibration_frames": n_cal, "fps": FPS, "calibration_fps": CALIBRATION_FPS,
        "animals": int(n_animals), "individuals": names, "identity": bool(identity),
        "identity_swap_rate": float(identity_swap_rate) if identity else 0.0,
        "noise_px": float(noise_px), "false_positive_rate": float(false_positive_rate),
        "units": rig.units, "crf": int(crf), "videos": bool(render),
        "bodyparts": skeleton.bodyparts,
    }
    write_text_atomic(root / "session.json", json.dumps(manifest, indent=2) + "\n")
    return SocialSession(root=root, rig=rig, skeleton=skeleton, names=names,
                         points3d=points3d, scales=scales, visible=visible, detections=det)
