"""Optimised triangulation: accuracy over dlt, chunking, limb lengths and uncertainty."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.errors import InputError
from poses.skeleton import Skeleton
from triangulate.api import triangulate
from triangulate.normal_system import _dtd, _dtd_diagonals

from .synthetic import errors_3d, make_scene


def test_temporal_operator_matches_dense_matrix():
    from math import comb

    for d in (1, 2, 3):
        n = 9
        c = [(-1) ** (d - k) * comb(d, k) for k in range(d + 1)]
        D = np.zeros((n - d, n))
        for i in range(n - d):
            D[i, i:i + d + 1] = c
        v = np.random.default_rng(d).normal(size=(n, 2, 3))
        np.testing.assert_allclose(_dtd(v, d), np.einsum("ij,jkl->ikl", D.T @ D, v))
        diag = _dtd_diagonals(n, d)
        for s in range(d + 1):
            np.testing.assert_allclose(diag[s, : n - s], np.diagonal(D.T @ D, s))


def test_optim_beats_dlt(scene):
    sc = scene
    dlt = errors_3d(triangulate(sc.rig, sc.points2d, sc.scores).points3d, sc.truth)
    res = triangulate(sc.rig, sc.points2d, sc.scores, method="optim", skeleton=sc.skeleton)
    opt = errors_3d(res.points3d, sc.truth)
    assert np.nanpercentile(opt, 95) <= 0.5 * np.nanpercentile(dlt, 95)
    assert np.nanmedian(opt) < np.nanmedian(dlt)
    assert np.isfinite(opt).mean() > 0.95
    # limb lengths estimated from the robust start are close to the truth
    np.testing.assert_allclose(res.extra["limb_lengths"], sc.limb_lengths, rtol=0.05)
    assert res.uncertainty.shape == res.points3d.shape[:2]
    assert np.all(res.uncertainty[np.isfinite(opt)] > 0)


def test_exact_data_and_given_lengths_recover_truth():
    sc = make_scene(n_frames=40, n_cams=3, seed=8, noise_px=0.0, outlier_rate=0.0,
                    occlusion_rate=0.0)
    res = triangulate(sc.rig, sc.rig.project(sc.truth), method="optim", skeleton=sc.skeleton,
                      limb_lengths=sc.limb_lengths, smooth=0.0)
    np.testing.assert_allclose(res.points3d, sc.truth, atol=1e-4)


def test_chunked_matches_whole(small_scene):
    sc = small_scene
    kw = dict(method="optim", skeleton=sc.skeleton, limb_lengths=sc.limb_lengths)
    whole = triangulate(sc.rig, sc.points2d, sc.scores, **kw)
    parts = triangulate(sc.rig, sc.points2d, sc.scores, chunk_frames=20, overlap=16, **kw)
    diff = np.linalg.norm(parts.points3d - whole.points3d, axis=-1)
    assert np.nanmedian(diff) < 0.01 and np.nanmax(diff) < 0.2


def test_uncertainty_shrinks_as_cameras_are_added():
    sc = make_scene(n_frames=30, n_cams=6, seed=9, outlier_rate=0.0, occlusion_rate=0.0)
    sig = []
    for n in (2, 4, 6):
        rig = sc.rig.subset(range(n))
        res = triangulate(rig, sc.points2d[:n], sc.scores[:n], method="optim",
                          skeleton=sc.skeleton, limb_lengths=sc.limb_lengths)
        sig.append(np.nanmedian(res.uncertainty))
    assert sig[0] > sig[1] > sig[2] > 0


def test_optim_bad_options(small_scene):
    sc = small_scene
    with pytest.raises(InputError, match="n_deriv_smooth"):
        triangulate(sc.rig, sc.points2d, method="optim", n_deriv_smooth=7)
    with pytest.raises(InputError, match="skeleton has 2 bodyparts"):
        triangulate(sc.rig, sc.points2d, method="optim",
                    skeleton=Skeleton(["a", "b"], limbs=[("a", "b")]))
    with pytest.raises(InputError, match="limb_lengths has 1 values"):
        triangulate(sc.rig, sc.points2d, method="optim", skeleton=sc.skeleton,
                    limb_lengths=[1.0])
