"""ChArUco detection: tripose vs aniposelib on the same frames (speed and corners found).

Usage: .venv/bin/python -m benchmarks.calibration.bench_detection [--synthetic | --session DIR]
       [--repeats 5]

Default frames: the real 1280x1024 sleap-anipose images in ../shared/data. ``--synthetic``:
the calibration videos of the 4-camera session of ``bench_calibrate`` (generated once into
/tmp); ``--session DIR``: those of another ``tripose synth`` session. Frames are decoded once,
outside the timing; every frame is detected by both tools, one frame after the other in one
thread of Python (OpenCV's own threads left as they are: aniposelib's 14 threshold passes
run on them, tripose's single pass hardly does). The tools alternate, ``--repeats`` times each;
wall-clock medians are reported with the load average, and the CPU time of the process beside
them (less sensitive to other jobs on the machine). A third timing, "tripose, all cores",
detects ``os.cpu_count()`` frames at a time in threads, as ``calibrate`` runs its cameras, so
that both tools use every core.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from benchmarks.calibration.bench_calibrate import aniposelib_board, bench_session, load_average
from benchmarks.common import SHARED_DATA, save_result
from calibration import load_board
from calibration.detect import Variant, _choose_variant, _Detector


def load_frames(session: Path | None, limit: int = 0):
    if session is None:
        root = SHARED_DATA / "sleap_anipose_minimal"
        board = load_board(root / "board.toml")
        files = sorted((root / "back" / "calibration_images").glob("*.jpg"))
        frames = [cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files[:limit or None]]
        return board, frames, "sleap_anipose_minimal/back (real, 1280x1024 JPEG)"
    board = load_board(session / "board.toml")
    frames = []
    for video in sorted((session / "calibration").glob("*.mp4")):
        cap = cv2.VideoCapture(str(video))
        while not limit or len(frames) < limit:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY))
        cap.release()
    return board, frames, f"synthetic session, all calibration videos ({len(frames)} frames)"


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--session", type=Path, default=None)
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--min-frames", type=int, default=200,
                    help="Small sets are timed over repeated passes of at least this many "
                    "frames (the 21 real images: 10 passes).")
    args = ap.parse_args()
    session = bench_session(4) if args.synthetic and args.session is None else args.session
    board, frames, what = load_frames(session)
    passes = max(1, -(-args.min_frames // len(frames)))
    frames = frames * passes
    theirs = aniposelib_board(board)
    variant = _choose_variant(frames[:10], board, "bench")[0] or Variant()
    ours = _Detector(board, variant)

    def run_ours():
        return [ours(f) for f in frames]

    def run_theirs():
        return [theirs.detect_image(f) for f in frames]

    local = threading.local()
    pool = ThreadPoolExecutor(os.cpu_count() or 1)

    def detect_threaded(f):
        if not hasattr(local, "det"):
            local.det = _Detector(board, variant)
        return local.det(f)

    def run_ours_parallel():
        return list(pool.map(detect_threaded, frames, chunksize=8))

    run_ours()  # warm-up
    run_ours_parallel()
    wall = {"tripose": [], "tripose_all_cores": [], "aniposelib": []}
    cpu = {k: [] for k in wall}
    loads = []
    for _ in range(args.repeats):  # alternate, so both tools see the same load
        loads.append(load_average()[0])
        for name, fn in (("tripose", run_ours), ("tripose_all_cores", run_ours_parallel),
                         ("aniposelib", run_theirs)):
            out, w, c = _timed(fn)
            wall[name].append(w)
            cpu[name].append(c)
            if name == "tripose":
                n_ours = int(sum(np.isfinite(d[:, 0]).sum() for d in out))
                ref = out
            elif name == "tripose_all_cores":
                same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(out, ref,
                                                                                 strict=True))
            else:
                n_theirs = int(sum(0 if d is None else len(np.asarray(d).reshape(-1, 2))
                                   for d, _ in out))
    loads.append(load_average()[0])
    n = len(frames)
    n_ours //= passes
    n_theirs //= passes
    med = {k: float(np.median(v)) for k, v in wall.items()}
    med_cpu = {k: float(np.median(v)) for k, v in cpu.items()}
    res = {
        "frames": what, "n_frames": n // passes, "passes_per_timing": passes,
        "load_average_1min": loads,
        "opencv_threads": cv2.getNumThreads(),
        "tripose_ms_per_frame": 1000 * med["tripose"] / n,
        "aniposelib_ms_per_frame": 1000 * med["aniposelib"] / n,
        "speedup": med["aniposelib"] / med["tripose"],
        "tripose_cpu_ms_per_frame": 1000 * med_cpu["tripose"] / n,
        "aniposelib_cpu_ms_per_frame": 1000 * med_cpu["aniposelib"] / n,
        "cpu_speedup": med_cpu["aniposelib"] / med_cpu["tripose"],
        "tripose_all_cores_ms_per_frame": 1000 * med["tripose_all_cores"] / n,
        "speedup_all_cores": med["aniposelib"] / med["tripose_all_cores"],
        "all_cores_same_corners": bool(same), "cores": os.cpu_count(),
        "tripose_corners": n_ours, "aniposelib_corners": n_theirs,
        "corner_ratio": n_ours / max(n_theirs, 1),
        "timing_s": {"wall": wall, "cpu": cpu},
    }
    name = "calibration_detection" + ("_synth" if session else "_real")
    print(f"{what}: {n // passes} frames x {passes} passes, load average {loads}")
    print(f"  tripose    {res['tripose_ms_per_frame']:8.2f} ms/frame "
          f"(CPU {res['tripose_cpu_ms_per_frame']:.2f})  {n_ours} corners")
    print(f"  tripose    {res['tripose_all_cores_ms_per_frame']:8.2f} ms/frame on "
          f"{os.cpu_count()} cores (same corners: {same})")
    print(f"  aniposelib {res['aniposelib_ms_per_frame']:8.2f} ms/frame "
          f"(CPU {res['aniposelib_cpu_ms_per_frame']:.2f})  {n_theirs} corners")
    print(f"  speedup {res['speedup']:.1f}x (CPU time {res['cpu_speedup']:.1f}x, all cores "
          f"{res['speedup_all_cores']:.1f}x), corners "
          f"{100 * res['corner_ratio']:.1f}% of aniposelib's -> {save_result(name, res)}")


if __name__ == "__main__":
    main()
