"""ChArUco detection: tripose vs aniposelib on the same frames (speed and corners found).

Usage: .venv/bin/python -m benchmarks.calibration.bench_detection [--session DIR]

Default frames: the real 1280x1024 sleap-anipose images in ../shared/data; with --session, the
calibration videos of a ``tripose synth`` session (decoded once, outside the timing).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from benchmarks.common import SHARED_DATA, save_result, timeit
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--session", type=Path, default=None)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    from aniposelib.boards import CharucoBoard as ACharuco

    board, frames, what = load_frames(args.session)
    bits = int(board.dictionary.split("_")[1][0])
    size = int(board.dictionary.rsplit("_", 1)[1])
    theirs = ACharuco(board.squares_x, board.squares_y, board.square_length, board.marker_length,
                      marker_bits=bits, dict_size=size)
    variant = _choose_variant(frames[:10], board, "bench") or Variant()
    ours = _Detector(board, variant)

    def run_ours():
        return [ours(f) for f in frames]

    def run_theirs():
        return [theirs.detect_image(f) for f in frames]

    t_ours = timeit(run_ours, args.repeats)
    t_theirs = timeit(run_theirs, max(1, args.repeats // 2), warmup=0)
    n_ours = int(sum(np.isfinite(c[:, 0]).sum() for c in run_ours()))
    n_theirs = int(sum(0 if c is None else len(np.asarray(c).reshape(-1, 2))
                       for c, _ in run_theirs()))
    n = len(frames)
    res = {
        "frames": what, "n_frames": n,
        "tripose_ms_per_frame": 1000 * t_ours["median_s"] / n,
        "aniposelib_ms_per_frame": 1000 * t_theirs["median_s"] / n,
        "speedup": t_theirs["median_s"] / t_ours["median_s"],
        "tripose_corners": n_ours, "aniposelib_corners": n_theirs,
        "corner_ratio": n_ours / max(n_theirs, 1),
        "timing": {"tripose": t_ours, "aniposelib": t_theirs},
    }
    name = "calibration_detection" + ("_synth" if args.session else "_real")
    print(f"{what}: {n} frames")
    print(f"  tripose    {res['tripose_ms_per_frame']:8.1f} ms/frame  {n_ours} corners")
    print(f"  aniposelib {res['aniposelib_ms_per_frame']:8.1f} ms/frame  {n_theirs} corners")
    print(f"  speedup {res['speedup']:.1f}x, corners {100 * res['corner_ratio']:.1f}% of "
          f"aniposelib's -> {save_result(name, res)}")


if __name__ == "__main__":
    main()
