"""Checks at pose2d's public entry points; errors say expected vs got and what to do."""

from __future__ import annotations

import numpy as np

__all__ = ["check_frames", "check_track"]


def check_frames(frames: np.ndarray, where: str = "frames") -> np.ndarray:
    """``(B, H, W, 3)`` uint8 RGB, returned as a C-contiguous array.

    Raises
    ------
    ValueError
        Wrong rank, channel count or dtype.
    """
    a = np.asarray(frames)
    if a.ndim != 4 or a.shape[-1] != 3:
        raise ValueError(f"{where}: expected (batch, height, width, 3) RGB, got shape {a.shape}; "
                         f"stack single frames with frames[None]")
    if a.dtype != np.uint8:
        raise ValueError(f"{where}: expected uint8 pixels (0-255), got {a.dtype}; convert with "
                         f"np.clip(x, 0, 255).astype(np.uint8)")
    if min(a.shape[1:3]) < 16:
        raise ValueError(f"{where}: frames must be at least 16x16 pixels, got "
                         f"{a.shape[2]}x{a.shape[1]}")
    return np.ascontiguousarray(a)


def check_track(xy: np.ndarray, conf: np.ndarray, candidates: bool = False):
    """``xy (T, J, 2)`` and ``conf (T, J)`` (or ``(T, J, K, 2)``/``(T, J, K)`` candidates).

    Returns
    -------
    xy, conf : float64 arrays
    """
    xy = np.asarray(xy, dtype=np.float64)
    conf = np.asarray(conf, dtype=np.float64)
    ranks = (3, 4) if candidates else (3,)
    if xy.ndim not in ranks or xy.shape[-1] != 2 or conf.shape != xy.shape[:-1]:
        want = "(n_frames, n_joints[, K], 2)" if candidates else "(n_frames, n_joints, 2)"
        raise ValueError(f"expected xy {want} and conf of the same shape without the last "
                         f"axis, got {xy.shape} and {conf.shape}")
    return xy, conf
