"""Learning curves on the real 4-camera mouse session: labels needed for a given 2D/3D error.

The sleap-anipose minimal session in ``../shared/data/sleap_anipose_minimal`` (cameras back,
mid, side, top; 1280x1024; 120 frames, every one proofread in SLEAP, 15 nodes). An *instant*
is one frame number in all four cameras. The rig is calibrated by tripose from the session's
ChArUco images (the reference calibration's ``side`` entry is a copy of ``top``).

- test instants: every third frame (40 instants, 160 camera frames), never trained on;
- training instants: the first ``n`` of a seeded permutation of the other 80 (nested sets);
- variants: ``scratch`` (the ``small`` backbone from random weights), ``pretrained``
  (EfficientNet-Lite0 from ImageNet), ``bootstrap`` (pretrained + one round of multi-view
  bootstrapping on the training pool's unlabelled instants: never the test instants);
- each training gets the same wall-clock budget; bootstrapping trains twice;
- frames are resized by ``--scale`` (0.5: 640x512, as DeepLabCut's ``global_scale``) for
  training and analysis, the calibration's intrinsics with them; 2D errors are reported in
  full-resolution pixels;
- 2D: RMSE (px) of the predictions against the proofread labels of the test frames;
  3D: median distance (mm) between the triangulated predictions (RANSAC) and the triangulated
  proofread labels (DLT), over keypoints both give.

    python -m benchmarks.pose2d.learning_curves --minutes 5 --sizes 5 10 20 40 \\
        --work /tmp/tripose_lc
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CAMS = ["back", "mid", "side", "top"]
VARIANTS = ("scratch", "pretrained", "bootstrap")


def _scale_px(xy: np.ndarray, scale: float) -> np.ndarray:
    """Pixels (origin at the top-left pixel's centre) of an image resized by ``scale``."""
    return (np.asarray(xy, float) + 0.5) * scale - 0.5


def _rig(root: Path, work: Path, scale: float):
    """tripose's calibration of the session (full resolution), its intrinsics resized."""
    from calibration import load_board, load_rig
    from calibration.api import calibrate
    from calibration.rig import CameraRig
    from calibration.save_rig import to_anipose_toml

    path = work / "calibration_full.toml"
    if not path.is_file():
        res = calibrate([f"{c}={root / c / 'calibration_images'}" for c in CAMS],
                        load_board(root / "board.toml"))
        to_anipose_toml(res.rig, path)
    full = load_rig(path)
    cams = []
    for cam in full:
        K = cam.matrix.copy()
        K[:2, :2] *= scale
        K[:2, 2] = _scale_px(K[:2, 2], scale)
        size = (round(cam.size[0] * scale), round(cam.size[1] * scale))
        cams.append(cam.copy(matrix=K, size=size))
    rig = CameraRig(cams, units=full.units)
    to_anipose_toml(rig, work / "calibration.toml")
    return rig


def _labels(root: Path, scale: float):
    from poses import load_poses

    out = {}
    for c in CAMS:
        p = load_poses(root / c / f"minimal_{c}_proofread.analysis.h5", format="sleap")
        out[c] = _scale_px(p.position[:, 0], scale)  # (120, 15, 2)
    return out, list(p.keypoints)


def _video(root: Path, cam: str, work: Path, scale: float) -> tuple[Path, list]:
    """The camera's 120 frames resized by ``scale`` (INTER_AREA), and a lossless-ish copy of
    them as a video for bootstrapping to read."""
    import cv2

    from tripose.bootstrap import read_frames

    frames = read_frames(root / cam / f"minimal_{cam}.mp4", np.arange(120))
    if scale != 1:
        frames = [cv2.resize(f, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
                  for f in frames]
    path = work / "videos" / f"minimal_{cam}.avi"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        h, w = frames[0].shape[:2]
        out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 30.0, (w, h))
        for f in frames:
            out.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
        out.release()
    return path, frames


def _labeled(images: dict, labels: dict, frames, bodyparts: list[str], videos: dict):
    from pose2d.dataset import LabeledFrames, labels_poses

    imgs, pts, names = [], [], []
    for c in CAMS:
        for f in frames:
            if not np.isfinite(labels[c][f]).all(axis=1).any():
                continue
            imgs.append(images[c][f])
            pts.append(labels[c][f])
            names.append(f"{videos[c].name}#{int(f)}")
    return LabeledFrames(imgs, labels_poses(np.asarray(pts), names, bodyparts, "proofread"),
                         names, source="sleap_anipose_minimal")


def _evaluate(model_dir: Path, images: dict, labels: dict, test, rig, scale: float) -> dict:
    from pose2d.inference import Predictor
    from pose2d.metrics import predict_frames
    from pose2d.model_folder import load_model
    from triangulate import triangulate

    net, settings = load_model(model_dir)
    pred = Predictor(net, settings, device="cpu")
    xy, conf, truth = [], [], []
    for c in rig.names:
        p, s = predict_frames(pred, [images[c][f] for f in test])
        xy.append(p)
        conf.append(s)
        truth.append(labels[c][test])
    xy, conf, truth = np.stack(xy), np.stack(conf), np.stack(truth)
    err2 = np.linalg.norm(xy - truth, axis=-1) / scale  # full-resolution pixels
    ok = np.isfinite(err2)
    X = triangulate(rig, xy, conf, method="ransac", reproj_threshold=15.0).points3d
    T = triangulate(rig, truth, np.isfinite(truth[..., 0]).astype(float), method="dlt").points3d
    err3 = np.linalg.norm(X - T, axis=-1)
    both = np.isfinite(err3)
    return {"rmse_2d_px": float(np.sqrt(np.mean(err2[ok] ** 2))),
            "median_2d_px": float(np.median(err2[ok])),
            "median_3d_mm": float(np.median(err3[both])) if both.any() else None,
            "coverage_3d": float(both.sum() / max(1, np.isfinite(T).all(-1).sum()))}


def run(minutes: float, sizes: list[int], variants: list[str], work: Path, seed: int = 0,
        bootstrap_frames: int = 40, scale: float = 0.5) -> dict:
    import torch

    from benchmarks.common import SHARED_DATA
    from pose2d.train import TrainConfig, train
    from tripose.bootstrap import BootstrapConfig, bootstrap

    torch.set_num_threads(2)
    root = SHARED_DATA / "sleap_anipose_minimal"
    work.mkdir(parents=True, exist_ok=True)
    rig = _rig(root, work, scale)
    labels, bodyparts = _labels(root, scale)
    videos, images = {}, {}
    for c in CAMS:
        videos[c], images[c] = _video(root, c, work, scale)
    test = np.arange(0, 120, 3)
    pool = np.random.default_rng(seed).permutation(np.setdiff1d(np.arange(120), test))
    results = []
    for n in sizes:
        frames = np.sort(pool[:n])
        human = _labeled(images, labels, frames, bodyparts, videos)
        for variant in variants:
            model = work / f"{variant}_{n}"
            backbone = "small" if variant == "scratch" else "efficientnet-lite0"
            cfg = TrainConfig(backbone=backbone, max_minutes=minutes, seed=seed,
                              train_fraction=1.0, eval_every_s=0)
            t = time.perf_counter()
            extra = {}
            if not (model / "model.pt").is_file():
                if variant == "bootstrap":
                    summary = bootstrap(
                        human, videos, rig, model, cfg,
                        BootstrapConfig(rounds=1, n_frames=bootstrap_frames,
                                        max_error_px=10.0),
                        labelled_frames=np.concatenate([frames, test]), progress=False)
                    extra = {"pseudo": summary["rounds"][1]["pseudo"],
                             "n_pseudo_frames": summary["rounds"][1]["n_pseudo_frames"]}
                else:
                    train(human, model, cfg, progress=False)
            ev = _evaluate(model, images, labels, test, rig, scale)
            rec = {"instants": int(n), "frames": len(human), "variant": variant,
                   "backbone": backbone, "wall_s": time.perf_counter() - t, **ev, **extra}
            print(json.dumps(rec), flush=True)
            results.append(rec)
    return {"minutes_per_training": minutes, "test_instants": len(test), "seed": seed,
            "scale": scale, "runs": results}


def plot(result: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(10, 3.8))
    for variant in VARIANTS:
        rows = sorted((r for r in result["runs"] if r["variant"] == variant),
                      key=lambda r: r["instants"])
        if not rows:
            continue
        x = [r["instants"] for r in rows]
        ax[0].plot(x, [r["rmse_2d_px"] for r in rows], marker="o", label=variant)
        ax[1].plot(x, [r["median_3d_mm"] for r in rows], marker="o", label=variant)
    ax[0].set(xlabel="labelled instants (x4 cameras)", ylabel="test 2D RMSE (px)", xscale="log")
    ax[1].set(xlabel="labelled instants (x4 cameras)", ylabel="test 3D median error (mm)",
              xscale="log")
    for a in ax:
        a.grid(alpha=0.3)
        a.legend()
    fig.suptitle(f"real 4-camera mouse (sleap-anipose minimal), "
                 f"{result['minutes_per_training']:g} min per training, 2 CPU cores")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)


def main(argv=None) -> None:
    from benchmarks.common import save_result

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--sizes", type=int, nargs="+", default=[5, 10, 20, 40])
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    ap.add_argument("--work", type=Path, default=Path("/tmp/tripose_learning_curves"))
    ap.add_argument("--name", default="learning_curves_mouse")
    ap.add_argument("--scale", type=float, default=0.5, help="image scale of training and "
                    "analysis (errors are reported in full-resolution pixels)")
    args = ap.parse_args(argv)
    result = run(args.minutes, args.sizes, args.variants, args.work, scale=args.scale)
    save_result(args.name, result)
    plot(result, REPO / "docs" / "images" / f"{args.name}.png")


if __name__ == "__main__":
    main()
