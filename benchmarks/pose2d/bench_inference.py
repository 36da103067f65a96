"""2D pose inference throughput (frames/s) through the public ``Predictor``.

Timed: uint8 RGB frames in, keypoints and confidences out (normalisation, network, decoding);
video decoding is not included. Weights are random (speed does not depend on them); 4
bodyparts as in the openfield project. Fixed seed, 2 warmups, median and IQR of 10 runs, and
the best run (the machine is shared; the load average is recorded).

    python -m benchmarks.pose2d.bench_inference              # CPU, 2 threads
    python -m benchmarks.pose2d.bench_inference --device cuda --batch 64 --out results.json
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np
import torch

from pose2d.inference import Predictor
from pose2d.model import PoseNet

SIZES = {"256x256": (256, 256), "openfield 640x480": (480, 640)}


def bench(backbone: str, hw: tuple[int, int], batch: int, device: str, precision: str,
          repeats: int = 10) -> dict:
    from benchmarks.common import timeit

    torch.manual_seed(0)
    net = PoseNet(4, backbone)
    pred = Predictor(net, {"locref_scale": 7.2, "stride": 4}, device=device,
                     precision=precision)
    frames = np.random.default_rng(0).integers(0, 256, (batch, *hw, 3), dtype=np.uint8)

    def run():
        pred(frames)
        if device == "cuda":
            torch.cuda.synchronize()

    t = timeit(run, repeats=repeats, warmup=2)
    return {"backbone": backbone, "size_hw": list(hw), "batch": batch, "device": device,
            "precision": pred.precision, "fps": batch / t["median_s"],
            "fps_best": batch / min(t["all_s"]),
            "fps_iqr": [batch / (t["median_s"] + t["iqr_s"] / 2),
                        batch / max(1e-9, t["median_s"] - t["iqr_s"] / 2)], **t}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--backbones", default="small,resnet50")
    ap.add_argument("--out", type=Path, default=None, help="write JSON here instead of "
                    "benchmarks/results/")
    args = ap.parse_args(argv)
    import os

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    rows = []
    for backbone in args.backbones.split(","):
        for name, hw in SIZES.items():
            precisions = ["auto", "float32"] if args.device == "cpu" else ["auto"]
            for prec in precisions:
                if backbone == "resnet50" and args.device == "cpu" and prec == "float32":
                    continue  # minutes per point on 2 cores; bfloat16 is the figure
                b = args.batch if not (backbone == "resnet50" and args.device == "cpu") else 4
                r = bench(backbone, hw, b, args.device, prec)
                r["size"] = name
                rows.append(r)
                print(f"{backbone:9s} {name:18s} batch {b:3d} {r['precision']:9s} "
                      f"{r['fps']:8.1f} fps (best {r['fps_best']:.1f})", flush=True)
    result = {"benchmark": "pose2d_inference", "threads": args.threads, "rows": rows,
              "load_average_1min": [load_before, os.getloadavg()[0]],
              "torch": torch.__version__,
              "gpu": torch.cuda.get_device_name(0) if args.device == "cuda" else None}
    if args.out is not None:
        result["environment"] = {"python": platform.python_version(),
                                 "numpy": np.__version__, "cpu": platform.processor()}
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    else:
        from benchmarks.common import save_result

        tag = "gpu" if args.device != "cpu" else (
            "cpu" if args.threads == 2 else f"cpu_{args.threads}thread")
        print(save_result(f"pose2d_inference_{tag}", result))


if __name__ == "__main__":
    main()
