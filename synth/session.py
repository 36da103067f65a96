"""``tripose synth``: a complete synthetic session with exact ground truth.

Layout written under ``OUT``::

    board.toml, skeleton.toml, session.json
    calibration/<cam>.mp4           ChArUco board moved through the volume
    videos/<cam>.mp4                forelimb reaching and grasping
    pose2d/<cam>.h5                 simulated detector output (DeepLabCut format)
    ground_truth/calibration.toml   the true rig (anipose format, mm)
    ground_truth/points3d.csv       true 3D ({bp}_x, {bp}_y, {bp}_z, fnum)
    ground_truth/pose2d/<cam>.h5    exact projections (NaN outside the image;
                                    likelihood 1 visible, 0 occluded), and the same as .csv
    ground_truth/board_corners.npz  true ChArUco corners per camera and frame
    ground_truth/detections.npz     which detections are outliers / occluded / outside
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from calibration import CameraRig, save_board
from poses import Poses
from poses.atomic import atomic_path, make_folder, write_text_atomic
from poses.io.dlc import save_dlc
from poses.skeleton import Skeleton, save_skeleton

from .detections import SimulatedDetections, simulate_detections
from .rig import default_board, make_rig

__all__ = ["Session", "make_session", "save_points3d_csv", "load_points3d_csv"]

BEHAVIOUR_FPS = 100.0
CALIBRATION_FPS = 30.0


def _tripose_version() -> str:
    """The installed distribution's version (read from its metadata, not the app package)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tripose")
    except PackageNotFoundError:  # running from a source tree without installation
        return "0.0.0+local"


@dataclass
class Session:
    """What :func:`make_session` made (the files are the product; this is for tests)."""

    root: Path
    rig: CameraRig
    skeleton: Skeleton
    points3d: np.ndarray  # (n_frames, n_joints, 3) mm
    truth2d: np.ndarray  # (n_cams, n_frames, n_joints, 2) px, NaN outside the image
    visible: np.ndarray  # (n_cams, n_frames, n_joints) bool
    detections: SimulatedDetections
    board_corners: dict  # cam name -> (n_cal_frames, n_corners, 2) px


def save_points3d_csv(path: str | Path, points3d: np.ndarray, bodyparts: list[str]) -> Path:
    """Write 3D points with anipose's pose-3d column names, atomically.

    Parameters
    ----------
    path : str or Path
    points3d : (n_frames, n_joints, 3) rig units
    bodyparts : list of n_joints str

    Returns
    -------
    Path
    """
    p = np.asarray(points3d, dtype=np.float64)
    cols = {}
    for j, bp in enumerate(bodyparts):
        for k, axis in enumerate("xyz"):
            cols[f"{bp}_{axis}"] = p[:, j, k]
    df = pd.DataFrame(cols)
    df["fnum"] = np.arange(len(p))
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.10g")
    return Path(path)


def load_points3d_csv(path: str | Path, bodyparts: list[str] | None = None):
    """Read an anipose pose-3d CSV.

    Returns
    -------
    points3d : (n_frames, n_joints, 3)
    bodyparts : list of str
    """
    df = pd.read_csv(path)
    if bodyparts is None:
        bodyparts = [c[:-2] for c in df.columns if c.endswith("_x")]
    pts = np.stack([df[[f"{bp}_x", f"{bp}_y", f"{bp}_z"]].to_numpy(float) for bp in bodyparts],
                   axis=1)
    return pts, list(bodyparts)


def _render_camera_videos(rig, cam_index, board, poses, points3d, root, seed, crf):
    """Both videos of one camera (runs in a worker process)."""
    from .render_behaviour import render_behaviour_video
    from .render_board import render_calibration_video

    cam = rig[cam_index]
    corners = render_calibration_video(
        cam, board, poses, root / "calibration" / f"{cam.name}.mp4",
        np.random.default_rng([seed, 1, cam_index]), fps=CALIBRATION_FPS, crf=crf,
    )
    visible = render_behaviour_video(
        cam, points3d, root / "videos" / f"{cam.name}.mp4",
        np.random.default_rng([seed, 2, cam_index]), fps=BEHAVIOUR_FPS, crf=crf,
    )
    return corners, visible


