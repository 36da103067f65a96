"""Few labels: a pretrained backbone against training from scratch on openfield.

DeepLabCut's openfield example (116 labeled 640x480 frames, 4 bodyparts), DeepLabCut's 95/5
split with seed 0 as :func:`pose2d.train.train` makes it: the same 6 test frames for every
run, the 110 training frames cut to 20, 40 or kept whole (``TrainConfig.n_train_frames``, a
seeded choice). Backbones ``small`` (from scratch) and ``efficientnet-lite0`` (ImageNet
weights); the same time budget for each run, seed 0; test RMSE at full resolution
(:func:`pose2d.evaluate.evaluate`). Runs go one after the other, the backbones alternating
(so that both see similar machine load); the result file is rewritten after each, and a
model folder that holds a finished run is reused.

    python -m benchmarks.pose2d.few_labels --minutes 10 --models /tmp/few_labels

``--set backbone.key=value`` overrides a :class:`~pose2d.train.TrainConfig` field for one
backbone (for tuning: ``--set efficientnet-lite0.lr=1e-3``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
PROJECT = "dlc_openfield/openfield-Pranav-2018-10-30"
FIGURE = REPO / "docs" / "images" / "pose2d_few_labels.png"


def _commit() -> str:
    r = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                       cwd=REPO)
    return r.stdout.strip() or "unknown"


def _overrides(items: list[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for item in items:
        key, _, value = item.partition("=")
        backbone, _, field = key.rpartition(".")
        out.setdefault(backbone, {})[field] = json.loads(value.lower() if value.lower() in (
            "true", "false", "null") else value)
    return out


def plot(rows: list[dict], png: Path) -> None:
    """Test RMSE against the number of training frames, one line per backbone."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.6))
    labels = {"small": "small, from scratch", "efficientnet-lite0": "efficientnet-lite0, ImageNet"}
    for bb in dict.fromkeys(r["backbone"] for r in rows):
        rr = sorted((r for r in rows if r["backbone"] == bb), key=lambda r: r["n_train"])
        ax.plot([r["n_train"] for r in rr], [r["test_rmse_px"] for r in rr], marker="o",
                label=labels.get(bb, bb))
        for r in rr:
            ax.annotate(f"{r['test_rmse_px']:.2f} px, {r['iterations']} it",
                        (r["n_train"], r["test_rmse_px"]), textcoords="offset points",
                        xytext=(4, 4), fontsize=8)
    ax.set(xlabel="labeled training frames", ylabel="test RMSE (px, 6 frames, 640x480)",
           xscale="log", ylim=(0, None))
    ticks = sorted({r["n_train"] for r in rows})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_xlim(ticks[0] * 0.8, ticks[-1] * 1.7)  # room for the labels
    ax.minorticks_off()
    ax.grid(alpha=0.3)
    ax.legend()
    minutes = max(r["train_minutes"] for r in rows)
    ax.set_title(f"openfield, {minutes:.0f} min of training per run (it: steps reached)",
                 fontsize=10)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (see the module docstring); prints one line per run."""
    from benchmarks.common import SHARED_DATA, save_result
    from pose2d.evaluate import evaluate
    from pose2d.train import TrainConfig, train

    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", type=Path, default=Path("/tmp/tripose_few_labels"))
    ap.add_argument("--frames", default="20,40,all", help="training frames per run ('all': "
                    "the whole 95%% split)")
    ap.add_argument("--backbones", default="small,efficientnet-lite0")
    ap.add_argument("--set", action="append", default=[], metavar="BACKBONE.FIELD=VALUE")
    ap.add_argument("--name", default=None, help="result file name (default "
                    "few_labels_openfield_<commit>)")
    ap.add_argument("--no-plot", action="store_true")
    ap.add_argument("--plot-only", type=Path, default=None, metavar="RESULT_JSON",
                    help="redraw the figure from a result file, train nothing")
    args = ap.parse_args(argv)
    if args.plot_only is not None:
        plot(json.loads(args.plot_only.read_text())["runs"], FIGURE)
        return
    torch.set_num_threads(args.threads)
    data = SHARED_DATA / PROJECT
    over = _overrides(args.set)
    name = args.name or f"few_labels_openfield_{_commit()}"
    rows = []
    for f in args.frames.split(","):  # backbones alternate, so both see similar machine load
        for bb in args.backbones.split(","):
            n = None if f == "all" else int(f)
            kw = {"backbone": bb, "max_minutes": args.minutes, "seed": 0,
                  "train_fraction": 0.95, "n_train_frames": n, **over.get(bb, {})}
            out = args.models / f"{bb}_{f}"
            r = train(data, out, TrainConfig(**kw), progress=False)
            ev = evaluate(out, pictures=0)
            rows.append({"backbone": bb, "frames": f, "config": {k: v for k, v in kw.items()
                                                                  if k != "backbone"},
                         "n_train": ev["n_train"], "n_test": ev["n_test"],
                         "iterations": r["iterations"], "epochs": r["epochs"],
                         "train_minutes": r["train_minutes"],
                         **{k: ev[k] for k in ("train_rmse_px", "test_rmse_px",
                                               "test_rmse_pcutoff_px", "pck_test",
                                               "per_bodypart")},
                         "model_dir": str(out)})
            print(f"{bb:20s} {f:>4s} frames: test RMSE {ev['test_rmse_px']:.2f} px, train "
                  f"{ev['train_rmse_px']:.2f} px ({r['iterations']} it, "
                  f"{r['train_minutes']:.1f} min)", flush=True)
            save_result(name, {"threads": args.threads, "minutes": args.minutes,
                               "project": PROJECT, "runs": rows})
    if not args.no_plot:
        plot(rows, FIGURE)
    print(save_result(name, {"threads": args.threads, "minutes": args.minutes,
                             "project": PROJECT, "runs": rows}))


if __name__ == "__main__":
    main()
