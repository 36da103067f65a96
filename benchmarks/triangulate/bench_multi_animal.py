"""Several animals in 3D: accuracy against the synthetic truth and association speed.

Accuracy (``results/multi_animal_accuracy.json``): synthetic mice (``synth.mice``) in a 40 cm
open field, detections without identity (arbitrary slot order every frame, 5% false-positive
instances, occlusion, keypoints taken from touching animals) or with identity labels that
swap 2% of the time; association + tracking + RANSAC triangulation per individual against
the truth: MOT identity switches, median 3D error, coverage of the truly visible keypoints
(seen by 2+ cameras). The single-animal figure is the same pipeline on one mouse alone with
the same rig and noise; the oracle is the same detections associated by the truth.

Harder settings (same file, ``harder``): 3 to 6 mice in 3 to 6 cameras with up to 3 px
noise and 10% false positives: the tracker's identity switches, how many of them fall within
a suspected swap of the report, and what identity labels (2% swapped) leave of them.

Speed (``results/multi_animal_speed.json``): :func:`triangulate.associate.associate`
(undistortion, association and tracking; identities not included) in frames/s, median of 5
runs after a warm-up, single thread, for cameras x animals; and the peak memory of the
association's own arrays for 2,000 to 32,000 frames (tracemalloc, inputs excluded).

    .venv/bin/python -m benchmarks.triangulate.bench_multi_animal [--quick]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from benchmarks.common import save_result, timeit
from synth.mice import capsule_visibility, make_open_field_rig, mouse_names, simulate_mice
from synth.multi_detections import simulate_multi_detections
from synth.scoring import score_tracks
from triangulate import triangulate
from triangulate.associate import associate, gather
from triangulate.identity import resolve_identities


def scene(n_animals: int, n_cams: int, n_frames: int, seed: int = 1, scales: bool = False):
    """Truth ``(n_frames, n_animals, 14, 3)``, rig, visibility, exact projections (and the
    mice's sizes when ``scales``)."""
    P, sizes = simulate_mice(n_frames, n_animals, np.random.default_rng([seed, 1]))
    rig = make_open_field_rig(n_cams, (640, 480), seed=seed)
    vis = capsule_visibility(rig, P, sizes)
    exact = rig.project(P.reshape(n_frames, -1, 3)).reshape(n_cams, n_frames, n_animals,
                                                            14, 2)
    return (P, rig, vis, exact, sizes) if scales else (P, rig, vis, exact)


def reconstruct(rig, det, assignment):
    C, N, _, n_kp, _ = det.points2d.shape
    n = assignment.shape[2]
    p, s = gather(det.points2d, det.scores, assignment)
    res = triangulate(rig, p.reshape(C, N, n * n_kp, 2), s.reshape(C, N, n * n_kp),
                      method="ransac")
    return res.points3d.reshape(N, n, n_kp, 3)


def accuracy(n_animals: int, n_cams: int, n_frames: int, identity: bool, seed: int = 1):
    P, rig, vis, exact = scene(n_animals, n_cams, n_frames, seed)
    det = simulate_multi_detections(exact, vis, (640, 480), np.random.default_rng([seed, 2]),
                                    false_positive_rate=0.05, identity=identity,
                                    identity_swap_rate=0.02, names=mouse_names(n_animals))
    t = time.perf_counter()
    A = associate(rig, det.points2d, det.scores, n_animals)
    ident = resolve_identities(A.assignment, A.confidence, det.slot_names,
                               "auto" if identity else "no", A.n_started)
    seconds = time.perf_counter() - t
    asg = ident.assignment(A.assignment)
    X = reconstruct(rig, det, asg)
    score = score_tracks(P, X, vis)
    oracle = np.full(A.assignment.shape, -1)
    for k in range(n_animals):
        m = det.truth == k
        oracle[..., k] = np.where(m.any(-1), m.argmax(-1), -1)
    best = score_tracks(P, reconstruct(rig, det, oracle), vis)
    # one mouse alone: same rig, noise, detector
    P1, rig1, vis1, exact1 = scene(1, n_cams, n_frames, seed + 100)
    det1 = simulate_multi_detections(exact1, vis1, (640, 480),
                                     np.random.default_rng([seed, 3]), false_positive_rate=0.0,
                                     extra_slots=0)
    single = score_tracks(P1, reconstruct(rig1, det1, np.where(
        det1.truth >= 0, 0, -1)), vis1)
    fp = det.false_positive.any(-1).sum() / max(1, (det.truth >= 0).sum())
    return {
        "animals": n_animals, "cameras": n_cams, "frames": n_frames,
        "identity_labels": identity, "false_positive_share": round(float(fp), 4),
        "label_swap_share": round(float(det.label_swapped.sum() / max(
            1, (det.truth >= 0).sum())), 4),
        "id_switches": score.id_switches, "switch_frames": score.switch_frames[:20],
        "median_error_mm": round(score.median_error, 3),
        "keypoint_median_error_mm": np.round(score.keypoint_median_error, 3).tolist(),
        "oracle_median_error_mm": round(best.median_error, 3),
        "single_animal_median_error_mm": round(single.median_error, 3),
        "error_ratio_to_single": round(score.median_error / single.median_error, 3),
        "keypoint_ratio_max": round(float(np.nanmax(score.keypoint_median_error
                                                     / single.keypoint_median_error)), 3),
        "coverage": round(score.coverage, 4), "oracle_coverage": round(best.coverage, 4),
        "names": ident.names, "used_labels": ident.used_labels,
        "names_match_truth": bool((score.matched == np.arange(n_animals)).mean() > 0.999)
        if identity else None,
        "repaired_track_swaps": sum(r["kind"] == "track" for r in ident.repaired),
        "overruled_label_runs": sum(r["kind"] == "label" for r in ident.repaired),
        "suspected_swaps": len(ident.suspected),
        "association_s": round(seconds, 3),
    }


def harder(seed: int = 3, n_frames: int = 2000):
    """Settings beyond the acceptance: fewer cameras, more noise and false positives, more
    mice. Are the identity switches that happen among the suspected swaps, and do identity
    labels (swapped 2% of the time) repair them?"""
    rows = []
    for K, C, noise, fp, labels in ((3, 3, 1.0, 0.05, False), (3, 3, 1.0, 0.05, True),
                                    (3, 4, 3.0, 0.10, False), (5, 4, 1.0, 0.05, False),
                                    (6, 6, 2.0, 0.10, False)):
        P, rig, vis, exact = scene(K, C, n_frames, seed)
        det = simulate_multi_detections(exact, vis, (640, 480), np.random.default_rng(4),
                                        noise_px=noise, false_positive_rate=fp,
                                        identity=labels, identity_swap_rate=0.02,
                                        names=mouse_names(K))
        A = associate(rig, det.points2d, det.scores, K)
        ident = resolve_identities(A.assignment, A.confidence, det.slot_names,
                                   "auto" if labels else "no", A.n_started)
        asg = ident.assignment(A.assignment)
        sc = score_tracks(P, reconstruct(rig, det, asg), vis)
        raw = score_tracks(P, reconstruct(rig, det, A.assignment), vis)
        flagged = [any(e["start"] - 2 <= f < e["stop"] + 2 for e in ident.suspected)
                   for f, *_ in raw.switch_frames]
        rows.append({"animals": K, "cameras": C, "noise_px": noise, "false_positives": fp,
                     "identity_labels": labels, "tracker_id_switches": raw.id_switches,
                     "tracker_switch_frames": raw.switch_frames,
                     "switches_among_suspected": int(sum(flagged)),
                     "id_switches": sc.id_switches, "switch_frames": sc.switch_frames,
                     "repaired_track_swaps": [r for r in ident.repaired
                                              if r["kind"] == "track"],
                     "names_match_truth": bool((sc.matched == np.arange(K)).mean() > 0.99)
                     if labels else None,
                     "suspected_swaps": len(ident.suspected),
                     "median_error_mm": round(sc.median_error, 3),
                     "coverage": round(sc.coverage, 4)})
        print(rows[-1])
    return rows


def speed(cams, animals, n_frames: int):
    rows = []
    for C in cams:
        for K in animals:
            P, rig, vis, exact = scene(K, C, n_frames)
            det = simulate_multi_detections(exact, vis, (640, 480), np.random.default_rng(2))
            t = timeit(lambda det=det, rig=rig, K=K: associate(rig, det.points2d, det.scores,
                                                                K), repeats=5, warmup=1)
            rows.append({"cameras": C, "animals": K, "frames": n_frames,
                         "median_s": round(t["median_s"], 4),
                         "frames_per_s": round(n_frames / t["median_s"], 1),
                         "all_s": [round(x, 4) for x in t["all_s"]]})
            print(rows[-1])
    return rows


def memory(n_cams=4, n_animals=3):
    """Peak memory of :func:`associate` beyond its inputs for longer and longer recordings
    (a 2,000-frame simulation repeated: the content does not matter here)."""
    P, rig, vis, exact = scene(n_animals, n_cams, 2000)
    det = simulate_multi_detections(exact, vis, (640, 480), np.random.default_rng(2))
    associate(rig, det.points2d[:, :10], det.scores[:, :10], n_animals)
    out = []
    for reps in (1, 4, 16):
        p = np.tile(det.points2d, (1, reps, 1, 1, 1))
        s = np.tile(det.scores, (1, reps, 1, 1))
        tracemalloc.start()
        A = associate(rig, p, s, n_animals)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result = A.assignment.nbytes + A.confidence.nbytes + A.centre.nbytes + A.excess.nbytes
        out.append({"frames": 2000 * reps, "inputs_mb": round((p.nbytes + s.nbytes) / 1e6, 1),
                    "peak_mb": round(peak / 1e6, 1), "result_mb": round(result / 1e6, 1),
                    "peak_minus_result_mb": round((peak - result) / 1e6, 1)})
        print(out[-1])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer frames and configurations")
    ap.add_argument("--speed-only", action="store_true", help="speed and memory only")
    ap.add_argument("--accuracy-only", action="store_true", help="accuracy only")
    args = ap.parse_args()
    if args.speed_only:
        rows = speed((2, 4, 8, 16), (1, 3, 5, 10), 300 if args.quick else 1000)
        save_result("multi_animal_speed", {"rows": rows, "memory": memory()})
        return
    n = 500 if args.quick else 2000
    acc = []
    for K, C, ident in ((3, 6, False), (4, 8, False), (3, 6, True), (4, 8, True)):
        acc.append(accuracy(K, C, n, ident))
        print({k: v for k, v in acc[-1].items() if "keypoint" not in k})
    save_result("multi_animal_accuracy", {"runs": acc, "harder": harder()})
    if args.accuracy_only:
        return
    rows = speed((2, 4, 8, 16), (1, 3, 5, 10), 300 if args.quick else 1000)
    save_result("multi_animal_speed", {"rows": rows, "memory": memory()})


if __name__ == "__main__":
    main()
