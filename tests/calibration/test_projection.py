"""CameraRig / Camera projection against OpenCV and aniposelib (independent implementations)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration import Camera, CameraRig
from calibration.projection import distort_normalized, project_camera_points
from calibration.rotation import matrix_to_rodrigues, rodrigues_to_matrix
from tests.fixtures.rigs import DIST_LENGTHS, points_in_view, random_camera, random_rig, seeds


def cv2_project(cam: Camera, pts: np.ndarray) -> np.ndarray:
    if cam.fisheye:
        out, _ = cv2.fisheye.projectPoints(pts.reshape(-1, 1, 3), cam.rvec, cam.tvec,
                                           cam.matrix, cam.dist)
    else:
        out, _ = cv2.projectPoints(pts.reshape(-1, 1, 3), cam.rvec, cam.tvec, cam.matrix,
                                   cam.dist)
    return out.reshape(-1, 2)


@settings(max_examples=60, deadline=None)
@given(seed=seeds, n_dist=st.sampled_from(DIST_LENGTHS))
def test_pinhole_projection_equals_opencv(seed, n_dist):
    rng = np.random.default_rng(seed)
    cam = random_camera(rng, n_dist=n_dist)
    pts = points_in_view(rng, 50)
    np.testing.assert_allclose(cam.project(pts), cv2_project(cam, pts), atol=1e-6, rtol=0)


@settings(max_examples=40, deadline=None)
@given(seed=seeds)
def test_fisheye_projection_equals_opencv(seed):
    rng = np.random.default_rng(seed)
    cam = random_camera(rng, fisheye=True)
    pts = points_in_view(rng, 50)
    np.testing.assert_allclose(cam.project(pts), cv2_project(cam, pts), atol=1e-6, rtol=0)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, n_cams=st.integers(1, 6), fisheye=st.booleans())
def test_rig_projection_equals_aniposelib(seed, n_cams, fisheye):
    rng = np.random.default_rng(seed)
    rig = random_rig(rng, n_cams, fisheye=fisheye)
    pts = points_in_view(rng, 40)
    ours = rig.project(pts)
    theirs = rig.to_aniposelib().project(pts)
    assert ours.shape == (n_cams, 40, 2)
    np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=0)


def test_project_is_batched_and_nan_propagates():
    rng = np.random.default_rng(1)
    rig = random_rig(rng, 3)
    pts = points_in_view(rng, 4 * 5).reshape(4, 5, 3)
    pts[1, 2] = np.nan
    out = rig.project(pts)
    assert out.shape == (3, 4, 5, 2)
    assert np.isnan(out[:, 1, 2]).all()
    assert np.isfinite(np.delete(out.reshape(3, 20, 2), 7, axis=1)).all()
    np.testing.assert_allclose(out.reshape(3, 20, 2)[:, 0], rig.project(pts[0, 0]), atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=seeds, n_dist=st.sampled_from(DIST_LENGTHS), fisheye=st.booleans())
def test_undistort_inverts_distort(seed, n_dist, fisheye):
    rng = np.random.default_rng(seed)
    cam = random_camera(rng, n_dist=n_dist, fisheye=fisheye)
    pts = points_in_view(rng, 60)
    px = cam.project(pts)
    pc = cam.world_to_camera(pts)
    ideal = pc[:, :2] / pc[:, 2:]
    np.testing.assert_allclose(cam.undistort(px), ideal, atol=1e-9)
    np.testing.assert_allclose(cam.distort(cam.undistort(px)), px, atol=1e-6)


def test_undistort_matches_opencv_iterative():
    rng = np.random.default_rng(3)
    cam = random_camera(rng, n_dist=5)
    px = cam.project(points_in_view(rng, 100))
    ref = cv2.undistortPoints(px.reshape(-1, 1, 2), cam.matrix, cam.dist, None, None, None,
                              (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-14))
    np.testing.assert_allclose(cam.undistort(px), ref.reshape(-1, 2), atol=1e-8)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, n_dist=st.sampled_from(DIST_LENGTHS), fisheye=st.booleans())
def test_projection_jacobian_matches_finite_differences(seed, n_dist, fisheye):
    rng = np.random.default_rng(seed)
    cam = random_camera(rng, n_dist=n_dist, fisheye=fisheye)
    pc = cam.world_to_camera(points_in_view(rng, 20))
    _, J = project_camera_points(pc, cam.matrix, cam.dist, cam.fisheye, jacobian=True)
    eps = 1e-5
    num = np.empty_like(J)
    for k in range(3):
        d = np.zeros(3)
        d[k] = eps
        plus = project_camera_points(pc + d, cam.matrix, cam.dist, cam.fisheye)
        minus = project_camera_points(pc - d, cam.matrix, cam.dist, cam.fisheye)
        num[..., k] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(J, num, rtol=1e-5, atol=1e-6)


def test_distortion_jacobian_with_tilt():
    rng = np.random.default_rng(5)
    dist = np.r_[rng.normal(0, 0.05, 12), 0.02, -0.015]
    xy = rng.normal(0, 0.3, (30, 2))
    _, J = distort_normalized(xy, dist, jacobian=True)
    eps = 1e-6
    for k in range(2):
        d = np.zeros(2)
        d[k] = eps
        num = (distort_normalized(xy + d, dist) - distort_normalized(xy - d, dist)) / (2 * eps)
        np.testing.assert_allclose(J[..., k], num, rtol=1e-5, atol=1e-7)


@settings(max_examples=50, deadline=None)
@given(seed=seeds, scale=st.sampled_from([1e-14, 1e-6, 0.5, 2.0, np.pi - 1e-7, np.pi]))
def test_rodrigues_round_trip_and_opencv(seed, scale):
    rng = np.random.default_rng(seed)
    axis = rng.normal(0, 1, 3)
    rvec = axis / np.linalg.norm(axis) * scale
    R = rodrigues_to_matrix(rvec)
    np.testing.assert_allclose(R, cv2.Rodrigues(rvec)[0], atol=1e-9)
    np.testing.assert_allclose(rodrigues_to_matrix(matrix_to_rodrigues(R)), R, atol=1e-7)


def test_rig_geometry_helpers():
    rng = np.random.default_rng(7)
    rig = random_rig(rng, 4)
    pts = points_in_view(rng, 10)
    P = rig.projection_matrices(normalized=True)
    h = np.einsum("cij,nj->cni", P, np.c_[pts, np.ones(10)])
    ideal = rig.undistort(rig.project(pts))
    np.testing.assert_allclose(h[..., :2] / h[..., 2:], ideal, atol=1e-8)
    for i, cam in enumerate(rig):
        np.testing.assert_allclose(cam.R @ rig.centers[i] + cam.tvec, 0, atol=1e-9)
    sub = rig.subset(["cam_2", "cam_0"])
    assert sub.names == ["cam_2", "cam_0"]
    np.testing.assert_allclose(sub.project(pts)[0], rig.project(pts)[2])
    with pytest.raises(KeyError, match="cam_9"):
        rig.subset(["cam_9"])


def test_camera_validation_names_the_camera():
    with pytest.raises(ValueError, match="'left'.*distortion"):
        Camera(name="left", size=(640, 480), dist=np.zeros(6))
    with pytest.raises(ValueError, match="'left'.*matrix"):
        Camera(name="left", size=(640, 480), matrix=np.eye(2))
    with pytest.raises(ValueError, match="unique"):
        CameraRig([Camera("a", (10, 10)), Camera("a", (10, 10))])
