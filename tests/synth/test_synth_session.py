"""`synth.make_session`: files, ground-truth consistency with OpenCV, determinism, detector model.

The `tripose synth` command over it is tested in tests/tripose/test_synth_command.py.
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from calibration import load_board, load_rig
from poses.skeleton import load_skeleton
from synth import load_points3d_csv, make_session, simulate_detections
from tests.fixtures.io2d import read_2d as from_dlc_file

GT_FILES = ["calibration.toml", "points3d.csv", "board_corners.npz", "detections.npz"]


def run_synth(out, *, n_cams=4, n_frames=40, n_calibration_frames=12, seed=3, **kwargs):
    session = make_session(out, n_cams=n_cams, n_frames=n_frames,
                           n_calibration_frames=n_calibration_frames, seed=seed, **kwargs)
    assert session.root == out
    return out


@pytest.fixture(scope="module")
def session4(tmp_path_factory):
    return run_synth(tmp_path_factory.mktemp("synth4"))


def check_truth_against_opencv(root):
    rig = load_rig(root / "ground_truth" / "calibration.toml")
    skel = load_skeleton(root / "skeleton.toml")
    pts3d, bps = load_points3d_csv(root / "ground_truth" / "points3d.csv")
    assert bps == skel.bodyparts
    n_checked = 0
    for cam in rig:
        gt2d, lik, names = from_dlc_file(root / "ground_truth" / "pose2d" / f"{cam.name}.h5")
        assert names == skel.bodyparts
        ref, _ = cv2.projectPoints(pts3d.reshape(-1, 1, 3), cam.rvec, cam.tvec, cam.matrix,
                                   cam.dist)
        ref = ref.reshape(gt2d.shape)
        ok = np.isfinite(gt2d).all(-1)
        assert ok.mean() > 0.5, f"{cam.name}: keypoints mostly outside the image"
        np.testing.assert_allclose(gt2d[ok], ref[ok], atol=0.01, rtol=0)
        # NaN exactly where the projection leaves the image
        w, h = cam.size
        inside = (ref[..., 0] >= -0.5) & (ref[..., 0] <= w - 0.5) & (ref[..., 1] >= -0.5) & (
            ref[..., 1] <= h - 0.5)
        np.testing.assert_array_equal(ok, inside)
        assert set(np.unique(lik[ok])) <= {0.0, 1.0}
        n_checked += ok.sum()
    return rig, n_checked


def test_layout_and_truth_4_cameras(session4):
    root = session4
    rig, n = check_truth_against_opencv(root)
    assert rig.names == ["cam0", "cam1", "cam2", "cam3"] and n > 0
    for cam in rig.names:
        for sub in ("calibration", "videos"):
            assert (root / sub / f"{cam}.mp4").stat().st_size > 1000
        pts, scores, _ = from_dlc_file(root / "pose2d" / f"{cam}.h5")
        assert pts.shape == (40, 16, 2) and np.isfinite(pts).all()
        assert ((scores >= 0) & (scores <= 1)).all()
    assert load_board(root / "board.toml").type == "charuco"
    cap = cv2.VideoCapture(str(root / "videos" / "cam0.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 40
    assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) == (
        640, 480)
    cap.release()
    cap = cv2.VideoCapture(str(root / "calibration" / "cam0.mp4"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    cap.release()


@pytest.mark.slow
def test_truth_12_cameras(tmp_path):
    root = run_synth(tmp_path / "s12", n_cams=12, n_frames=8, n_calibration_frames=4,
                     size=(320, 240), seed=1)
    rig, n = check_truth_against_opencv(root)
    assert len(rig) == 12 and n > 0
    assert rig.names == [f"cam{i}" for i in range(12)]


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_gives_byte_identical_truth(session4, tmp_path):
    again = run_synth(tmp_path / "again")
    for name in GT_FILES:
        assert digest(session4 / "ground_truth" / name) == digest(again / "ground_truth" / name)
    for cam in ("cam0", "cam3"):
        gt_a, gt_b = session4 / "ground_truth" / "pose2d", again / "ground_truth" / "pose2d"
        assert digest(gt_a / f"{cam}.csv") == digest(gt_b / f"{cam}.csv")
        # HDF5 group headers carry creation times (PyTables cannot turn them off): compare
        # the h5 content, the csv above is the byte-exact copy
        for x, y in zip(from_dlc_file(gt_a / f"{cam}.h5"), from_dlc_file(gt_b / f"{cam}.h5"),
                        strict=True):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(from_dlc_file(session4 / "pose2d" / f"{cam}.h5")[0],
                                      from_dlc_file(again / "pose2d" / f"{cam}.h5")[0])


def test_other_seed_differs(session4, tmp_path):
    other = run_synth(tmp_path / "other", seed=4)
    assert digest(session4 / "ground_truth" / "points3d.csv") != digest(
        other / "ground_truth" / "points3d.csv")


def test_detector_simulation_statistics():
    rng = np.random.default_rng(0)
    n_cams, n_frames, n_joints = 4, 2000, 16
    truth = rng.uniform(50, 400, (n_cams, n_frames, n_joints, 2))
    visible = rng.random((n_cams, n_frames, n_joints)) < 0.9
    names = [f"j{i}" for i in range(4)] + [f"d{d}_{p}" for d in (2, 3, 4, 5)
                                           for p in ("knuckle", "middle", "tip")]
    det = simulate_detections(truth, visible, (640, 480), rng, names, noise_px=1.5,
                              outlier_rate=0.08)
    err = np.linalg.norm(det.points2d - truth, axis=-1)
    clean = visible & ~det.outlier
    # 2D error of clean visible points: Rayleigh with sigma ~1.5 (10% at 3.0)
    assert 1.5 < np.median(err[clean]) < 2.5
    assert 0.06 < det.outlier[visible].mean() < 0.10
    assert np.median(err[det.outlier]) > 10
    assert det.scores[det.outlier].min() >= 0.6  # confident outliers
    assert det.scores[~visible].max() < 0.5
    assert det.scores[clean].mean() > 0.85
