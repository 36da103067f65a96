"""Calibration on the real recordings in ../shared/data: figures and report pictures.

Usage: .venv/bin/python -m benchmarks.calibration.real_data

Writes benchmarks/results/calibration_real.json and the sleap-anipose report pictures to
docs/images/calibration/.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import scipy.io

from benchmarks.common import SHARED_DATA, save_result
from calibration import Board, load_board, load_rig
from calibration.api import calibrate
from calibration.rotation import rotation_angle_deg
from tripose.calibration_report import write_calibration_report

DOCS = Path(__file__).resolve().parents[2] / "docs" / "images" / "calibration"


def sleap() -> dict:
    root = SHARED_DATA / "sleap_anipose_minimal"
    cams = ["back", "mid", "side", "top"]
    t = time.perf_counter()
    res = calibrate([f"{c}={root / c / 'calibration_images'}" for c in cams],
                    load_board(root / "board.toml"))
    seconds = time.perf_counter() - t
    ref = load_rig(root / "calibration.toml")
    good = ["back", "mid", "top"]
    pairs = {}
    for i, a in enumerate(good):
        for b in good[i + 1:]:
            d = np.linalg.norm(res.rig[a].center - res.rig[b].center)
            dr = np.linalg.norm(ref[a].center - ref[b].center)
            ang = rotation_angle_deg(res.rig[a].R, res.rig[b].R)
            angr = rotation_angle_deg(ref[a].R, ref[b].R)
            pairs[f"{a}-{b}"] = {"distance_mm": float(d), "reference_mm": float(dr),
                                 "distance_diff_mm": float(d - dr), "angle_deg": float(ang),
                                 "reference_deg": float(angr),
                                 "angle_diff_deg": float(ang - angr)}
    out = Path("/tmp/tripose_sleap_report")
    write_calibration_report(res, out)
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in ("coverage.png", "rig.png", "residuals.png", "rig3d.png"):
        shutil.copy(out / name, DOCS / f"sleap_{name}")
    rep = res.report
    return {"seconds": seconds, "reprojection_median_px": rep["reprojection_median_px"],
            "reprojection_rmse_px": rep["reprojection_rmse_px"],
            "per_camera_median_px": {k: v["reprojection_median_px"]
                                     for k, v in rep["cameras"].items()},
            "board_length_error_mm": rep["board_length_error"], "pairs_vs_reference": pairs}


def bouguet() -> dict:
    root = SHARED_DATA / "opencv_bouguet_stereo"
    res = calibrate([f"left={root}/left*.jpg", f"right={root}/right*.jpg"],
                    Board("checkerboard", 10, 7, 30.0))
    out = {"reprojection_median_px": res.report["reprojection_median_px"]}
    for cam in res.rig:
        mat = scipy.io.loadmat(root / f"Calib_Results_{cam.name}.mat")
        fc, cc = mat["fc"].ravel(), mat["cc"].ravel()
        out[cam.name] = {"fx_fy": list(cam.focal), "cx_cy": list(cam.principal_point),
                         "bouguet_fc": fc.tolist(), "bouguet_cc": cc.tolist(),
                         "max_abs_diff_px": float(max(np.abs(np.r_[cam.focal] - fc).max(),
                                                      np.abs(np.r_[cam.principal_point] - cc)
                                                      .max()))}
    return out


def main() -> None:
    res = {"sleap_anipose_minimal": sleap(), "opencv_bouguet_stereo": bouguet()}
    path = save_result("calibration_real", res)
    s = res["sleap_anipose_minimal"]
    print(f"sleap-anipose: median {s['reprojection_median_px']:.3f} px, "
          f"{s['seconds']:.1f} s; per camera {s['per_camera_median_px']}")
    for k, v in s["pairs_vs_reference"].items():
        print(f"  {k}: distance {v['distance_diff_mm']:+.2f} mm, angle "
              f"{v['angle_diff_deg']:+.3f} deg vs reference")
    for cam in ("left", "right"):
        b = res["opencv_bouguet_stereo"][cam]
        print(f"bouguet {cam}: f {b['fx_fy']}, c {b['cx_cy']} (max diff "
              f"{b['max_abs_diff_px']:.2f} px)")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
