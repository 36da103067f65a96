"""``tripose demo``: run every stage that exists on the sample session and summarize it.

Stages so far: the synthetic session (``sample_data/`` or a fresh ``tripose synth``) and its
preview, calibration from its ChArUco videos (checked against the true rig), and
triangulation of the simulated detections through the calibrated rig (checked against the
true 3D). Later stages (the 2D network, rendering) join here as they land.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np

from calibration import load_board, load_rig
from calibration.api import calibrate
from calibration.atomic import write_text_atomic
from calibration.report import write_report
from calibration.validate import compare_rigs, rigid_alignment
from triangulate.load_2d import from_dlc_file

from .synth import load_points3d_csv, make_session
from .synth.preview import session_preview

__all__ = ["run_demo", "SAMPLE_DATA"]

log = logging.getLogger(__name__)
SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


def _load_detections(root: Path, names: list[str]):
    pts, scores = [], []
    for name in names:
        p, s, bps = from_dlc_file(root / "pose2d" / f"{name}.h5")
        pts.append(p)
        scores.append(s)
    return np.stack(pts), np.stack(scores), bps


def run_demo(out: str | Path = "demo_out", session: str | Path | None = None,
             fresh: bool = False, seed: int = 0) -> dict:
    """Run the pipeline's stages on a synthetic session and write ``out/summary.json``.

    Parameters
    ----------
    out : output folder
    session : a ``tripose synth`` folder (default: ``sample_data/``)
    fresh : generate a new session into ``out/session`` instead
    seed : seed of the fresh session

    Returns
    -------
    summary : dict (also written to ``out/summary.json``)
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if fresh or session is None and not (SAMPLE_DATA / "session.json").exists():
        root = out / "session"
        log.info("generating a synthetic session in %s", root)
        make_session(root, n_cams=4, n_frames=200, seed=seed, n_calibration_frames=100)
    else:
        root = Path(session) if session is not None else SAMPLE_DATA
    if not (root / "session.json").exists():
        raise FileNotFoundError(f"{root} is not a tripose synth session (no session.json)")
    summary: dict = {"session": str(root), "stages": {}}

    truth_rig = load_rig(root / "ground_truth" / "calibration.toml")
    truth3d, bodyparts = load_points3d_csv(root / "ground_truth" / "points3d.csv")

    # calibration from the ChArUco videos, checked against the true rig
    t = time.perf_counter()
    cal = calibrate([f"{n}={root / 'calibration' / f'{n}.mp4'}" for n in truth_rig.names],
                    load_board(root / "board.toml"), cache_dir=out / ".tripose-cache")
    rig = cal.rig
    rig.save(out / "calibration.toml")
    write_report(cal, out / "calibration_report")
    cmp = compare_rigs(rig, truth_rig)
    summary["calibration"] = {
        "source": "tripose calibrate on calibration/*.mp4",
        "cameras": rig.names,
        "reprojection_median_px": cal.report["reprojection_median_px"],
        "focal_error_pct_max": cmp["max_focal_error_pct"],
        "rotation_error_deg_max": cmp["max_rotation_error_deg"],
        "center_error_mm_max": cmp["max_center_error"],
        "seconds": round(time.perf_counter() - t, 2),
    }

    preview = session_preview(root, out / "synth_preview.png")
    summary["pictures"] = {"synth_preview": str(preview)}

    points2d, scores, det_bps = _load_detections(root, rig.names)
    if det_bps != bodyparts:
        raise ValueError(f"bodyparts in {root / 'pose2d'} differ from the ground truth")
    try:
        from triangulate import triangulate
    except ImportError:
        triangulate = None
    if triangulate is not None:
        tri = {}
        for method in ("dlt", "ransac", "optim"):
            t = time.perf_counter()
            try:
                res = triangulate(rig, points2d, scores, method=method)
            except NotImplementedError:
                continue
            # the calibrated rig's world frame is camera 0's: map it onto the truth's
            R, t_align = rigid_alignment(rig, truth_rig)
            err = np.linalg.norm(res.points3d @ R.T + t_align - truth3d, axis=-1)
            tri[method] = {
                "median_error_mm": float(np.nanmedian(err)),
                "p95_error_mm": float(np.nanpercentile(err, 95)),
                "seconds": round(time.perf_counter() - t, 3),
            }
        summary["triangulation"] = tri
        best = tri.get("optim") or tri.get("ransac") or tri.get("dlt")
        if best:
            summary["triangulation"]["median_error_mm"] = best["median_error_mm"]
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    write_text_atomic(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