def make_session(
    out: str | Path,
    n_cams: int = 4,
    n_frames: int = 300,
    seed: int = 0,
    size: tuple[int, int] = (640, 480),
    noise_px: float = 1.0,
    outlier_rate: float = 0.05,
    n_calibration_frames: int | None = None,
    n_jobs: int | None = None,
    crf: int = 12,
) -> Session:
    """Generate a synthetic session (see the module docstring for the layout).

    Parameters
    ----------
    out : str or Path
        Output folder (created; existing files of the same names are replaced atomically).
    n_cams : int
        2 to 16 cameras named ``cam0``...
    n_frames : int
        Behaviour frames (100 fps).
    seed : int
        The same seed gives byte-identical ground truth.
    size : (width, height) pixels
    noise_px : float
        Detector noise, pixels (std).
    outlier_rate : float
        Fraction of confident outliers among visible detections.
    n_calibration_frames : int, optional
        Frames of the ChArUco videos (default ``clip(n_frames, 60, 300)``).
    n_jobs : int, optional
        Worker processes for rendering (default: one per core, at most one per camera).
    crf : int
        x264 quality of the videos (0 lossless; 12 keeps board corners within ~0.05 px; 20
        makes files ~4x smaller at ~0.1 px).

    Returns
    -------
    Session
    """
    from joblib import Parallel, delayed

    from .forelimb import FORELIMB_SKELETON, simulate_reach
    from .render_board import board_poses

    root = make_folder(out, "session folder")
    rig = make_rig(n_cams, size, seed)
    board = default_board()
    skeleton = FORELIMB_SKELETON
    n_cal = int(n_calibration_frames or np.clip(n_frames, 60, 300))

    poses = board_poses(n_cal, np.random.default_rng([seed, 10]), board)
    points3d = simulate_reach(n_frames, np.random.default_rng([seed, 20]), fps=BEHAVIOUR_FPS)

    import os

    jobs = n_jobs or max(1, min(n_cams, os.cpu_count() or 1))
    results = Parallel(n_jobs=jobs)(
        delayed(_render_camera_videos)(rig, i, board, poses, points3d, root, seed, crf)
        for i in range(n_cams)
    )
    corners = {cam.name: r[0] for cam, r in zip(rig, results, strict=True)}
    visible = np.stack([r[1] for r in results])

    exact = rig.project(points3d)  # (n_cams, n_frames, n_joints, 2)
    inside = np.stack([cam.in_image(exact[i]) for i, cam in enumerate(rig)])
    truth2d = np.where(inside[..., None], exact, np.nan)
    det = simulate_detections(exact, visible & inside, size, np.random.default_rng([seed, 30]),
                              skeleton.bodyparts, noise_px=noise_px, outlier_rate=outlier_rate)

    gt = root / "ground_truth"
    save_board(board, root / "board.toml")
    save_skeleton(skeleton, root / "skeleton.toml")
    rig.save(gt / "calibration.toml")
    save_points3d_csv(gt / "points3d.csv", points3d, skeleton.bodyparts)
    for i, cam in enumerate(rig):
        save_dlc(Poses.from_numpy(truth2d[i], np.where(visible[i] & inside[i], 1.0, 0.0),
                                  keypoints=skeleton.bodyparts, camera=cam.name),
                 gt / "pose2d" / f"{cam.name}.h5", scorer="ground_truth", csv=True)
        save_dlc(Poses.from_numpy(det.points2d[i], det.scores[i],
                                  keypoints=skeleton.bodyparts, camera=cam.name),
                 root / "pose2d" / f"{cam.name}.h5", scorer="simulated_detector")
    with atomic_path(gt / "board_corners.npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, names=np.array(rig.names),
                                corners=np.stack([corners[n] for n in rig.names]),
                                rvecs=poses.rvecs, tvecs=poses.tvecs, present=poses.present)
    with atomic_path(gt / "detections.npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, outlier=det.outlier, occluded=det.occluded,
                                outside=det.outside, visible=visible)
    manifest = {
        "generator": "tripose synth", "tripose_version": _tripose_version(), "seed": int(seed),
        "cameras": rig.names, "size": list(size), "frames": int(n_frames),
        "calibration_frames": n_cal, "fps": BEHAVIOUR_FPS, "calibration_fps": CALIBRATION_FPS,
        "noise_px": float(noise_px), "outlier_rate": float(outlier_rate), "units": rig.units,
        "crf": int(crf),
        "bodyparts": skeleton.bodyparts,
    }
    write_text_atomic(root / "session.json", json.dumps(manifest, indent=2) + "\n")
    return Session(root=root, rig=rig, skeleton=skeleton, points3d=points3d, truth2d=truth2d,
                   visible=visible & inside, detections=det, board_corners=corners)
