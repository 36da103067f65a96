"""Numpy geometry of the scene: glyph placement, framing, up axis, floor, rig views."""

from __future__ import annotations

import numpy as np

from calibration import Camera, CameraRig
from viz3d.colors import PALETTE, bodypart_colors
from viz3d.geometry import (
    data_bounds,
    floor_plane,
    frustum_corners,
    orbit_camera,
    place_spheres,
    place_tubes,
    rig_camera_view,
    unit_tube,
    world_up,
)


def test_tubes_join_their_ends_and_missing_ones_collapse():
    v, n, quads = unit_tube(8)
    a = np.array([[0.0, 0, 0], [1, 2, 3], [np.nan, 0, 0]])
    b = np.array([[0.0, 0, 5], [4, -2, 3], [1, 1, 1]])
    park = np.array([9.0, 9, 9])
    verts, normals = place_tubes(v, n, a, b, 0.5, park)
    verts = verts.reshape(3, -1, 3)
    for k in range(2):
        bottom, top = verts[k, :8].mean(0), verts[k, 8:].mean(0)
        np.testing.assert_allclose(bottom, a[k], atol=1e-12)
        np.testing.assert_allclose(top, b[k], atol=1e-12)
        d = (b[k] - a[k]) / np.linalg.norm(b[k] - a[k])
        radial = verts[k, :8] - a[k]
        np.testing.assert_allclose(np.linalg.norm(radial, axis=1), 0.5)
        np.testing.assert_allclose(radial @ d, 0, atol=1e-12)
    np.testing.assert_allclose(verts[2], np.broadcast_to(park, verts[2].shape))
    assert np.isfinite(normals).all()


def test_spheres_sit_on_centres_and_missing_ones_collapse():
    template = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0]])
    centers = np.array([[1.0, 2, 3], [np.nan, 0, 0]])
    v = place_spheres(template, centers, 2.0, np.zeros(3)).reshape(2, 3, 3)
    np.testing.assert_allclose(v[0], centers[0] + 2 * template)
    np.testing.assert_allclose(v[1], 0)


def _camera(center, target, name="c", size=(640, 480), f=800.0):
    z = np.asarray(target, float) - center
    z /= np.linalg.norm(z)
    x = np.cross(z, [0, 0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    R = np.stack([x, y, z])
    cam = Camera(name=name, size=size, matrix=[[f, 0, 300], [0, f, 250], [0, 0, 1]])
    cam.R = R
    cam.tvec = -R @ center
    return cam


def test_rig_camera_view_matches_pose_and_fov():
    cam = _camera(np.array([100.0, 0, 50]), [0, 0, 0])
    view = rig_camera_view(cam, (640, 480))
    np.testing.assert_allclose(view["position"], cam.center, atol=1e-9)
    direction = view["focal_point"] - view["position"]
    np.testing.assert_allclose(direction / np.linalg.norm(direction), cam.R[2], atol=1e-12)
    np.testing.assert_allclose(view["up"], -cam.R[1])
    assert abs(view["view_angle"] - np.degrees(2 * np.arctan(240 / 800))) < 1e-9
    # principal point left of / above the centre -> window centre shifts right / down
    assert view["window_center"][0] > 0 and view["window_center"][1] > 0


def test_world_up_is_z_or_the_cameras_mean_up():
    assert world_up(None).tolist() == [0, 0, 1]
    rig = CameraRig([_camera(np.array([100.0, 0, 80]), [0, 0, 0], "a"),
                     _camera(np.array([0.0, 100, 60]), [0, 0, 0], "b")])
    assert world_up(rig).tolist() == [0, 0, 1]


def test_floor_at_world_zero_when_just_under_the_data_else_under_lowest_point():
    pts = np.array([[0.0, 0, 20], [10, 10, 40]])
    up = np.array([0.0, 0, 1])
    assert floor_plane(data_bounds(pts), up, pts)[0] == 0.0
    far = pts + [0, 0, 1000]
    level = floor_plane(data_bounds(far), up, far)[0]
    assert 990 < level < 1020  # just under the lowest point


def test_orbit_camera_sees_every_point():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(500, 3)) * [30, 10, 5] + [100, -50, 20]
    b = data_bounds(pts, robust=False)
    view = orbit_camera(b, np.array([0.0, 0, 1]), view_angle=30, aspect=4 / 3)
    cam = view["position"]
    fwd = view["focal_point"] - cam
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, view["up"])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    rel = pts - cam
    depth = rel @ fwd
    assert (depth > 0).all()
    tan_v = np.tan(np.radians(15))
    assert (np.abs(rel @ up) / depth <= tan_v * 1.0001).all()
    assert (np.abs(rel @ right) / depth <= tan_v * 4 / 3 * 1.0001).all()


def test_frustum_corners_project_to_the_image_corners():
    cam = _camera(np.array([0.0, -200, 100]), [0, 0, 0])
    f = frustum_corners(cam, 50.0)
    np.testing.assert_allclose(f[0], cam.center)
    px = cam.project(f[1:])
    np.testing.assert_allclose(px, [[-0.5, -0.5], [639.5, -0.5], [639.5, 479.5], [-0.5, 479.5]],
                               atol=1e-6)


def test_bodypart_colours_are_fixed_and_distinct():
    a, b = bodypart_colors(40), bodypart_colors(40)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[: len(PALETTE)], PALETTE)
    assert len({tuple(c) for c in a}) == 40
    grey = np.abs(a.astype(int) - a.mean(1, keepdims=True)).max(1) < 15
    assert not grey.any()
