"""Compiled kernels (numba) against the numpy paths."""

from __future__ import annotations

import numpy as np
import pytest

from tests.fixtures.rigs import points_in_view, random_rig
from triangulate._kernels import HAVE_NUMBA, solve_weighted_pairs, undistort_pinhole
from triangulate.api import triangulate
from triangulate.dlt import rig_arrays, solve_weighted

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")


@pytest.mark.parametrize("n_dist", [5, 8, 12])
def test_undistort_pinhole_matches_rig(n_dist):
    rng = np.random.default_rng(n_dist)
    rig = random_rig(rng, 3, n_dist=n_dist)
    pix = rig.project(points_in_view(rng, 500))
    pix[0, :7] = np.nan
    a = undistort_pinhole(rig, pix)
    b = rig.undistort(pix)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_dist", [5, 8, 12])
def test_fused_dlt_exact_data(n_dist):
    """Exact projections: the fused kernel and the numpy path agree to ~1e-9 relative."""
    rng = np.random.default_rng(10 + n_dist)
    rig = random_rig(rng, 4, n_dist=n_dist)
    X = points_in_view(rng, 400)
    pix = rig.project(X)[:, :, None]                        # (n_cams, 400 frames, 1 joint, 2)
    pix[1, :50] = np.nan
    a = triangulate(rig, pix, kernel=True)
    b = triangulate(rig, pix, kernel=False)
    scale = np.abs(X).max()
    np.testing.assert_allclose(a.points3d, b.points3d, rtol=0, atol=1e-9 * scale)
    np.testing.assert_allclose(a.points3d[:, 0], X, rtol=0, atol=1e-6 * scale)
    np.testing.assert_array_equal(a.inliers, b.inliers)
    np.testing.assert_array_equal(a.n_cams, b.n_cams)


def test_fused_summaries_match_numpy(small_scene):
    sc = small_scene
    a = triangulate(sc.rig, sc.points2d, sc.scores, kernel=True)
    b = triangulate(sc.rig, sc.points2d, sc.scores, kernel=False)
    np.testing.assert_array_equal(a.n_cams, b.n_cams)
    np.testing.assert_array_equal(a.score, b.score)
    np.testing.assert_allclose(a.reprojection_error, b.reprojection_error, atol=1e-6)
    np.testing.assert_array_equal(np.isnan(a.camera_errors), np.isnan(b.camera_errors))


def test_solve_pairs_matches_numpy():
    rng = np.random.default_rng(3)
    rig = random_rig(rng, 4)
    R, t, _ = rig_arrays(rig)
    X = points_in_view(rng, 300)
    u = rig.undistort(rig.project(X))
    w = rng.uniform(0.1, 1, (4, 300))
    w[2, :100] = 0
    for args in ((u, w, R, t),
                 (u[:2], w[:2], np.broadcast_to(R[:2, None], (2, 300, 3, 3)),
                  np.broadcast_to(t[:2, None], (2, 300, 3)))):
        Xa, oka = solve_weighted_pairs(*args)
        Xb, okb = solve_weighted(*args)
        np.testing.assert_array_equal(oka, okb)
        np.testing.assert_allclose(Xa, Xb, rtol=1e-10, atol=1e-9)


def test_ransac_kernel_matches_numpy(small_scene):
    sc = small_scene
    a = triangulate(sc.rig, sc.points2d, sc.scores, method="ransac", kernel=True)
    b = triangulate(sc.rig, sc.points2d, sc.scores, method="ransac", kernel=False)
    np.testing.assert_allclose(a.points3d, b.points3d, atol=1e-8)
    np.testing.assert_array_equal(a.inliers, b.inliers)


def test_view_errors_match_numpy():
    from triangulate._kernels import view_errors_compiled
    from triangulate.ransac import view_errors

    rng = np.random.default_rng(4)
    rig = random_rig(rng, 3)
    R, t, f = rig_arrays(rig)
    X = points_in_view(rng, 200)
    u = rig.undistort(rig.project(X)) + rng.normal(0, 1e-3, (3, 200, 2))
    u[1, :9] = np.nan
    X[:4] = np.nan
    X[4:8] = -1e4 * X[4:8]                                 # behind the cameras
    a, b = view_errors_compiled(X, u, R, t, f), view_errors(X, u, R, t, f)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9)


def test_parallel_and_serial_dlt_identical(monkeypatch):
    """Blocks are computed the same way on numba's threads and serially (busy machine)."""
    import triangulate._dlt_kernel as dk

    rng = np.random.default_rng(6)
    rig = random_rig(rng, 3)
    pix = rig.project(points_in_view(rng, 9000))[:, :, None] + rng.normal(0, 0.5, (3, 9000, 1, 2))
    pix[2, :100] = np.nan
    out = []
    for busy in (False, True):
        monkeypatch.setattr(dk, "_busy", lambda b=busy: b)
        out.append(triangulate(rig, pix))
    np.testing.assert_array_equal(out[0].points3d, out[1].points3d)
    np.testing.assert_array_equal(out[0].camera_errors, out[1].camera_errors)
    np.testing.assert_array_equal(out[0].inliers, out[1].inliers)
