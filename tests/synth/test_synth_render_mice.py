"""Rendering several synthetic mice in the open field: mice drawn where the keypoints project,
the empty arena left as the background, a video round trip."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synth.mice import (
    MOUSE_SKELETON,
    capsule_visibility,
    make_open_field_rig,
    mouse_capsules,
    simulate_mice,
)
from synth.raycast import pixel_rays
from synth.render_mice import make_open_field_background, render_mice_frame, render_mice_video
from viz3d.video import VideoReader

IDX = {b: i for i, b in enumerate(MOUSE_SKELETON.bodyparts)}


@pytest.fixture(scope="module")
def scene():
    """A 320 x 240 two-camera open field, each camera's rays and background, 2 mice."""
    rig = make_open_field_rig(2, (320, 240))
    rays = [pixel_rays(cam) for cam in rig]
    backgrounds = [make_open_field_background(cam, np.random.default_rng([3, i]), rays=r)
                   for i, (cam, r) in enumerate(zip(rig, rays, strict=True))]
    points, scales = simulate_mice(3, 2, np.random.default_rng(0))
    return rig, rays, backgrounds, points, scales


def _empty(scene, c):
    rig, rays, backgrounds, *_ = scene
    return render_mice_frame(np.zeros((0, 14, 3)), np.zeros(0), rays[c], rig[c],
                             backgrounds[c])[0]


def _capsule_excess(p, a, b, radius):
    """How far points ``p`` (n, 3) lie outside the union of capsules ``a - b`` (k, 3)."""
    ab = b - a
    s = np.clip(np.einsum("nkj,kj->nk", p[:, None] - a, ab) / np.sum(ab * ab, -1), 0, 1)
    dist = np.linalg.norm(p[:, None] - a - s[..., None] * ab, axis=-1)
    return np.min(dist - radius, axis=1)


def test_visible_keypoints_are_drawn_on_their_mouse(scene):
    rig, rays, backgrounds, points, scales = scene
    vis = capsule_visibility(rig, points, scales)
    a, b, radius, _ = mouse_capsules(points, scales)
    checked = 0
    for c, cam in enumerate(rig):
        empty = _empty(scene, c).astype(int)
        for f in range(len(points)):
            rgb, depth = render_mice_frame(points[f], scales, rays[c], cam, backgrounds[c])
            assert rgb.shape == (240, 320, 3) and rgb.dtype == np.uint8
            uv = cam.project(points[f])
            for m in range(points.shape[1]):
                for name in ("snout", "spine2"):
                    k = IDX[name]
                    if not vis[c, f, m, k]:
                        continue
                    col, row = np.rint(uv[m, k]).astype(int)
                    assert np.abs(rgb[row, col].astype(int) - empty[row, col]).sum() > 30
                    dist = np.linalg.norm(points[f, m, k] - cam.center)
                    assert np.isfinite(depth[row, col]) and depth[row, col] <= dist + 0.5
                    # the surface seen there belongs to this mouse: its body capsules or
                    # an ear (ears are not capsules, they may hide the snout from behind)
                    hit = cam.center + depth[row, col] * rays[c][row, col]
                    on_body = _capsule_excess(hit[None], a[f, m], b[f, m], radius[m])[0] < 0.5
                    ear = np.linalg.norm(points[f, m, [IDX["left_ear"], IDX["right_ear"]]] - hit,
                                         axis=1).min()
                    assert on_body or ear < 4.5 * scales[m]
                    if name == "spine2":
                        assert on_body
                    checked += 1
    assert checked >= 6


def test_depth_near_keypoint_seen_from_the_side(scene):
    """Across the body axis the surface is one radius in front of the axis keypoint."""
    rig, rays, backgrounds, points, scales = scene
    cam, c = rig[0], 0
    P = points[0, :1].copy()  # mouse 0 alone
    # turn the mouse so its body runs across the camera's view
    side = np.cross(cam.R[2], [0.0, 0.0, 1.0])
    side /= np.linalg.norm(side)
    fwd = P[0, IDX["neck"], :2] - P[0, IDX["tail_base"], :2]
    ang = np.arctan2(side[1], side[0]) - np.arctan2(fwd[1], fwd[0])
    R = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    centre = P[0, IDX["spine2"], :2].copy()
    P[0, :, :2] = (P[0, :, :2] - centre) @ R.T
    _, depth = render_mice_frame(P, scales[:1], rays[c], cam, backgrounds[c])
    k = IDX["spine2"]
    col, row = np.rint(cam.project(P[0, k])).astype(int)
    dist = np.linalg.norm(P[0, k] - cam.center)
    r = 13.0 * scales[0]
    assert dist - r - 1.0 <= depth[row, col] <= dist - 0.5 * r


def test_empty_floor_is_the_background(scene):
    rig, rays, backgrounds, points, scales = scene
    c, cam = 1, rig[1]
    h, w = 240, 320
    noise = np.rint(np.random.default_rng(1).normal(0, 2.5, (h, w, 3))).astype(np.int16)
    rgb, depth = render_mice_frame(points[0], scales, rays[c], cam, backgrounds[c],
                                   noise=noise, blur_sigma=0.0)
    near = cv2.dilate(np.isfinite(depth).astype(np.uint8), np.ones((41, 41), np.uint8)) > 0
    assert np.isfinite(depth).sum() > 200 and (~near).sum() > 0.5 * h * w
    expect = np.clip(np.rint(backgrounds[c] * 255.0) + noise, 0, 255)
    diff = np.abs(rgb.astype(int) - expect.astype(int))[~near]
    assert diff.max() <= 1
    # blurred (the default): the blurred background
    rgb, _ = render_mice_frame(points[0], scales, rays[c], cam, backgrounds[c])
    blurred = cv2.GaussianBlur(backgrounds[c] * 255.0, (0, 0), 0.6)
    assert np.abs(rgb.astype(int) - np.rint(blurred))[~near].max() <= 1


def test_background_is_a_light_floor_in_a_dark_room(scene):
    rig, rays, backgrounds, *_ = scene
    for cam, bg in zip(rig, backgrounds, strict=True):
        assert bg.shape == (240, 320, 3) and 0.0 <= bg.min() and bg.max() <= 1.0
        centre = np.rint(cam.project(np.array([0.0, 0.0, 0.0]))).astype(int)
        assert bg[centre[1], centre[0]].mean() > 0.6
        assert bg[[0, 0, -1, -1], [0, -1, 0, -1]].mean(axis=1).max() < 0.3  # corners: room


def test_video_round_trip(scene, tmp_path):
    rig, _, _, points, scales = scene
    path = render_mice_video(rig[0], points, scales, tmp_path / "mice.mp4",
                             np.random.default_rng(2), fps=50.0)
    assert path.is_file() and not list(tmp_path.glob("*.tmp*"))
    with VideoReader(path, n_frames=len(points)) as video:
        assert video.n_frames == len(points)
        assert (video.width, video.height) == (320, 240)
        last = video.read(len(points) - 1)
    assert last.shape == (240, 320, 3) and last.dtype == np.uint8


def test_rejects_bad_shapes(scene):
    rig, rays, backgrounds, points, scales = scene
    with pytest.raises(ValueError, match="n_mice"):
        render_mice_frame(points[0, :, :10], scales, rays[0], rig[0], backgrounds[0])
    with pytest.raises(ValueError, match="n_frames"):
        render_mice_video(rig[0], points[0], scales, "unused.mp4", np.random.default_rng(0))
