"""Openfield acceptance: train from scratch for a time budget, evaluate, plot the curve.

DeepLabCut's openfield example (116 labeled 640x480 frames, 4 bodyparts), the default
``small`` backbone, DeepLabCut's 95/5 split and an 80/20 split, seed 0. A model folder that
already holds a finished run of the same settings is reused (training resumes to the budget).

    python -m benchmarks.pose2d.openfield_acceptance --minutes 10 --models /tmp/openfield
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
PROJECT = "dlc_openfield/openfield-Pranav-2018-10-30"


def plot_curves(runs: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
    for label, model_dir in runs.items():
        h = json.loads((Path(model_dir) / "history.json").read_text())
        loss = [r for r in h if "loss" in r]
        test = [r for r in h if r.get("test_rmse_px") is not None]
        ax[0].plot([r["train_s"] / 60 for r in loss], [r["loss"] for r in loss], label=label)
        ax[1].plot([r["train_s"] / 60 for r in test], [r["test_rmse_px"] for r in test],
                   marker=".", label=label)
    ax[0].set(xlabel="training time (min)", ylabel="training loss", yscale="log")
    ax[1].set(xlabel="training time (min)", ylabel="test RMSE (px, full resolution)",
              ylim=(0, 8))
    ax[1].axhline(2.5, color="grey", ls="--", lw=0.8)
    for a in ax:
        a.legend()
        a.grid(alpha=0.3)
    fig.suptitle("openfield, small backbone, from scratch, CPU")
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)


def main(argv=None) -> None:
    from benchmarks.common import SHARED_DATA, save_result
    from pose2d.evaluate import evaluate
    from pose2d.train import TrainConfig, train

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", type=Path, default=Path("/tmp/tripose_openfield"))
    ap.add_argument("--splits", default="0.95,0.8")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = SHARED_DATA / PROJECT
    runs, rows = {}, []
    for f in (float(s) for s in args.splits.split(",")):
        out = args.models / f"split{round(f * 100)}"
        r = train(data, out, TrainConfig(max_minutes=args.minutes, train_fraction=f, seed=0),
                  progress=False)
        ev = evaluate(out, pictures=6)
        runs[f"{round(f * 100)}/{round(100 - f * 100)} split"] = out
        rows.append({"train_fraction": f, "train_minutes": r["train_minutes"],
                     "iterations": r["iterations"], "n_train": ev["n_train"],
                     "n_test": ev["n_test"], **{k: ev[k] for k in (
                         "train_rmse_px", "test_rmse_px", "train_rmse_pcutoff_px",
                         "test_rmse_pcutoff_px", "pck_test", "per_bodypart", "precision")}})
        print(f"split {f}: test RMSE {ev['test_rmse_px']:.2f} px "
              f"({r['train_minutes']:.1f} min, {r['iterations']} it)", flush=True)
    plot_curves(runs, REPO / "docs" / "images" / "pose2d_openfield_learning_curve.png")
    print(save_result("pose2d_openfield_acceptance", {"threads": args.threads, "runs": rows}))


if __name__ == "__main__":
    main()
