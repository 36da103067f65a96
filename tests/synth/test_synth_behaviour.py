"""Synthetic forelimb: rigid kinematics, smooth reaching, rendering where the projection says,
occlusion from the depth buffer, determinism."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synth.forelimb import (
    FORELIMB_SKELETON,
    JOINT_RADII,
    PELLET,
    SEGMENT_LENGTHS,
    SEGMENT_RADII,
    simulate_reach,
)
from synth.raycast import pixel_rays
from synth.render_behaviour import (
    keypoint_visibility,
    make_background,
    render_behaviour_frame,
    render_behaviour_video,
)
from synth.rig import ARENA_CENTER, make_rig

SK = FORELIMB_SKELETON
IDX = {b: i for i, b in enumerate(SK.bodyparts)}
RADII = np.array([JOINT_RADII[b] for b in SK.bodyparts])


@pytest.fixture(scope="module")
def scene():
    """make_rig(4) with each camera's rays and background, and 300 frames of reaching."""
    rig = make_rig(4, seed=0)
    rays = [pixel_rays(cam) for cam in rig]
    backgrounds = [make_background(cam, np.random.default_rng([5, i]), rays=r)
                   for i, (cam, r) in enumerate(zip(rig, rays, strict=True))]
    points = simulate_reach(300, np.random.default_rng(7))
    return rig, rays, backgrounds, points


def render(scene, cam_index, pose):
    rig, rays, backgrounds, _ = scene
    cam = rig[cam_index]
    rgb, depth = render_behaviour_frame(pose, rays[cam_index], cam, backgrounds[cam_index])
    return cam, rgb, depth


