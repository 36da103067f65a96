"""Triangulation: tripose vs aniposelib on the same detections (accuracy, speed, memory).

Usage (from the repository root)::

    .venv/bin/python -m benchmarks.triangulate.bench_triangulate            # all but --hour
    .venv/bin/python -m benchmarks.triangulate.bench_triangulate --only speed  # ~2 min
    .venv/bin/python -m benchmarks.triangulate.bench_triangulate --hour     # 1 h, 100 fps

Public API only (``triangulate.triangulate``; aniposelib's ``CameraGroup.triangulate``,
``triangulate_ransac``, ``triangulate_optim``), fixed seeds, one warmup, medians (and IQR) of
repeated runs; aniposelib gets the same detections with scores below the threshold set to
NaN, and its optim gets the scores, limbs and the same derivative order and threshold.
Peak memory is measured in fresh subprocesses (``VmHWM`` minus the RSS after loading the
data). Results go to ``benchmarks/results/triangulation*.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from benchmarks.common import save_result, timeit
from benchmarks.triangulate.data import large_recording, make_scene, skeleton20, thresholded
from triangulate import triangulate

THRESHOLD = 0.5
REPROJ = 10.0


def _stats(err: np.ndarray, mask: np.ndarray) -> dict:
    e = err[mask]
    return {"median_mm": float(np.median(e)), "p95_mm": float(np.percentile(e, 95)),
            "p99_mm": float(np.percentile(e, 99)), "n": int(e.size)}


def _anipose(method: str, cg, p: np.ndarray, s: np.ndarray, limbs) -> np.ndarray:
    n_cams, n_frames, n_joints, _ = p.shape
    flat = p.reshape(n_cams, -1, 2)
    if method == "dlt":
        return cg.triangulate(flat).reshape(n_frames, n_joints, 3)
    if method == "ransac":
        # aniposelib 0.8 crashes on points no camera sees: give it the others only
        ok = np.isfinite(flat[..., 0]).sum(0) >= 2
        out = np.full((flat.shape[1], 3), np.nan)
        out[ok] = cg.triangulate_ransac(np.ascontiguousarray(flat[:, ok]))[0]
        return out.reshape(n_frames, n_joints, 3)
    return cg.triangulate_optim(p, constraints=limbs, scores=s, n_deriv_smooth=2,
                                scale_smooth=4, scale_length=2, reproj_error_threshold=REPROJ)


def _ours(method: str, rig, p, s, skeleton):
    return triangulate(rig, p, s, method=method, score_threshold=THRESHOLD,
                       reproj_threshold=REPROJ, skeleton=skeleton)


def accuracy(n_frames: int = 200, seed: int = 11) -> dict:
    """3D errors of both on one scene (intersection of triangulated points)."""
    import logging

    logging.getLogger("triangulate").setLevel(logging.ERROR)
    sc = make_scene(n_frames, 4, seed=seed)
    cg = sc.rig.to_aniposelib()
    pa = thresholded(sc.points2d, sc.scores, THRESHOLD)
    sa = np.where(sc.scores < THRESHOLD, 0.0, sc.scores)
    limbs = np.array(sc.skeleton.limb_indices())
    out = {"scene": {"frames": n_frames, "cameras": 4, "joints": sc.truth.shape[1],
                     "seed": seed, "outlier_fraction": float(sc.outlier.mean()),
                     "occluded_fraction": float(sc.occluded.mean())}}
    for method in ("dlt", "ransac", "optim"):
        t = time.perf_counter()
        ours = _ours(method, sc.rig, sc.points2d, sc.scores, sc.skeleton).points3d
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        theirs = _anipose(method, cg, pa, sa, limbs)
        t_theirs = time.perf_counter() - t
        eo = np.linalg.norm(ours - sc.truth, axis=-1)
        et = np.linalg.norm(theirs - sc.truth, axis=-1)
        both = np.isfinite(eo) & np.isfinite(et)
        out[method] = {"tripose": _stats(eo, both), "aniposelib": _stats(et, both),
                       "coverage_tripose": float(np.isfinite(eo).mean()),
                       "coverage_aniposelib": float(np.isfinite(et).mean()),
                       "seconds_tripose": t_ours, "seconds_aniposelib": t_theirs}
        print(method, json.dumps(out[method]), flush=True)
    return out


def _loadavg() -> list[float]:
    """1, 5 and 15 minute load averages (the machine is shared: recorded with each speed)."""
    try:
        with open("/proc/loadavg") as f:
            return [float(v) for v in f.read().split()[:3]]
    except OSError:
        return []


def _timed(fn, repeats: int, warmup: int) -> dict:
    """:func:`benchmarks.common.timeit` plus the CPU time of each run (all threads)."""
    cpu = []

    def run():
        t = time.process_time()
        fn()
        cpu.append(time.process_time() - t)

    out = timeit(run, repeats=repeats, warmup=warmup)
    cpu = cpu[warmup:]
    out["cpu_median_s"] = float(np.median(cpu))
    out["cpu_all_s"] = [float(c) for c in cpu]
    return out


def speed(repeats: int = 5, slow_repeats: int = 3) -> dict:
    """Points per second of both, medians of repeated runs on one scene.

    Ratios are of wall-clock medians in the same run; CPU seconds (all threads) and the load
    average before and after each method are recorded beside them.
    """
    import logging

    logging.getLogger("triangulate").setLevel(logging.ERROR)
    sc = make_scene(2000, 4, seed=12)
    cg = sc.rig.to_aniposelib()
    pa = thresholded(sc.points2d, sc.scores, THRESHOLD)
    sa = np.where(sc.scores < THRESHOLD, 0.0, sc.scores)
    limbs = np.array(sc.skeleton.limb_indices())
    n_joints = sc.truth.shape[1]
    # aniposelib's robust methods are ~1e2-1e3 points/s: time them on the first frames
    sizes = {"dlt": (2000, 2000), "ransac": (2000, 60), "optim": (1000, 60)}
    out = {}
    for method, (f_ours, f_theirs) in sizes.items():
        load = _loadavg()
        ours = _timed(lambda m=method, f=f_ours: _ours(m, sc.rig, sc.points2d[:, :f],
                                                      sc.scores[:, :f], sc.skeleton),
                      repeats=repeats, warmup=1)
        theirs = _timed(lambda m=method, f=f_theirs: _anipose(m, cg, pa[:, :f], sa[:, :f],
                                                               limbs),
                        repeats=slow_repeats if method != "dlt" else repeats,
                        warmup=1 if method == "dlt" else 0)
        pps_o = f_ours * n_joints / ours["median_s"]
        pps_t = f_theirs * n_joints / theirs["median_s"]
        out[method] = {"tripose": {**ours, "points": f_ours * n_joints, "points_per_s": pps_o},
                       "aniposelib": {**theirs, "points": f_theirs * n_joints,
                                      "points_per_s": pps_t},
                       "ratio": pps_o / pps_t, "loadavg_before": load,
                       "loadavg_after": _loadavg()}
        print(f"{method}: ours {ours['median_s'] * 1e3:,.1f} ms for {f_ours * n_joints} points "
              f"({pps_o:,.0f} pts/s), aniposelib {theirs['median_s'] * 1e3:,.1f} ms for "
              f"{f_theirs * n_joints} ({pps_t:,.0f} pts/s), ratio {pps_o / pps_t:,.1f}x; "
              f"load {load} -> {out[method]['loadavg_after']}", flush=True)
    return out


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return -1


def memory_child(impl: str, method: str, n_frames: int) -> None:
    """(subprocess) run one triangulation and print peak memory above the loaded data."""
    import logging

    logging.getLogger("triangulate").setLevel(logging.ERROR)
    sc = make_scene(n_frames, 4, seed=13)
    skel = sc.skeleton
    pa = thresholded(sc.points2d, sc.scores, THRESHOLD)
    sa = np.where(sc.scores < THRESHOLD, 0.0, sc.scores)
    cg = sc.rig.to_aniposelib() if impl == "aniposelib" else None
    if impl == "aniposelib":
        import aniposelib.cameras  # noqa: F401  (imports before the baseline)
    base = _rss_kb("VmRSS")
    t = time.perf_counter()
    if impl == "tripose":
        _ours(method, sc.rig, sc.points2d, sc.scores, skel)
    else:
        _anipose(method, cg, pa, sa, np.array(skel.limb_indices()))
    dt = time.perf_counter() - t
    print(json.dumps({"peak_above_data_mb": (_rss_kb("VmHWM") - base) / 1024,
                      "peak_rss_mb": _rss_kb("VmHWM") / 1024, "seconds": dt}))


def _run_child(*args) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.triangulate.bench_triangulate", "--child", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return json.loads(res.stdout.strip().splitlines()[-1])


def memory(n_frames: int = 300) -> dict:
    out = {"frames": n_frames, "joints": 16, "cameras": 4}
    for impl in ("tripose", "aniposelib"):
        out[impl] = _run_child(impl, "optim", str(n_frames))
        print("memory", impl, out[impl], flush=True)
    out["ratio"] = (out["aniposelib"]["peak_above_data_mb"]
                    / max(out["tripose"]["peak_above_data_mb"], 1e-3))
    return out


def scaling() -> dict:
    """Seconds per method for growing frames (4 cameras) and cameras (10^4 frames)."""
    import logging

    logging.getLogger("triangulate").setLevel(logging.ERROR)
    rows = []
    skel = skeleton20()
    from poses.skeleton import Skeleton

    sk4 = Skeleton(skel.bodyparts[:4], limbs=skel.limbs[:3])
    for n_frames, n_cams, methods in [(1_000, 4, "dlt ransac optim"),
                                      (10_000, 4, "dlt ransac optim"),
                                      (100_000, 4, "dlt ransac optim"),
                                      (1_000_000, 4, "dlt ransac"),
                                      (10_000, 2, "dlt ransac optim"),
                                      (10_000, 8, "dlt ransac optim"),
                                      (10_000, 16, "dlt ransac optim")]:
        rig, p, s, _ = large_recording(n_frames, n_cams, n_joints=4, seed=14)
        for method in methods.split():
            reps = 3 if n_frames * n_cams <= 40_000 else 1
            # compile for these arrays' dtypes outside the timing (large recordings are
            # float32, small ones float64: a new numba signature costs seconds once)
            triangulate(rig, p[:, :50], s[:, :50], method=method, skeleton=sk4,
                        score_threshold=THRESHOLD)
            r = timeit(lambda m=method, rig=rig, p=p, s=s: triangulate(
                rig, p, s, method=m, skeleton=sk4, score_threshold=THRESHOLD),
                repeats=reps, warmup=1 if reps > 1 else 0)
            row = {"frames": n_frames, "cameras": n_cams, "joints": 4, "method": method,
                   "seconds": r["median_s"], "points_per_s": n_frames * 4 / r["median_s"]}
            rows.append(row)
            print("scaling", row, flush=True)
        p = s = None  # free before the next size
    return {"rows": rows}


def hour(fps: int = 100, minutes: float = 60.0) -> dict:
    """Optim on an hour at 100 fps, 6 cameras, 20 joints: wall time and peak RSS."""
    import logging

    logging.getLogger("triangulate").setLevel(logging.ERROR)
    n_frames = int(fps * 60 * minutes)
    t = time.perf_counter()
    rig, p, s, truth = large_recording(n_frames, 6, n_joints=20, seed=15)
    t_data = time.perf_counter() - t
    rss_data = _rss_kb("VmRSS") / 1024
    t = time.perf_counter()
    res = triangulate(rig, p, s, method="optim", skeleton=skeleton20(),
                      score_threshold=THRESHOLD)
    dt = time.perf_counter() - t
    err = np.linalg.norm(res.points3d - truth, axis=-1)
    out = {"frames": n_frames, "cameras": 6, "joints": 20, "seconds": dt,
           "points_per_s": n_frames * 20 / dt, "data_seconds": t_data,
           "rss_after_data_mb": rss_data, "peak_rss_mb": _rss_kb("VmHWM") / 1024,
           "median_mm": float(np.nanmedian(err)), "p95_mm": float(np.nanpercentile(err, 95)),
           "coverage": float(np.isfinite(err).mean())}
    print("hour", out, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", nargs=3, metavar=("IMPL", "METHOD", "FRAMES"))
    ap.add_argument("--hour", action="store_true")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--only", choices=["accuracy", "speed", "memory", "scaling"], nargs="*")
    args = ap.parse_args()
    if args.child:
        memory_child(args.child[0], args.child[1], int(args.child[2]))
        return
    if args.hour:
        res = hour(minutes=args.minutes)
        save_result("triangulation_hour", {"hour": res})
        return
    parts = args.only or ["accuracy", "speed", "memory", "scaling"]
    result = {}
    for part in parts:
        result[part] = globals()[part]()
        save_result(f"triangulation_{part}", {part: result[part]})


if __name__ == "__main__":
    main()
