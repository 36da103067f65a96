"""Helpers for viz3d tests: reading pictures and movies, looking for colours."""

from __future__ import annotations

import numpy as np


def read_png(path) -> np.ndarray:
    """(h, w, 3) uint8 RGB."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert img is not None, f"cannot read {path}"
    return img[:, :, ::-1].copy()


def count_frames(path) -> tuple[int, tuple[int, int]]:
    """Decode an MP4 fully: (number of frames, (width, height))."""
    import imageio_ffmpeg

    gen = imageio_ffmpeg.read_frames(str(path))
    meta = next(gen)
    n = sum(1 for _ in gen)
    return n, tuple(meta["size"])


def colour_near(img: np.ndarray, uv: np.ndarray, rgb: np.ndarray, radius: int = 3) -> float:
    """Smallest RGB distance to ``rgb`` within ``radius`` px of pixel ``uv`` (inf if outside)."""
    u, v = int(round(uv[0])), int(round(uv[1]))
    h, w = img.shape[:2]
    if not (radius <= u < w - radius and radius <= v < h - radius):
        return np.inf
    win = img[v - radius:v + radius + 1, u - radius:u + radius + 1].reshape(-1, 3).astype(float)
    return float(np.linalg.norm(win - rgb.astype(float), axis=1).min())
