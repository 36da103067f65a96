"""Filters, alignment and joint angles."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.errors import InputError
from triangulate.align import align_points
from triangulate.angles import joint_angles
from triangulate.filters import fill_gaps, lowpass, median_filter_2d


def test_median_filter_removes_spikes_keeps_missing():
    p = np.zeros((1, 9, 1, 2))
    p[0, :, 0, 0] = np.arange(9.0)
    p[0, 4, 0, 0] = 100.0
    p[0, 7] = np.nan
    out = median_filter_2d(p, 3)
    assert out[0, 4, 0, 0] == pytest.approx(5.0) and np.isnan(out[0, 7]).all()
    drop = median_filter_2d(p, 3, offset_threshold=10)
    assert np.isnan(drop[0, 4]).all() and drop[0, 3, 0, 0] == 3.0
    with pytest.raises(InputError, match="odd"):
        median_filter_2d(p, 4)


def test_fill_gaps_only_short_interior_gaps():
    X = np.arange(12.0)[:, None, None] * np.ones((12, 1, 3))
    X[2:4] = np.nan      # 2 frames: filled
    X[6:10] = np.nan     # 4 frames: kept
    X[0] = np.nan        # edge: kept
    out = fill_gaps(X, 3)
    np.testing.assert_allclose(out[2:4, 0, 0], [2, 3])
    assert np.isnan(out[6:10]).all() and np.isnan(out[0]).all()


def test_lowpass_is_zero_phase_and_keeps_nan():
    t = np.arange(400) / 100.0
    clean = np.sin(2 * np.pi * 1.0 * t)
    noisy = clean + 0.3 * np.sin(2 * np.pi * 30 * t)
    X = np.repeat(noisy[:, None, None], 3, axis=2)
    X[200] = np.nan
    out = lowpass(X, 5.0, 100.0)
    assert np.isnan(out[200]).all()
    seg = slice(50, 150)
    np.testing.assert_allclose(out[seg, 0, 0], clean[seg], atol=0.02)
    with pytest.raises(InputError, match="cutoff"):
        lowpass(X, 80.0, 100.0)


def test_align_axes_and_reference_point():
    rng = np.random.default_rng(0)
    base = np.array([[0, 0, 0], [10, 0, 0], [0, 0, 5.0]])  # origin, +x, +z
    angle = 0.7
    R = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0],
                  [0, 0, 1]])
    X = (base @ R.T + [5, 6, 7])[None] + rng.normal(0, 1e-9, (4, 3, 3))
    out = align_points(X, ["o", "px", "pz"], axes=[("x", "o", "px"), ("z", "o", "pz")],
                       reference_point="o")
    np.testing.assert_allclose(out[0], base, atol=1e-6)
    with pytest.raises(InputError, match="unknown bodypart"):
        align_points(X, ["o", "px", "pz"], axes=[("x", "o", "nope")])


def test_joint_angles():
    X = np.array([[[1.0, 0, 0], [0, 0, 0], [0, 1.0, 0]]])
    ang = joint_angles(X, ["a", "b", "c"], {"abc": ("a", "b", "c")})
    assert ang["abc"][0] == pytest.approx(90.0)

