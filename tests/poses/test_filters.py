"""poses.filters: the one running median and anipose's median outlier rule."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from poses import InputError
from poses.filters import _nanmedian_last, check_window, median_outliers, running_median


def explicit_running_median(x: np.ndarray, size: int, axis: int = 0) -> np.ndarray:
    """The truth: np.nanmedian over each frame's explicit window, clipped at the ends."""
    x = np.moveaxis(np.asarray(x, dtype=np.float64), axis, 0)
    half = size // 2
    out = np.empty_like(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # all-NaN windows
        for t in range(len(x)):
            out[t] = np.nanmedian(x[max(0, t - half):t + half + 1], axis=0)
    return np.moveaxis(out, 0, axis)


@pytest.mark.parametrize("size", [1, 3, 5, 13])
def test_running_median_equals_nanmedian_over_explicit_windows(size):
    rng = np.random.default_rng(size)
    x = rng.normal(size=(40, 3, 2)) * 10
    x[rng.random(x.shape[:2]) < 0.3] = np.nan
    x[10:25, 1] = np.nan                                       # a gap longer than the window
    x[:, 2, 1] = np.nan                                        # a coordinate never seen
    np.testing.assert_array_equal(running_median(x, size), explicit_running_median(x, size))


def test_running_median_along_another_axis():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 30, 4, 2))                         # (n_cams, n_frames, ...)
    x[rng.random(x.shape) < 0.2] = np.nan
    np.testing.assert_array_equal(running_median(x, 5, axis=1),
                                  explicit_running_median(x, 5, axis=1))
    np.testing.assert_array_equal(running_median(x, 5, axis=-3), running_median(x, 5, axis=1))


def test_running_median_edge_cases():
    x = np.arange(6.0)
    y = running_median(x, 1)
    np.testing.assert_array_equal(y, x)
    assert y is not x
    assert running_median(np.zeros((0, 3, 2)), 5).shape == (0, 3, 2)
    # window larger than the track: every frame sees the whole (clipped) track
    np.testing.assert_array_equal(running_median(np.array([1.0, 5.0, 2.0]), 9), [2.0] * 3)
    for bad in (0, 4, -3, 2.5):
        with pytest.raises(InputError, match="odd"):
            running_median(x, bad)
    with pytest.raises(InputError, match="axis"):
        running_median(x, 3, axis=2)
    assert check_window(np.int64(7)) == 7


def test_hand_made_spike_is_the_only_outlier():
    t = np.arange(21.0)
    xy = np.stack([100 + 2 * t, 50 - t], axis=1)[:, None]    # (21, 1, 2) straight line
    xy[10, 0] += [15.0, -10.0]                                 # a spike at (135, 30)
    xy[15] = np.nan
    # window of frame 10 (size 5): x 116 118 [135] 122 124, y 42 41 [30] 39 38
    np.testing.assert_array_equal(running_median(xy, 5)[10, 0], [122.0, 39.0])
    out = median_outliers(xy, 5, 22.0)                         # |13| + |-9| = 22
    assert out.shape == (21, 1) and out.dtype == bool
    assert np.flatnonzero(out[:, 0]).tolist() == [10]          # >= threshold (anipose)
    assert not median_outliers(xy, 5, 22.01)[10, 0]
    assert not out[15, 0]                                      # missing is not an outlier
    # L1, not L2: |dx| + |dy| = 22 but the Euclidean offset is only ~15.8
    assert np.hypot(13, 9) < 20 and median_outliers(xy, 5, 20.0)[10, 0]
    assert not median_outliers(xy, 5, 20.0)[[0, 9, 11, 14, 16, 20], 0].any()


def test_median_outliers_against_explicit_windows():
    rng = np.random.default_rng(7)
    xy = np.cumsum(rng.normal(0, 2, (200, 3, 2)), axis=0)
    xy[rng.random((200, 3)) < 0.1] = np.nan
    xy[rng.random((200, 3)) < 0.05] += 30
    med = explicit_running_median(xy, 7)
    with np.errstate(invalid="ignore"):
        truth = np.abs(xy - med).sum(-1) >= 12.0
    np.testing.assert_array_equal(median_outliers(xy, 7, 12.0), truth)
    cams = np.stack([xy, xy[::-1]])                            # frames on axis 1
    np.testing.assert_array_equal(median_outliers(cams, 7, 12.0, axis=1)[0], truth)
    with pytest.raises(InputError, match=r"\(\.\.\., 2\)"):
        median_outliers(np.zeros((5, 3)), 3, 1.0)


def test_sorted_nanmedian_equals_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 50, 4, 3, 7))
    x[rng.random(x.shape) < 0.4] = np.nan
    x[0, 0] = np.nan                                   # all-NaN rows give NaN
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ref = np.nanmedian(x, axis=-1)
    np.testing.assert_array_equal(_nanmedian_last(x), ref)
