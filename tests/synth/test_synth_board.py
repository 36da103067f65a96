"""Synthetic ChArUco recordings: trajectory, exact corners, pixel conventions, and OpenCV's
detector finding the rendered board in the encoded videos where the truth says it is."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from calibration.rotation import rodrigues_to_matrix
from synth.raycast import pixel_rays
from synth.render_board import (
    BoardPoses,
    board_poses,
    board_texture,
    render_board_frame,
    render_calibration_videos,
    sample_board,
    true_corners,
)
from synth.rig import ARENA_CENTER, default_board, make_rig

BOARD = default_board()
N_FRAMES = 36


def facing(camera, poses: BoardPoses) -> np.ndarray:
    """(n_frames,) cosine between the board's front normal and the direction to the camera."""
    R = rodrigues_to_matrix(np.nan_to_num(poses.rvecs))
    w, h = BOARD.size
    centre = R @ np.array([w / 2, h / 2, 0.0]) + poses.tvecs
    to_cam = camera.center - centre
    to_cam /= np.linalg.norm(to_cam, axis=1, keepdims=True)
    return np.einsum("ni,ni->n", -R[:, :, 2], to_cam)


def well_visible(camera, poses: BoardPoses, corners: np.ndarray) -> np.ndarray:
    """(n_frames,) >= 60% of the corners in view and the board facing within ~70 deg."""
    with np.errstate(invalid="ignore"):
        return (np.isfinite(corners[..., 0]).mean(-1) >= 0.6) & (facing(camera, poses) >= 0.35)


