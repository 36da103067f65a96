"""Calibration on real recordings in ../shared/data (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pytest

from calibration import Board, load_board, load_rig
from calibration.api import calibrate
from calibration.detect_sources import detect_sources
from calibration.intrinsics import calibrate_intrinsics
from calibration.rotation import rotation_angle_deg
from calibration.sources import parse_inputs

pytestmark = pytest.mark.realdata
CAMS = ["back", "mid", "side", "top"]
GOOD = ["back", "mid", "top"]  # the reference's side entry is a copy of top


@pytest.fixture(scope="module")
def sleap(shared_data, tmp_path_factory):
    root = shared_data / "sleap_anipose_minimal"
    cache = tmp_path_factory.mktemp("cache")
    result = calibrate([f"{c}={root / c / 'calibration_images'}" for c in CAMS],
                       load_board(root / "board.toml"), cache_dir=cache)
    return root, result


def test_sleap_anipose_detection(sleap):
    _, result = sleap
    for name in CAMS:
        cam = result.report["cameras"][name]
        assert cam["n_detections"] == 21
        assert cam["n_corners"] >= 21 * 60


def test_sleap_anipose_reprojection_under_1px(sleap):
    _, result = sleap
    assert result.report["reprojection_median_px"] < 1.0
    for name in CAMS:
        assert result.report["cameras"][name]["reprojection_median_px"] < 1.0
    # squares triangulate to the printed 24 mm
    assert result.report["board_length_error"]["median_abs"] < 0.5


def test_sleap_anipose_matches_reference_geometry(sleap):
    root, result = sleap
    ref = load_rig(root / "calibration.toml")
    rig = result.rig
    for i, a in enumerate(GOOD):
        for b in GOOD[i + 1:]:
            d_ours = np.linalg.norm(rig[a].center - rig[b].center)
            d_ref = np.linalg.norm(ref[a].center - ref[b].center)
            assert abs(d_ours - d_ref) < 5.0, (a, b, d_ours, d_ref)
            ang_ours = rotation_angle_deg(rig[a].R, rig[b].R)
            ang_ref = rotation_angle_deg(ref[a].R, ref[b].R)
            assert abs(ang_ours - ang_ref) < 1.0, (a, b, ang_ours, ang_ref)


def test_bouguet_intrinsics_within_1px(shared_data):
    import scipy.io

    root = shared_data / "opencv_bouguet_stereo"
    board = Board("checkerboard", 10, 7, 30.0)
    dets = detect_sources(parse_inputs([f"left={root}/left*.jpg", f"right={root}/right*.jpg"]),
                          board)
    for det in dets:
        assert (det.n_found == 54).all()
        cam = calibrate_intrinsics(det, board).camera
        mat = scipy.io.loadmat(root / f"Calib_Results_{det.camera}.mat")
        fc, cc = mat["fc"].ravel(), mat["cc"].ravel()
        np.testing.assert_allclose(cam.focal, fc, atol=1.0)
        np.testing.assert_allclose(cam.principal_point, cc, atol=1.0)


def test_bouguet_stereo_rig(shared_data):
    import scipy.io

    root = shared_data / "opencv_bouguet_stereo"
    result = calibrate([f"left={root}/left*.jpg", f"right={root}/right*.jpg"],
                       Board("checkerboard", 10, 7, 30.0))
    assert result.rig.names == ["left", "right"]
    assert result.report["reprojection_median_px"] < 0.5
    for cam in result.rig:
        mat = scipy.io.loadmat(root / f"Calib_Results_{cam.name}.mat")
        np.testing.assert_allclose(cam.focal, mat["fc"].ravel(), atol=1.0)
        np.testing.assert_allclose(cam.principal_point, mat["cc"].ravel(), atol=1.0)