def angle(points, a, b, c):
    u = points[:, IDX[a]] - points[:, IDX[b]]
    v = points[:, IDX[c]] - points[:, IDX[b]]
    cos = np.sum(u * v, -1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


# --- skeleton and kinematics -------------------------------------------------------------------
def test_skeleton_layout():
    assert SK.n_joints == 16
    assert SK.bodyparts[:4] == ["shoulder", "elbow", "wrist", "palm"]
    for d in ("d2", "d3", "d4", "d5"):
        for part in ("knuckle", "middle", "tip"):
            assert f"{d}_{part}" in SK.bodyparts
        assert (f"{d}_knuckle", f"{d}_middle") in SK.limbs
    assert len(SK.limbs) == 15
    assert set(SEGMENT_RADII) == set(SK.limbs) == set(SEGMENT_LENGTHS)
    assert {"elbow", "wrist"} <= set(SK.angles) and len(SK.angles) == 3
    assert SEGMENT_RADII[("shoulder", "elbow")] > 2 > SEGMENT_RADII[("d3_middle", "d3_tip")]


@pytest.mark.parametrize("seed", [0, 1])
def test_limb_lengths_are_constant(seed):
    points = simulate_reach(800, np.random.default_rng(seed))
    assert points.shape == (800, 16, 3)
    for (a, b), (i, j) in zip(SK.limbs, SK.limb_indices(), strict=True):
        length = np.linalg.norm(points[:, i] - points[:, j], axis=-1)
        assert np.ptp(length) < 1e-9, (a, b)
        assert length[0] == pytest.approx(SEGMENT_LENGTHS[(a, b)], abs=1e-9)


@pytest.mark.parametrize("seed", [0, 3])
def test_motion_is_smooth_at_any_frame_rate(seed):
    # at 500 fps a jump of 0.3 mm or a velocity kink would exceed the bound
    fps = 500.0
    points = simulate_reach(int(6 * fps), np.random.default_rng(seed), fps=fps)
    accel = np.linalg.norm(np.diff(points, 2, axis=0), axis=-1) * fps**2  # mm/s^2
    speed = np.linalg.norm(np.diff(points, 1, axis=0), axis=-1) * fps
    assert accel.max() < 1e5  # about 10 g, at the digit tips
    assert speed.max() < 1500.0
    # but it does move: the wrist travels and the shoulder stays put
    wrist = points[:, IDX["wrist"]]
    assert np.ptp(wrist, axis=0).max() > 15.0
    assert np.ptp(points[:, IDX["shoulder"]], axis=0).max() < 4.0


def test_reach_grasp_cycles_vary():
    fps = 100.0
    points = simulate_reach(400, np.random.default_rng(2), fps=fps)
    assert np.linalg.norm(points - ARENA_CENTER, axis=-1).max() < 40.0
    # the hand repeatedly comes close to the pellet and leaves it
    near = np.linalg.norm(points[:, IDX["palm"]] - PELLET, axis=-1) < 6.0
    arrivals = np.flatnonzero(np.diff(near.astype(int)) == 1)
    assert len(arrivals) >= 3
    # digits open and close
    flex = angle(points, "palm", "d3_knuckle", "d3_middle")
    assert np.ptp(flex) > 50.0
    # cycles differ in timing and in where the hand goes
    assert np.ptp(np.diff(arrivals)) >= 3
    at_pellet = points[arrivals + 5, IDX["palm"]]
    assert np.ptp(at_pellet, axis=0).max() > 1.0


@pytest.mark.parametrize("rig_seed", [0, 1, 2])
def test_keypoints_inside_every_camera(rig_seed):
    rig = make_rig(4, seed=rig_seed)
    points = simulate_reach(500, np.random.default_rng(rig_seed))
    inside = np.stack([cam.in_image(cam.project(points), margin=5) for cam in rig])
    assert inside.mean(axis=(1, 2)).min() > 0.97


def test_simulate_reach_rejects_bad_input():
    with pytest.raises(ValueError, match="n_frames"):
        simulate_reach(0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="fps"):
        simulate_reach(5, np.random.default_rng(0), fps=0)
    with pytest.raises(TypeError, match="Generator"):
        simulate_reach(5, 0)


# --- rendering ---------------------------------------------------------------------------------
def test_background_is_textured_and_shared_by_cameras(scene):
    rig, rays, backgrounds, _ = scene
    for bg in backgrounds:
        assert bg.dtype == np.uint8 and bg.shape == (480, 640, 3)
        grey = bg.mean(axis=2)
        assert grey.std() > 8.0
        # structure at small scale too: neighbouring pixels differ
        assert np.abs(np.diff(grey, axis=1)).mean() > 0.5
    again = make_background(rig[0], np.random.default_rng([5, 0]), rays=rays[0])
    np.testing.assert_array_equal(again, backgrounds[0])


def test_limb_drawn_where_keypoints_project(scene):
    rig, rays, backgrounds, points = scene
    n_checked, n_own_joint = 0, 0
    for c in range(len(rig)):
        for f in range(0, 300, 25):
            cam, rgb, depth = render(scene, c, points[f])
            visible = keypoint_visibility(points[f], cam, depth)
            uv = np.rint(cam.project(points[f])).astype(int)
            for j in np.flatnonzero(visible):
                u, v = uv[j]
                diff = np.abs(rgb[v, u].astype(int) - backgrounds[c][v, u].astype(int)).sum()
                assert diff > 30, (cam.name, f, SK.bodyparts[j])
                # a surface at or in front of the keypoint; mostly its own joint's
                dist = np.linalg.norm(points[f, j] - cam.center)
                assert depth[v, u] <= dist + 1e-9
                n_own_joint += depth[v, u] > dist - 2 * RADII[j]
                n_checked += 1
            # away from the limb, the image is the background
            far = ~np.isfinite(depth)
            assert far.mean() > 0.8
            assert np.abs(rgb[far].astype(int) - backgrounds[c][far]).max() <= 60
    assert n_checked > 400
    assert n_own_joint > 0.9 * n_checked


def test_hand_spans_enough_pixels(scene):
    rig, _, _, points = scene
    hand = [IDX[b] for b in SK.bodyparts if b.startswith("d") or b in ("wrist", "palm")]
    for cam in rig:
        uv = cam.project(points[:, hand])
        span = np.linalg.norm(uv.max(1) - uv.min(1), axis=-1)
        assert np.median(span) > 30.0, cam.name


def test_flagged_occluded_keypoints_are_behind_the_depth_buffer(scene):
    rig, _, _, points = scene
    n_hidden = 0
    for c in range(len(rig)):
        for f in range(3, 300, 20):
            cam, _, depth = render(scene, c, points[f])
            visible = keypoint_visibility(points[f], cam, depth)
            uv = cam.project(points[f])
            inside = cam.in_image(uv)
            px = np.rint(uv).astype(int)
            dist = np.linalg.norm(points[f] - cam.center, axis=1)
            for j in np.flatnonzero(inside & ~visible):
                assert depth[px[j, 1], px[j, 0]] < dist[j] - 2 * RADII[j]
                n_hidden += 1
    assert n_hidden > 20  # the hand does hide some of its own keypoints


def test_digit_in_front_of_another_occludes_it(scene):
    rig, _, _, points = scene
    cam_index, pose = None, None
    for f in range(0, 300, 10):  # a pose where d5's middle joint is in view in some camera
        for c in range(len(rig)):
            _, _, depth = render(scene, c, points[f])
            if keypoint_visibility(points[f], rig[c], depth)[IDX["d5_middle"]]:
                cam_index, pose = c, points[f].copy()
                break
        if pose is not None:
            break
    assert pose is not None
    cam = rig[cam_index]
    target = pose[IDX["d5_middle"]]
    towards_cam = (cam.center - target) / np.linalg.norm(cam.center - target)
    moved = pose.copy()
    d2 = [IDX[f"d2_{p}"] for p in ("knuckle", "middle", "tip")]
    moved[d2] += target + 6.0 * towards_cam - pose[IDX["d2_middle"]]
    _, rgb, depth = render(scene, cam_index, moved)
    visible = keypoint_visibility(moved, cam, depth)
    assert not visible[IDX["d5_middle"]]
    assert visible[IDX["d2_middle"]]
    u, v = np.rint(cam.project(target)).astype(int)
    dist = np.linalg.norm(target - cam.center)
    assert depth[v, u] == pytest.approx(dist - 6.0 - JOINT_RADII["d2_middle"], abs=0.1)


def test_joint_seen_past_its_own_segment_stays_visible(scene):
    """A digit pointing away from the camera: its own distal segment lies in front of the
    tip along the ray, yet no other part hides the tip."""
    rig, _, _, points = scene
    cam = rig[0]
    pose = points[0].copy()
    # lift digit 3 above everything else, so only its own parts can lie on its rays
    middle = pose.mean(axis=0) + [0.0, 0.0, pose[:, 2].max() - pose[:, 2].mean() + 10.0]
    ray = (middle - cam.center) / np.linalg.norm(middle - cam.center)
    side = np.cross(ray, [0.0, 0.0, 1.0])
    side /= np.linalg.norm(side)
    pose[IDX["d3_middle"]] = middle
    pose[IDX["d3_knuckle"]] = middle - SEGMENT_LENGTHS[("d3_knuckle", "d3_middle")] * side
    a = np.radians(25.0)  # the distal segment 25 deg off the viewing ray, pointing away
    length = SEGMENT_LENGTHS[("d3_middle", "d3_tip")]
    tip = middle + length * (np.cos(a) * ray + np.sin(a) * side)
    pose[IDX["d3_tip"]] = tip
    _, _, depth = render(scene, 0, pose)
    u, v = np.rint(cam.project(tip)).astype(int)
    dist = np.linalg.norm(tip - cam.center)
    assert depth[v, u] < dist - 2 * JOINT_RADII["d3_tip"]  # the depth test alone would fail
    assert keypoint_visibility(pose, cam, depth)[IDX["d3_tip"]]
    # straight behind the middle joint, that joint hides it
    pose[IDX["d3_tip"]] = middle + length * ray
    _, _, depth = render(scene, 0, pose)
    assert not keypoint_visibility(pose, cam, depth)[IDX["d3_tip"]]


def test_outside_and_nan_keypoints_are_not_visible(scene):
    rig, _, _, points = scene
    pose = points[0].copy()
    pose[IDX["d4_tip"]] = np.nan
    pose[IDX["d5_tip"]] = ARENA_CENTER + [0.0, 0.0, 400.0]  # far out of view
    cam, rgb, depth = render(scene, 1, pose)
    visible = keypoint_visibility(pose, cam, depth)
    assert not visible[IDX["d4_tip"]] and not visible[IDX["d5_tip"]]
    assert visible[IDX["shoulder"]]


def test_render_rejects_bad_shapes(scene):
    rig, rays, backgrounds, points = scene
    with pytest.raises(ValueError, match=r"\(16, 3\)"):
        render_behaviour_frame(points[0, :5], rays[0], rig[0], backgrounds[0])
    with pytest.raises(ValueError, match="rays and background"):
        render_behaviour_frame(points[0], rays[0][:10], rig[0], backgrounds[0])
    with pytest.raises(ValueError, match="depth"):
        keypoint_visibility(points[0], rig[0], np.zeros((4, 4)))


# --- determinism and video ----------------------------------------------------------------------
def test_same_seed_same_points_and_frames(scene):
    rig, rays, backgrounds, _ = scene
    a = simulate_reach(120, np.random.default_rng(11))
    b = simulate_reach(120, np.random.default_rng(11))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, simulate_reach(120, np.random.default_rng(12)))
    noise = np.random.default_rng(0).integers(-3, 4, (480, 640, 3))
    f1 = render_behaviour_frame(a[50], rays[2], rig[2], backgrounds[2], gain=1.05, noise=noise)
    f2 = render_behaviour_frame(b[50], rays[2], rig[2], backgrounds[2], gain=1.05, noise=noise)
    np.testing.assert_array_equal(f1[0], f2[0])
    np.testing.assert_array_equal(f1[1], f2[1])


