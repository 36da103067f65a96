"""End-to-end calibration: tripose vs aniposelib ``calibrate_videos`` on the same synthetic
ChArUco videos, timed from the video files (detection included), errors against the truth.

Usage: .venv/bin/python -m benchmarks.calibration.bench_calibrate [--cameras 4 8] [--frames 200]
       [--repeats 3]

Each rig is generated once (``tripose synth``, seed 0) into /tmp/tripose_bench_cal<n>_<frames>
and reused by later runs (and by ``bench_detection --synthetic``). The two tools run
alternately, ``--repeats`` times each, so both see the same machine load; medians are
reported with the load average. Results go to benchmarks/results/calibration_e2e.json.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import save_result
from calibration import CameraRig, load_board, load_rig
from calibration.api import calibrate
from calibration.validate import compare_rigs


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (``/proc/loadavg``)."""
    with open("/proc/loadavg") as fh:
        return [float(v) for v in fh.read().split()[:3]]


def bench_session(n_cams: int, n_frames: int = 200) -> Path:
    """A ``tripose synth`` session (seed 0) with ``n_frames`` calibration frames per camera,
    generated once into /tmp and reused."""
    root = Path(tempfile.gettempdir()) / f"tripose_bench_cal{n_cams}_{n_frames}"
    if not (root / "done").exists():
        from synth import make_session

        shutil.rmtree(root, ignore_errors=True)
        make_session(root, n_cams=n_cams, n_frames=10, n_calibration_frames=n_frames, seed=0)
        (root / "done").touch()
    return root


def aniposelib_board(board):
    from aniposelib.boards import CharucoBoard

    bits = int(board.dictionary.split("_")[1][0])
    size = int(board.dictionary.rsplit("_", 1)[1])
    return CharucoBoard(board.squares_x, board.squares_y, board.square_length,
                        board.marker_length, marker_bits=bits, dict_size=size)


def run_aniposelib(videos, names, board):
    from aniposelib.cameras import CameraGroup

    group = CameraGroup.from_names(names)
    t, c = time.perf_counter(), time.process_time()
    with contextlib.redirect_stdout(io.StringIO()):
        error, rows = group.calibrate_videos([[str(v)] for v in videos], aniposelib_board(board),
                                             verbose=False)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    n_corners = int(sum(sum(len(np.asarray(r["corners"]).reshape(-1, 2)) for r in cam_rows)
                        for cam_rows in rows))
    return CameraRig.from_aniposelib(group), seconds, cpu, float(error), n_corners


def summarize(cmp: dict) -> dict:
    return {k: v for k, v in cmp.items() if k.startswith("max_")}


def bench(n_cams: int, n_frames: int, repeats: int) -> dict:
    root = bench_session(n_cams, n_frames)
    truth = load_rig(root / "ground_truth" / "calibration.toml")
    board = load_board(root / "board.toml")
    videos = [root / "calibration" / f"{n}.mp4" for n in truth.names]
    ours_t, theirs_t, ours_c, theirs_c, loads = [], [], [], [], []
    for _ in range(repeats):  # alternate, so both tools see the same load
        loads.append(load_average()[0])
        t, c = time.perf_counter(), time.process_time()
        res = calibrate([str(v) for v in videos], board)  # no cache: detection included
        ours_t.append(time.perf_counter() - t)
        ours_c.append(time.process_time() - c)
        a_rig, a_seconds, a_cpu, a_err, a_corners = run_aniposelib(videos, truth.names, board)
        theirs_t.append(a_seconds)
        theirs_c.append(a_cpu)
    loads.append(load_average()[0])
    ours = compare_rigs(res.rig, truth)
    theirs = compare_rigs(a_rig, truth)
    n_ours = int(sum(v["n_corners"] for v in res.report["cameras"].values()))
    return {
        "cameras": n_cams, "frames": n_frames, "load_average_1min": loads,
        "tripose": {"seconds_median": float(np.median(ours_t)), "seconds_all": ours_t,
                    "cpu_seconds_median": float(np.median(ours_c)), "cpu_seconds_all": ours_c,
                    "stages_last_run_s": res.report["seconds"],
                    "reprojection_median_px": res.report["reprojection_median_px"],
                    "corners_detected": n_ours, **summarize(ours)},
        "aniposelib": {"seconds_median": float(np.median(theirs_t)), "seconds_all": theirs_t,
                       "cpu_seconds_median": float(np.median(theirs_c)),
                       "cpu_seconds_all": theirs_c,
                       "reported_error": a_err, "corners_detected": a_corners,
                       **summarize(theirs)},
        "speedup": float(np.median(theirs_t) / np.median(ours_t)),
        "speedup_per_run": [a / o for a, o in zip(theirs_t, ours_t, strict=True)],
        "cpu_ratio": float(np.median(theirs_c) / np.median(ours_c)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, nargs="+", default=[4, 8])
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = [bench(n, args.frames, args.repeats) for n in args.cameras]
    path = save_result("calibration_e2e", {"runs": rows})
    keys = ["max_focal_error_pct", "max_principal_point_error_px", "max_rotation_error_deg",
            "max_center_error"]
    print("cams  tool        seconds  CPU s   focal%    pp_px  rot_deg centre_mm  corners")
    for r in rows:
        for tool in ("tripose", "aniposelib"):
            d = r[tool]
            print(f"{r['cameras']:4d}  {tool:10s} {d['seconds_median']:8.2f} "
                  f"{d['cpu_seconds_median']:6.1f} " + " ".join(
                f"{d[k]:8.3f}" for k in keys) + f"  {d['corners_detected']}")
        print(f"      speedup {r['speedup']:.2f}x (per run "
              f"{', '.join(f'{v:.2f}' for v in r['speedup_per_run'])}; CPU time "
              f"{r['cpu_ratio']:.2f}x; load average {r['load_average_1min']}); "
              f"tripose median reprojection {r['tripose']['reprojection_median_px']:.3f} px")
    print(f"-> {path}")


if __name__ == "__main__":
    main()
