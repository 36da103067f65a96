"""The one running median of keypoint tracks and anipose's median outlier rule (numpy only).

- :func:`running_median`: NaN-aware running median over frames (centred window; near the
  ends of a track and next to gaps, the median of the frames the window does hold);
- :func:`median_outliers`: anipose's ``medfilt`` rule, a point whose L1 offset
  ``|dx| + |dy|`` from the running median reaches ``offset_threshold`` is an outlier.

``triangulate.filters.median_filter_2d`` and ``pose2d.filters.median_filter_track`` are
built on these two.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

__all__ = ["running_median", "median_outliers", "check_window"]


def check_window(size) -> int:
    """``size`` as an int, checked to be an odd number of frames >= 1 (else InputError)."""
    n = int(size)
    if n != size or n < 1 or n % 2 == 0:
        raise InputError(f"median filter size must be an odd number of frames >= 1, got {size}")
    return n


def _check_axis(axis, ndim: int) -> int:
    if not -ndim <= int(axis) < ndim:
        raise InputError(f"frames axis {axis} out of range for an array of {ndim} dimension(s)")
    return int(axis) % ndim


def _nanmedian_last(x: np.ndarray) -> np.ndarray:
    """``np.nanmedian(x, axis=-1)`` (NaN where a row is all NaN) by one sort, without
    ``nanmedian``'s masked-array path for short rows (~5x faster here, same values)."""
    s = np.sort(x, axis=-1)                          # NaN sort last
    n = np.count_nonzero(~np.isnan(x), axis=-1)
    lo = np.take_along_axis(s, np.maximum((n - 1) // 2, 0)[..., None], -1)[..., 0]
    hi = np.take_along_axis(s, np.maximum(n // 2 - (n == 0), 0)[..., None], -1)[..., 0]
    med = (lo + hi) / 2
    med[n == 0] = np.nan
    return med


def running_median(x: np.ndarray, size: int, axis: int = 0) -> np.ndarray:
    """NaN-aware running median over frames.

    Parameters
    ----------
    x : array, frames along ``axis`` (e.g. ``(n_frames, n_keypoints, 2)`` pixels)
        NaN where missing.
    size : int
        Odd window length in frames, centred on each frame (1 returns a copy).
    axis : int
        The frames axis.

    Returns
    -------
    median : float64 array shaped like ``x``
        Element-wise the median of the finite values among frames ``t - size//2 .. t +
        size//2`` (frames outside the track count as missing); NaN where the window holds
        none. Each element (e.g. x and y) is filtered on its own.

    Raises
    ------
    InputError
        ``size`` not an odd positive integer.
    """
    size = check_window(size)
    p = np.asarray(x, dtype=np.float64)
    axis = _check_axis(axis, p.ndim)
    if size == 1 or p.shape[axis] == 0:
        return p.copy()
    half = size // 2
    pad = [(0, 0)] * p.ndim
    pad[axis] = (half, half)
    padded = np.pad(p, pad, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, size, axis=axis)
    return _nanmedian_last(windows)


def median_outliers(xy: np.ndarray, size: int, offset_threshold: float,
                    axis: int = 0) -> np.ndarray:
    """Anipose's ``medfilt`` outlier rule: points far (L1) from their running median.

    Parameters
    ----------
    xy : (..., 2) pixels with frames along ``axis`` (e.g. ``(n_frames, n_keypoints, 2)``)
        NaN where missing.
    size : int
        Odd window of the running median, frames (see :func:`running_median`).
    offset_threshold : float
        Pixels; a point with ``|dx| + |dy| >= offset_threshold`` from the running median is
        an outlier (anipose's ``filter_medfilt``).
    axis : int
        The frames axis (not the last).

    Returns
    -------
    outlier : bool array shaped ``xy.shape[:-1]``
        False where the point is missing (missing is not an outlier).
    """
    p = np.asarray(xy, dtype=np.float64)
    if p.ndim < 2 or p.shape[-1] != 2:
        raise InputError(f"median outliers: expected points (..., 2) with frames along axis "
                         f"{axis}, got shape {p.shape}")
    axis = _check_axis(axis, p.ndim)
    if axis == p.ndim - 1:
        raise InputError("median outliers: the frames axis cannot be the coordinate axis")
    offset = np.abs(p - running_median(p, size, axis=axis)).sum(axis=-1)
    with np.errstate(invalid="ignore"):
        return offset >= float(offset_threshold)
