"""The stages of ``tripose demo``, each checked against the synthetic session's ground truth.

Every stage takes the session folder ``root`` and the output folder ``out`` and returns its
part of ``summary.json`` (figures, files written, seconds).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from calibration import CameraRig, load_board
from calibration.api import calibrate
from calibration.validate import compare_rigs, rigid_alignment
from poses.atomic import make_folder
from triangulate.files import load_inputs

from .calibration_report import write_calibration_report

__all__ = ["calibration_stage", "pose2d_stage", "triangulation_stage", "render_stage"]

log = logging.getLogger(__name__)


def _tracks(folder: Path, names: list[str]):
    """DeepLabCut files ``folder/<cam>.h5`` (one animal) as ``(n_cams, F, J, 2)`` pixels,
    ``(n_cams, F, J)`` scores and the bodyparts, through the pose data model."""
    data = load_inputs({name: folder / f"{name}.h5" for name in names}, names,
                       dtype=np.float64)
    return data.points2d, data.scores, data.keypoints


def calibration_stage(root: Path, out: Path, truth_rig: CameraRig) -> tuple[CameraRig, dict]:
    """Calibrate from ``root/calibration/<cam>.mp4``; compare with the true rig."""
    t = time.perf_counter()
    cal = calibrate([f"{n}={root / 'calibration' / f'{n}.mp4'}" for n in truth_rig.names],
                    load_board(root / "board.toml"), cache_dir=out / ".tripose-cache")
    rig = cal.rig
    rig.save(out / "calibration.toml")
    write_calibration_report(cal, out / "calibration_report")
    cmp = compare_rigs(rig, truth_rig)
    return rig, {
        "source": "tripose calibrate on calibration/*.mp4",
        "cameras": rig.names,
        "reprojection_median_px": cal.report["reprojection_median_px"],
        "focal_error_pct_max": cmp["max_focal_error_pct"],
        "rotation_error_deg_max": cmp["max_rotation_error_deg"],
        "center_error_mm_max": cmp["max_center_error"],
        "calibration_toml": str(out / "calibration.toml"),
        "report": str(out / "calibration_report"),
        "seconds": round(time.perf_counter() - t, 2),
    }


def pose2d_stage(root: Path, out: Path, names: list[str], model_dir: Path,
                 record: dict) -> tuple[tuple[np.ndarray, np.ndarray, list[str]], dict]:
    """Analyze ``root/videos/<cam>.mp4`` with the model; errors against the true 2D.

    Returns ``((points2d, scores, bodyparts) of the network, summary part)``: the tracks
    read back from ``out/pose-2d`` once, for the triangulation and render stages.
    """
    from pose2d.analyze import analyze_videos
    from pose2d.metrics import error_summary

    t = time.perf_counter()
    videos = [root / "videos" / f"{n}.mp4" for n in names]
    runs = analyze_videos(model_dir, videos, out / "pose-2d", overwrite=True, progress=False)
    pred, conf, bps = _tracks(out / "pose-2d", names)
    truth, vis, tbps = _tracks(root / "ground_truth" / "pose2d", names)
    if bps != tbps:
        raise ValueError(f"the model {model_dir} predicts {bps}, the session has {tbps}")
    truth = np.where((vis >= 0.5)[..., None], truth, np.nan)  # occluded: not scored
    per_cam = {}
    for c, name in enumerate(names):
        s = error_summary(pred[c], conf[c], truth[c], 0.6, bps)
        per_cam[name] = {"rmse_px": s["rmse_px"], "rmse_pcutoff_px": s["rmse_pcutoff_px"]}
    s = error_summary(pred.reshape(-1, *pred.shape[2:]), conf.reshape(-1, conf.shape[2]),
                      truth.reshape(-1, *truth.shape[2:]), 0.6, bps)
    return (pred, conf, bps), {
        **record,
        "video_rmse_px": s["rmse_px"],
        "video_rmse_pcutoff_px": s["rmse_pcutoff_px"],
        "video_pck": s["pck"],
        "video_frames": int(pred.shape[1] * pred.shape[0]),
        "per_camera": per_cam,
        "analyze_fps": [r.get("fps") for r in runs],
        "output": str(out / "pose-2d"),
        "seconds": round(time.perf_counter() - t, 2),
    }


def _errors(points3d, R, t, truth3d) -> dict:
    err = np.linalg.norm(points3d @ R.T + t - truth3d, axis=-1)
    ok = np.isfinite(err)
    return {"median_error_mm": float(np.median(err[ok])),
            "p95_error_mm": float(np.percentile(err[ok], 95)),
            "fraction_triangulated": float(ok.mean())}


def triangulation_stage(root: Path, out: Path, rig: CameraRig, truth_rig: CameraRig,
                        truth3d: np.ndarray, skeleton, fps: float, tracks):
    """optim (and dlt for comparison) on the network's 2D; errors against the true 3D.

    ``tracks`` is ``(points2d, scores, bodyparts)`` of :func:`pose2d_stage`. The simulated
    detections of the session (``root/pose2d``) go through optim too, as a
    reference. Returns ``(points3d of optim, summary part)``.
    """
    from poses import save_poses
    from triangulate import triangulate

    t0 = time.perf_counter()
    # the calibrated rig's world frame is camera 0's: map it onto the truth's
    R, t_align = rigid_alignment(rig, truth_rig)
    points2d, scores, bps = tracks
    if bps != list(skeleton.bodyparts):
        raise ValueError(f"the 2D bodyparts {bps} differ from the skeleton's")
    methods, best = {}, None
    for method in ("dlt", "optim"):
        t = time.perf_counter()
        res = triangulate(rig, points2d, scores, method=method, skeleton=skeleton)
        methods[method] = {**_errors(res.points3d, R, t_align, truth3d),
                           "reprojection_median_px": float(np.nanmedian(res.reprojection_error)),
                           "seconds": round(time.perf_counter() - t, 2)}
        best = res
    csv = save_poses(best.to_poses(bps, fps=fps), out / "pose-3d" / "pose3d.csv")
    sim2d, sim_scores, _ = _tracks(root / "pose2d", rig.names)
    sim = triangulate(rig, sim2d, sim_scores, method="optim", skeleton=skeleton)
    part = {
        "input": "pose2d stage (network detections)",
        "method": "optim",
        "median_error_mm": methods["optim"]["median_error_mm"],
        "p95_error_mm": methods["optim"]["p95_error_mm"],
        "methods": methods,
        "simulated_detections_optim": _errors(sim.points3d, R, t_align, truth3d),
        "pose3d_csv": str(csv),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    return best.points3d, part


def render_stage(root: Path, out: Path, rig: CameraRig, points3d: np.ndarray, skeleton,
                 tracks, combined: bool = True) -> dict:
    """viz3d's picture, movie, HTML page and (optionally) the videos beside the 3D.

    ``tracks`` is ``(points2d, scores, bodyparts)`` of :func:`pose2d_stage`, drawn as dots
    on the combined movie.
    """
    t = time.perf_counter()
    try:
        import viz3d

        missing = viz3d.missing_dependencies()
        if missing:
            raise ImportError(f"not installed: {', '.join(missing)}")
    except ImportError as exc:
        log.warning("viz3d unavailable (%s): no pictures, movie or HTML", exc)
        return {"status": "viz3d unavailable", "reason": str(exc),
                "seconds": round(time.perf_counter() - t, 2)}
    folder = out / "render"
    make_folder(folder)
    n = len(points3d)
    counts = np.isfinite(points3d).all(axis=-1).sum(axis=1)
    frame = int(np.argmax(counts[n // 4: 3 * n // 4 + 1])) + n // 4  # a full pose mid-way
    part: dict = {"status": "ok", "frame": frame}
    part["picture"] = str(viz3d.render_png(points3d, skeleton, folder / "pose3d.png",
                                           frame=frame, rig=rig))
    part["movie"] = str(viz3d.render_movie(points3d, skeleton, folder / "pose3d.mp4", fps=30,
                                           rig=rig))
    part["html"] = str(viz3d.export_html(points3d, skeleton, folder / "pose3d.html",
                                         frame=frame, rig=rig))
    if combined:
        videos = [root / "videos" / f"{c}.mp4" for c in rig.names]
        det, sc, _ = tracks  # the network's, as dots
        part["combined_video"] = str(viz3d.combined_video(
            videos, rig, points3d, skeleton, folder / "combined.mp4", points2d=det, scores=sc))
    part["seconds"] = round(time.perf_counter() - t, 2)
    return part