def read_grey(path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    cap.release()
    return frames


def detect(frames: list[np.ndarray]) -> np.ndarray:
    """(n_frames, n_corners, 2) ChArUco corners by OpenCV's default detector, NaN if not found."""
    detector = cv2.aruco.CharucoDetector(BOARD.cv2_board())
    out = np.full((len(frames), BOARD.n_corners, 2), np.nan)
    for i, frame in enumerate(frames):
        corners, ids, _, _ = detector.detectBoard(frame)
        if ids is not None and len(ids):
            out[i, ids.ravel()] = corners.reshape(-1, 2)
    return out


def record(n_cams: int, n_frames: int, pose_seed: int, seed: int, out_dir,
           size=(640, 480)):
    rig = make_rig(n_cams, size=size, seed=0)
    poses = board_poses(n_frames, np.random.default_rng(pose_seed), BOARD)
    truth = render_calibration_videos(rig, BOARD, poses, out_dir, seed=seed)
    found = {cam.name: detect(read_grey(out_dir / f"{cam.name}.mp4")) for cam in rig}
    return rig, poses, truth, found


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    """make_rig(4) at 640 x 480, 36 frames rendered to MP4, read back and detected."""
    return record(4, N_FRAMES, 11, 3, tmp_path_factory.mktemp("charuco4"))


def check_detection(rig, poses, truth, found) -> tuple[float, float]:
    """Detection rate on well-visible frames and median corner error (px); asserts both."""
    n_well = n_found = 0
    errors = []
    for cam in rig:
        t, d = truth[cam.name], found[cam.name]
        well = well_visible(cam, poses, t)
        hit = np.isfinite(d[..., 0]).any(-1)
        n_well += well.sum()
        n_found += (well & hit).sum()
        both = np.isfinite(d[..., 0]) & np.isfinite(t[..., 0])
        errors.append(np.linalg.norm(d[both] - t[both], axis=-1))
        # nothing is detected where the truth says the corner cannot be seen
        assert np.sum(np.isfinite(d[..., 0]) & ~np.isfinite(t[..., 0])) <= 0.01 * both.sum()
    err = np.concatenate(errors)
    rate = n_found / n_well
    assert n_well >= 10
    assert rate >= 0.8, f"board found in {rate:.0%} of well-visible frames"
    assert np.median(err) < 0.3, f"median corner error {np.median(err):.3f} px"
    assert np.percentile(err, 90) < 0.5
    return rate, float(np.median(err))


# --- rendered videos -----------------------------------------------------------------------
def test_videos_have_every_frame(recording):
    rig, poses, truth, found = recording
    for cam in rig:
        assert found[cam.name].shape == (N_FRAMES, BOARD.n_corners, 2)
        assert truth[cam.name].shape == (N_FRAMES, BOARD.n_corners, 2)
        assert truth[cam.name].dtype == np.float64


def test_detector_finds_board_where_truth_says(recording):
    rate, median = check_detection(*recording)
    assert rate >= 0.8 and median < 0.3


def test_no_detection_without_board(recording):
    rig, poses, truth, found = recording
    absent = ~poses.present
    assert absent.any()
    for cam in rig:
        assert np.all(np.isnan(truth[cam.name][absent]))
        assert np.all(np.isnan(found[cam.name][absent]))


def test_more_cameras_few_frames(tmp_path):
    check_detection(*record(8, 10, 5, 2, tmp_path, size=(480, 360)))


# --- ground truth and pixel conventions ---------------------------------------------------
def test_true_corners_match_project_points():
    rig = make_rig(4)
    poses = board_poses(60, np.random.default_rng(1), BOARD)
    obj = BOARD.object_points()
    n_checked = 0
    for cam in rig:
        corners = true_corners(cam, BOARD, poses.rvecs, poses.tvecs)
        assert corners.shape == (60, BOARD.n_corners, 2)
        for f in np.flatnonzero(poses.present):
            R_board = rodrigues_to_matrix(poses.rvecs[f])
            rvec, _ = cv2.Rodrigues(cam.R @ R_board)
            tvec = cam.R @ poses.tvecs[f] + cam.tvec
            ref, _ = cv2.projectPoints(obj, rvec, tvec, cam.matrix, cam.dist)
            ok = np.isfinite(corners[f, :, 0])
            np.testing.assert_allclose(corners[f, ok], ref.reshape(-1, 2)[ok], atol=1e-6)
            n_checked += ok.sum()
            single = true_corners(cam, BOARD, poses.rvecs[f], poses.tvecs[f])
            np.testing.assert_array_equal(single, corners[f])
    assert n_checked > 1000


def facing_pose(camera, tilt_deg: float = 20.0):
    """A board centred at ARENA_CENTER, front towards ``camera``, tilted about its x axis."""
    a = np.radians(tilt_deg)
    tilt = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    R = camera.R.T @ tilt  # board axes along the camera's: the camera sees the front
    w, h = BOARD.size
    t = ARENA_CENTER - R @ np.array([w / 2, h / 2, 0.0])
    rvec, _ = cv2.Rodrigues(R)
    return rvec.ravel(), t


def test_back_side_is_hidden_and_grey():
    cam = make_rig(4)[1]
    rvec, tvec = facing_pose(cam)
    assert np.all(np.isfinite(true_corners(cam, BOARD, rvec, tvec)))
    # turn the board over about its own y axis through its centre
    R = rodrigues_to_matrix(rvec) @ np.diag([-1.0, 1.0, -1.0])
    w, h = BOARD.size
    t = ARENA_CENTER - R @ np.array([w / 2, h / 2, 0.0])
    flipped, _ = cv2.Rodrigues(R)
    assert np.all(np.isnan(true_corners(cam, BOARD, flipped.ravel(), t)))
    sample = sample_board(cam, BOARD, flipped.ravel(), t, pixel_rays(cam))
    assert not sample.front
    full = sample.coverage > 0.999
    assert full.sum() > 1000
    np.testing.assert_allclose(sample.albedo[full], sample.albedo[full].mean(), atol=1e-4)


@pytest.mark.parametrize("distorted", [False, True])
def test_card_coverage_matches_projected_outline(distorted):
    """Area and centroid of the rendered card equal those of its projected outline: pixel
    centres at integer coordinates, texel (i, j) covering [j, j + 1), anti-aliased edges."""
    cam = make_rig(4)[2]
    if not distorted:
        cam = cam.copy(dist=np.zeros(5))
    rvec, tvec = facing_pose(cam, tilt_deg=35.0)
    sample = sample_board(cam, BOARD, rvec, tvec, pixel_rays(cam), n_sub=2)
    m = 0.5 * BOARD.square_length
    w, h = BOARD.size
    s = np.linspace(0, 1, 2000, endpoint=False)
    edge = np.concatenate([np.column_stack([-m + (w + 2 * m) * s, np.full_like(s, -m)]),
                           np.column_stack([np.full_like(s, w + m), -m + (h + 2 * m) * s]),
                           np.column_stack([w + m - (w + 2 * m) * s, np.full_like(s, h + m)]),
                           np.column_stack([np.full_like(s, -m), h + m - (h + 2 * m) * s])])
    world = np.column_stack([edge, np.zeros(len(edge))]) @ rodrigues_to_matrix(rvec).T + tvec
    x, y = cam.project(world).T
    assert cam.in_image(np.column_stack([x, y]), margin=3).all()
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    area = cross.sum() / 2
    cx = ((x + np.roll(x, -1)) * cross).sum() / (6 * area)
    cy = ((y + np.roll(y, -1)) * cross).sum() / (6 * area)
    v, u = np.mgrid[sample.window]
    cov = sample.coverage.astype(np.float64)
    assert cov.sum() == pytest.approx(abs(area), rel=2e-4)
    assert (cov * u).sum() / cov.sum() == pytest.approx(cx, abs=0.01)
    assert (cov * v).sum() / cov.sum() == pytest.approx(cy, abs=0.01)


# --- trajectory ----------------------------------------------------------------------------
def test_board_poses_are_smooth_diverse_and_face_up():
    poses = board_poses(300, np.random.default_rng(0), BOARD)
    assert poses.rvecs.shape == poses.tvecs.shape == (300, 3)
    assert poses.present.shape == (300,) and poses.present.dtype == bool
    assert len(poses) == 300
    assert 0.04 <= (~poses.present).mean() <= 0.09
    assert np.all(np.isnan(poses.rvecs[~poses.present]))
    assert np.all(np.isfinite(poses.rvecs[poses.present]))
    R = rodrigues_to_matrix(poses.rvecs[poses.present])
    t = poses.tvecs[poses.present]
    w, h = BOARD.size
    centre = R @ np.array([w / 2, h / 2, 0.0]) + t
    assert np.all(np.abs(centre[:, :2] - ARENA_CENTER[:2]) <= 35.0 + 1e-9)
    normal = -R[:, :, 2]  # front face
    tilt = np.degrees(np.arccos(normal[:, 2]))
    assert tilt.max() <= 55.0 + 1e-6 and tilt.max() > 40.0 and tilt.min() < 15.0
    azimuth = np.arctan2(normal[:, 1], normal[:, 0])[tilt > 15]
    assert np.all(np.histogram(azimuth, bins=4, range=(-np.pi, np.pi))[0] > 10)
    m = 0.5 * BOARD.square_length
    card = np.array([[-m, -m, 0], [w + m, -m, 0], [-m, h + m, 0], [w + m, h + m, 0]])
    assert (np.einsum("nij,cj->nci", R, card)[..., 2] + t[:, None, 2]).min() >= 3.0 - 1e-9
    # consecutive frames (both present) are close: a hand, not a teleport
    both = poses.present[1:] & poses.present[:-1]
    R_all = rodrigues_to_matrix(np.nan_to_num(poses.rvecs))
    c_all = R_all @ np.array([w / 2, h / 2, 0.0]) + poses.tvecs
    step = np.linalg.norm(np.diff(c_all, axis=0), axis=1)[both]
    turn = np.degrees(np.arccos(np.clip(
        (np.trace(R_all[1:].transpose(0, 2, 1) @ R_all[:-1], axis1=1, axis2=2) - 1) / 2, -1, 1)))
    assert step.max() < 15.0 and np.median(step) > 0.5
    assert turn[both].max() < 20.0


def test_cameras_see_and_co_see_the_board():
    poses = board_poses(200, np.random.default_rng(0), BOARD)
    for n_cams in (4, 8):
        rig = make_rig(n_cams)
        seen = np.stack([well_visible(cam, poses, true_corners(cam, BOARD, poses.rvecs,
                                                                poses.tvecs)) for cam in rig])
        assert seen.mean(axis=1).min() >= 0.15, seen.mean(axis=1)
        co = (seen[:, None] & seen[None]).sum(-1)
        if n_cams == 4:
            assert co[np.triu_indices(4, 1)].min() >= 5
        # every camera is linked to every other through cameras that share views
        linked = co >= 5
        reach = np.eye(n_cams, dtype=bool)
        for _ in range(n_cams):
            reach = reach | (reach.astype(int) @ linked.astype(int) > 0)
        assert reach.all()


# --- determinism and validation ------------------------------------------------------------
def test_same_seed_same_output(tmp_path):
    a = board_poses(40, np.random.default_rng(7), BOARD)
    b = board_poses(40, np.random.default_rng(7), BOARD)
    c = board_poses(40, np.random.default_rng(8), BOARD)
    np.testing.assert_array_equal(a.rvecs, b.rvecs)
    np.testing.assert_array_equal(a.tvecs, b.tvecs)
    np.testing.assert_array_equal(a.present, b.present)
    assert not np.allclose(np.nan_to_num(a.tvecs), np.nan_to_num(c.tvecs))

    rig = make_rig(2, size=(160, 120))
    poses = board_poses(4, np.random.default_rng(7), BOARD)
    first = render_calibration_videos(rig, BOARD, poses, tmp_path / "a", seed=4)
    again = render_calibration_videos(rig, BOARD, poses, tmp_path / "b", seed=4)
    for cam in rig:
        np.testing.assert_array_equal(first[cam.name], again[cam.name])
        np.testing.assert_array_equal(read_grey(tmp_path / "a" / f"{cam.name}.mp4"),
                                      read_grey(tmp_path / "b" / f"{cam.name}.mp4"))

    cam = rig[0]
    rays, texture = pixel_rays(cam), board_texture(BOARD)
    frames = [render_board_frame(cam, BOARD, *facing_pose(cam), rays,
                                 np.random.default_rng(9), texture=texture) for _ in range(2)]
    np.testing.assert_array_equal(frames[0], frames[1])
    assert frames[0].shape == (120, 160) and frames[0].dtype == np.uint8


def test_invalid_arguments():
    cam = make_rig(2, size=(160, 120))[0]
    with pytest.raises(ValueError, match="n_frames"):
        board_poses(0, np.random.default_rng(0), BOARD)
    with pytest.raises(ValueError, match="rays must have shape"):
        render_board_frame(cam, BOARD, np.zeros(3), np.zeros(3), np.zeros((10, 10, 3)),
                           np.random.default_rng(0))
    with pytest.raises(ValueError, match="same shape"):
        true_corners(cam, BOARD, np.zeros((2, 3)), np.zeros((3, 3)))
