"""Pure array-in, array-out filters before and after triangulation.

- :func:`median_filter_2d`: running median of each camera's 2D track (NaN-aware; the one
  running median and outlier rule of :mod:`poses.filters`);
- :func:`fill_gaps`: linear interpolation of short NaN gaps in 3D tracks;
- :func:`lowpass`: zero-phase Butterworth low-pass of 3D tracks, segment by segment.

None of them invents points at the ends of a track or across long gaps.
"""

from __future__ import annotations

import numpy as np

from calibration.errors import InputError
from poses.filters import check_window, median_outliers, running_median

__all__ = ["median_filter_2d", "fill_gaps", "lowpass", "nan_runs"]


def median_filter_2d(points2d: np.ndarray, size: int,
                     offset_threshold: float | None = None) -> np.ndarray:
    """Running median over frames of every camera's 2D keypoint tracks.

    Parameters
    ----------
    points2d : (n_cams, n_frames, n_joints, 2) pixels, NaN where missing
    size : int
        Odd window length in frames (1 returns a copy).
    offset_threshold : float, optional
        Pixels. If given, the raw points are kept and those whose L1 offset ``|dx| + |dy|``
        from the running median reaches this become NaN (anipose's ``medfilt`` rule,
        :func:`poses.filters.median_outliers`); otherwise the median replaces them.

    Returns
    -------
    filtered : (n_cams, n_frames, n_joints, 2); NaN wherever the input is
    """
    p = np.asarray(points2d, dtype=np.float64)
    if p.ndim < 2:
        raise InputError(f"median filter: expected points2d (n_cams, n_frames, n_joints, 2), "
                         f"got shape {p.shape}")
    if check_window(size) == 1 or p.shape[1] == 0:
        return p.copy()
    missing = ~np.isfinite(p).all(-1)
    if offset_threshold is None:
        out = running_median(p, size, axis=1)
    else:
        out = p.copy()
        missing |= median_outliers(p, size, offset_threshold, axis=1)
    out[missing] = np.nan
    return out


def nan_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Starts and stops (exclusive) of the True runs of a 1D boolean mask."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.diff(m.astype(np.int8))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def fill_gaps(points3d: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly interpolate interior NaN gaps of at most ``max_gap`` frames.

    Parameters
    ----------
    points3d : (n_frames, n_joints, 3) rig units
    max_gap : int
        Longest gap filled, frames (0 fills nothing). Gaps touching the first or last frame
        are never filled.

    Returns
    -------
    filled : (n_frames, n_joints, 3)
    """
    max_gap = int(max_gap)
    if max_gap < 0:
        raise InputError(f"fill_gaps (gap filling) takes a number of frames >= 0, got {max_gap}")
    X = np.array(points3d, dtype=np.float64)
    if max_gap == 0:
        return X
    n = X.shape[0]
    frames = np.arange(n)
    for j in range(X.shape[1]):
        missing = ~np.isfinite(X[:, j]).all(-1)
        if not missing.any() or missing.all():
            continue
        starts, stops = nan_runs(missing)
        fill = np.zeros(n, bool)
        for s, e in zip(starts, stops, strict=True):
            if s > 0 and e < n and e - s <= max_gap:
                fill[s:e] = True
        if fill.any():
            good = ~missing
            for k in range(3):
                X[fill, j, k] = np.interp(frames[fill], frames[good], X[good, j, k])
    return X


def check_lowpass(cutoff_hz: float, fps: float) -> None:
    """Refuse a cutoff the frame rate cannot carry (``0 < cutoff < fps / 2``).

    Raises
    ------
    InputError
    """
    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"low-pass filtering needs the frame rate (fps > 0), got {fps}")
    if not 0 < cutoff_hz < fps / 2:
        raise InputError(f"lowpass_hz (low-pass cutoff) must be within (0, fps/2 = {fps / 2}) "
                         f"Hz, got {cutoff_hz}")


def lowpass(points3d: np.ndarray, cutoff_hz: float, fps: float, order: int = 4) -> np.ndarray:
    """Zero-phase Butterworth low-pass filter of every 3D track (``sosfiltfilt``).

    Parameters
    ----------
    points3d : (n_frames, n_joints, 3) rig units
    cutoff_hz : float
        Cutoff frequency, Hz; below ``fps / 2``.
    fps : float
        Frame rate, Hz.
    order : int
        Filter order.

    Returns
    -------
    filtered : (n_frames, n_joints, 3)
        Each finite segment is filtered on its own; segments too short for the filter's
        padding are left as they are; NaN stays NaN.
    """
    from scipy.signal import butter, sosfiltfilt

    check_lowpass(cutoff_hz, fps)
    sos = butter(int(order), cutoff_hz, fs=fps, output="sos")
    padlen = 3 * (2 * len(sos) + 1)
    X = np.array(points3d, dtype=np.float64)
    for j in range(X.shape[1]):
        good = np.isfinite(X[:, j]).all(-1)
        starts, stops = nan_runs(good)
        for s, e in zip(starts, stops, strict=True):
            if e - s > padlen:
                X[s:e, j] = sosfiltfilt(sos, X[s:e, j], axis=0)
    return X