@pytest.mark.slow
def test_video_is_written_and_deterministic(scene, tmp_path):
    rig, _, _, points = scene
    cam = rig[3]
    vis1 = render_behaviour_video(cam, points[:12], tmp_path / "a.mp4", np.random.default_rng(4))
    vis2 = render_behaviour_video(cam, points[:12], tmp_path / "b.mp4", np.random.default_rng(4))
    assert vis1.shape == (12, 16) and vis1.dtype == bool
    np.testing.assert_array_equal(vis1, vis2)
    frames = []
    for name in ("a.mp4", "b.mp4"):
        cap = cv2.VideoCapture(str(tmp_path / name))
        got = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            got.append(frame)
        cap.release()
        frames.append(np.array(got))
    assert frames[0].shape == (12, 480, 640, 3)
    np.testing.assert_array_equal(frames[0], frames[1])
    # the frames show the limb where the depth buffer has it, over the same background
    background = make_background(cam, np.random.default_rng(4)).astype(int)
    for k in (0, 5, 11):
        _, _, depth = render(scene, 3, points[k])
        limb = np.isfinite(depth)
        change = np.abs(cv2.cvtColor(frames[0][k], cv2.COLOR_BGR2RGB) - background).sum(-1)
        assert np.median(change[limb]) > 60 > 4 * np.median(change[~limb])
    assert not list(tmp_path.glob(".*tmp*"))
    with pytest.raises(ValueError, match="n_frames, 16, 3"):
        render_behaviour_video(cam, points[0], tmp_path / "c.mp4", np.random.default_rng(0))
