"""Linear triangulation: exact recovery, weights, missing views, vectorized shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fixtures.rigs import points_in_view, random_rig, seeds
from triangulate import POINTS3D_DIMS
from triangulate.api import triangulate


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n_cams=st.integers(2, 8), method=st.sampled_from(["dlt", "ransac"]))
def test_exact_projections_triangulate_to_truth(seed, n_cams, method):
    rng = np.random.default_rng(seed)
    rig = random_rig(rng, n_cams)
    truth = points_in_view(rng, 5 * 3).reshape(5, 3, 3)
    p2d = rig.project(truth)
    res = triangulate(rig, p2d, method=method, reproj_threshold=1.0)
    np.testing.assert_allclose(res.points3d, truth, rtol=1e-6, atol=1e-6 * np.abs(truth).max())
    assert res.points3d.shape == (5, 3, len(POINTS3D_DIMS))
    assert np.all(res.n_cams == n_cams)
    assert np.nanmax(res.reprojection_error) < 1e-5


def test_fewer_than_two_views_give_nan_and_zero_cams():
    rng = np.random.default_rng(0)
    rig = random_rig(rng, 3)
    truth = points_in_view(rng, 4).reshape(2, 2, 3)
    p2d = rig.project(truth)
    p2d[1:, 0, 0] = np.nan          # frame 0, joint 0: only camera 0
    p2d[:, 1, 1] = np.nan           # frame 1, joint 1: nobody
    for method in ("dlt", "ransac", "optim"):
        res = triangulate(rig, p2d, method=method)
        assert np.isnan(res.points3d[0, 0]).all() and res.n_cams[0, 0] == 0
        assert np.isnan(res.points3d[1, 1]).all() and res.n_cams[1, 1] == 0
        assert np.isfinite(res.points3d[0, 1]).all() and res.n_cams[0, 1] == 3


def test_score_threshold_and_weights():
    rng = np.random.default_rng(1)
    rig = random_rig(rng, 4)
    truth = points_in_view(rng, 10).reshape(10, 1, 3)
    p2d = rig.project(truth)
    p2d[0] += 40.0                  # camera 0 is far off ...
    scores = np.ones(p2d.shape[:3])
    scores[0] = 0.2                 # ... and scores low: thresholded away
    res = triangulate(rig, p2d, scores, score_threshold=0.5)
    np.testing.assert_allclose(res.points3d, truth, atol=1e-6)
    assert np.all(res.n_cams == 3) and not res.inliers[0].any()
    # kept but down-weighted: closer to the truth than unweighted
    low = triangulate(rig, p2d, np.where(scores < 0.5, 0.05, 1.0), score_threshold=0.0)
    flat = triangulate(rig, p2d, None, score_threshold=0.0)
    err = lambda r: np.linalg.norm(r.points3d - truth, axis=-1).mean()  # noqa: E731
    assert err(low) < 0.5 * err(flat)


def test_chunking_does_not_change_results(small_scene):
    sc = small_scene
    whole = triangulate(sc.rig, sc.points2d, sc.scores, method="dlt")
    parts = triangulate(sc.rig, sc.points2d, sc.scores, method="dlt", chunk_points=97)
    np.testing.assert_allclose(parts.points3d, whole.points3d, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(parts.n_cams, whole.n_cams)


def test_float32_input_and_nonfinite_as_missing(small_scene):
    sc = small_scene
    p = sc.points2d.astype(np.float32)
    p[0, 0, 0] = np.inf
    res = triangulate(sc.rig, p, sc.scores.astype(np.float32))
    assert res.points3d.dtype == np.float64
    assert not res.inliers[0, 0, 0]


@pytest.mark.parametrize("method", ["dlt", "ransac"])
def test_error_is_invariant_to_world_similarity(method, small_scene):
    sc = small_scene
    rig2 = sc.rig.copy()
    angle = 0.3
    Rw = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0],
                   [0, 0, 1]])
    tw = np.array([10.0, -5.0, 3.0])
    for cam in rig2.cameras:  # X' = Rw X + tw: camera R' = R Rw^T, t' = t - R' tw
        R_new = cam.R @ Rw.T
        cam.tvec = cam.tvec - R_new @ tw
        cam.R = R_new
    a = triangulate(sc.rig, sc.points2d, sc.scores, method=method)
    b = triangulate(rig2, sc.points2d, sc.scores, method=method)
    np.testing.assert_allclose(b.points3d, a.points3d @ Rw.T + tw, atol=1e-6)
    np.testing.assert_allclose(b.reprojection_error, a.reprojection_error, atol=1e-6)


def test_fused_kernel_matches_numpy_path(small_scene):
    from triangulate._kernels import HAVE_NUMBA

    if not HAVE_NUMBA:
        pytest.skip("numba not installed")
    sc = small_scene
    a = triangulate(sc.rig, sc.points2d, sc.scores, kernel=True)
    b = triangulate(sc.rig, sc.points2d, sc.scores, kernel=False)
    np.testing.assert_allclose(a.points3d, b.points3d, atol=1e-9)
    np.testing.assert_array_equal(a.inliers, b.inliers)
    np.testing.assert_allclose(a.camera_errors, b.camera_errors, atol=1e-5)
