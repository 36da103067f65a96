"""Synthetic acceptance: train on a `tripose synth` session, analyze, triangulate.

1. ``tripose synth`` session (4 cameras, 300 frames, seed 0) unless one exists;
2. train the default model on frames of ``videos/`` (60 per camera, 95/5 split) for a budget;
3. ``evaluate`` (test RMSE against the exact labels, visible keypoints);
4. ``analyze`` every video and triangulate the output with the true calibration (RANSAC);
   the 3D error against ``ground_truth/points3d.csv`` is reported beside the same
   triangulation of the session's simulated detector.

    python -m benchmarks.pose2d.synth_acceptance --session /tmp/synth --minutes 10
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch


def _err3d(result_points, truth):
    e = np.linalg.norm(result_points - truth, axis=-1)
    ok = np.isfinite(e)
    return {"median_mm": float(np.median(e[ok])), "mean_mm": float(e[ok].mean()),
            "p95_mm": float(np.percentile(e[ok], 95)), "fraction_triangulated": float(ok.mean())}


def main(argv=None) -> None:
    from benchmarks.common import save_result
    from pose2d.analyze import analyze_videos
    from pose2d.evaluate import evaluate
    from pose2d.train import TrainConfig, train
    from synth.session import load_points3d_csv
    from triangulate.files import triangulate_files

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--session", type=Path, default=Path("/tmp/tripose_synth"))
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    s = args.session
    if not (s / "ground_truth" / "points3d.csv").is_file():
        from synth import make_session

        make_session(s, n_cams=4, n_frames=300, seed=0, n_jobs=1)
    model = s / "model_pose2d"
    r = train(s, model, TrainConfig(max_minutes=args.minutes, seed=0), progress=False)
    ev = evaluate(model, pictures=6)
    videos = sorted((s / "videos").glob("*.mp4"))
    an = analyze_videos(model, videos, s / "pose2d_tripose", progress=False, overwrite=True)
    truth = load_points3d_csv(s / "ground_truth" / "points3d.csv")
    truth = truth[0] if isinstance(truth, tuple) else truth
    out = {}
    for name, folder in (("tripose_model", s / "pose2d_tripose"),
                         ("simulated_detector", s / "pose2d")):
        inputs = {v.stem: folder / f"{v.stem}.h5" for v in videos}
        res, _ = triangulate_files(s / "ground_truth" / "calibration.toml", inputs,
                                   s / f"points3d_{name}.csv", method="ransac")
        out[name] = _err3d(res.points3d, np.asarray(truth, float))
        out[name]["reprojection_median_px"] = float(np.nanmedian(res.reprojection_error))
    result = {"train_minutes": r["train_minutes"], "iterations": r["iterations"],
              "n_train": ev["n_train"], "n_test": ev["n_test"],
              "train_rmse_px": ev["train_rmse_px"], "test_rmse_px": ev["test_rmse_px"],
              "test_rmse_pcutoff_px": ev["test_rmse_pcutoff_px"],
              "analyze_fps": [a.get("fps") for a in an], "triangulation_3d": out}
    print(result)
    print(save_result("pose2d_synth_acceptance", result))


if __name__ == "__main__":
    main()
