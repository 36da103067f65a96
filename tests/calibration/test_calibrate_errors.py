"""Calibration's bad input: clear errors naming the camera or file, earlier output kept."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest

from calibration import Board, CalibrationError, InputError
from calibration.api import calibrate_detections
from calibration.detect import Detections
from calibration.sources import parse_inputs


def test_fewer_than_two_cameras(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(InputError, match="at least 2 cameras"):
        parse_inputs([str(tmp_path / "a")])


def test_missing_and_unreadable_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere"):
        parse_inputs([str(tmp_path / "nothere"), str(tmp_path / "nothere2")])
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all")
    other = tmp_path / "other.mp4"
    other.write_bytes(b"nor this")
    with pytest.raises(InputError, match="broken.mp4"):
        parse_inputs([str(bad), str(other)])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty2").mkdir()
    with pytest.raises(InputError, match="holds no images"):
        parse_inputs([str(tmp_path / "empty"), str(tmp_path / "empty2")])


def test_names_from_inputs(tmp_path):
    import cv2

    for cam in ("back", "mid"):
        (tmp_path / cam / "calibration_images").mkdir(parents=True)
        for k in (2, 10, 1):
            cv2.imwrite(str(tmp_path / cam / "calibration_images" / f"{cam}-x-{k}.png"),
                        np.zeros((8, 8), np.uint8))
    srcs = parse_inputs([str(tmp_path / "back" / "calibration_images"),
                         f"M={tmp_path / 'mid' / 'calibration_images'}"])
    assert [s.name for s in srcs] == ["back", "M"]
    assert srcs[0].frame_ids.tolist() == [1, 2, 10]
    srcs = parse_inputs([f"{tmp_path}/back/calibration_images/back*.png",
                         f"{tmp_path}/mid/calibration_images/mid*.png"])
    assert [s.name for s in srcs] == ["back", "mid"]


def _synthetic_detections(n_cams=4, n_frames=30):
    """Four cameras in two pairs that never see the board at the same time."""
    from tests.fixtures.rigs import random_rig

    rng = np.random.default_rng(0)
    rig = random_rig(rng, n_cams)
    board = Board("charuco", 7, 5, 10.0, 7.0, "DICT_4X4_50")
    obj = board.object_points() - [35, 25, 0]
    dets = []
    corners = np.full((n_cams, n_frames, board.n_corners, 2), np.nan)
    for f in range(n_frames):
        ax = rng.normal(0, 0.3, 3)
        from calibration.rotation import rodrigues_to_matrix

        X = obj @ rodrigues_to_matrix(ax).T + rng.normal(0, 10, 3)
        proj = rig.project(X)
        group = [0, 1] if f % 2 == 0 else [2, 3]
        corners[group, f] = proj[group]
    for c, cam in enumerate(rig):
        dets.append(Detections(cam.name, cam.size, np.arange(n_frames), corners[c]))
    return rig, board, dets


def test_disconnected_cameras_listed(tmp_path):
    rig, board, dets = _synthetic_detections()
    with pytest.raises(CalibrationError) as info:
        calibrate_detections(dets, board, intrinsics=rig)
    msg = str(info.value)
    assert "['cam_0', 'cam_1']" in msg and "['cam_2', 'cam_3']" in msg
    assert "co-visibility" in msg


def test_too_few_views_for_intrinsics():
    rig, board, dets = _synthetic_detections()
    for d in dets:
        d.corners[2:] = np.nan
    with pytest.raises(CalibrationError, match="cam_0.*view"):
        calibrate_detections(dets, board)


def test_wrong_board_names_camera_and_what_was_tried(tmp_path):
    import cv2

    board = Board("charuco", 7, 5, 10.0, 7.0, "DICT_4X4_50")
    img = board.render(60)
    for cam in ("a", "b"):
        (tmp_path / cam).mkdir()
        for k in range(2):
            cv2.imwrite(str(tmp_path / cam / f"f{k}.png"), img)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("type='charuco'\nsquares_x=7\nsquares_y=5\nsquare_length=10\n"
                     "marker_length=7\ndictionary='DICT_6X6_250'\n")
    out = tmp_path / "calibration.toml"
    out.write_text("# earlier calibration\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tripose", "calibrate", "--board", str(wrong), "-o", str(out),
         str(tmp_path / "a"), str(tmp_path / "b")],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    assert "camera 'a'" in proc.stderr and "no board found" in proc.stderr
    assert "inverted=True" in proc.stderr and "mirrored=True" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert out.read_text() == "# earlier calibration\n"


@pytest.mark.parametrize("inverted, mirrored, dictionary", [
    (True, False, "DICT_4X4_50"), (False, True, "DICT_4X4_50"), (True, True, "DICT_4X4_50"),
    # mirrored 5x5 and 6x6 codes match no code of their dictionary: the probe frames must be
    # looked for in the flipped image too
    (False, True, "DICT_5X5_100"), (True, True, "DICT_6X6_250")])
def test_variants_detected_automatically(tmp_path, caplog, inverted, mirrored, dictionary):
    """White-on-black prints and mirrored views are found, corners mapped back correctly."""
    import cv2

    from calibration.detect_sources import detect_sources

    board = Board("charuco", 7, 5, 10.0, 7.0, dictionary)
    img = board.render(60)
    # a mild perspective warp so the view is not fronto-parallel
    h, w = img.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[20, 10], [w - 5, 30], [w - 25, h - 5], [5, h - 20]])
    H = cv2.getPerspectiveTransform(src, dst)
    plain = cv2.warpPerspective(img, H, (w, h), borderValue=255)
    shown = 255 - plain if inverted else plain
    if mirrored:
        shown = cv2.flip(shown, 1)
    for cam in ("a", "b"):
        (tmp_path / cam).mkdir()
        for k in range(3):
            cv2.imwrite(str(tmp_path / cam / f"f{k}.png"), shown)
    with caplog.at_level(logging.INFO, logger="calibration.detect"):
        dets = detect_sources(parse_inputs([str(tmp_path / "a"), str(tmp_path / "b")]), board)
    seen = "inverted, mirrored" if inverted and mirrored else "inverted" if inverted else "mirrored"
    assert f"camera a: board seen {seen} (" in caplog.text  # told to the user
    for d in dets:
        assert (d.variant.inverted, d.variant.mirrored) == (inverted, mirrored)
        assert (d.n_found == board.n_corners).all()
    # the mirrored view's corners are where the (un-mirrored) geometry says, in the shown image
    corners = dets[0].corners[0]
    obj = board.object_points()[:, :2] * 6.0 + 30  # texture px: 60 px per 10 mm, 30 px margin
    proj = cv2.perspectiveTransform(obj.reshape(-1, 1, 2).astype(np.float32), H).reshape(-1, 2)
    if mirrored:
        proj[:, 0] = w - 1 - proj[:, 0]
    assert np.median(np.linalg.norm(corners - proj, axis=-1)) < 1.0


def test_images_of_different_sizes_in_one_camera_are_refused(tmp_path):
    import cv2

    board = Board("charuco", 7, 5, 10.0, 7.0, "DICT_4X4_50")
    img = board.render(60)
    for cam in ("a", "b"):
        (tmp_path / cam).mkdir()
        for k in range(3):
            cv2.imwrite(str(tmp_path / cam / f"f{k}.png"), img)
    odd = cv2.resize(img, None, fx=0.5, fy=0.5)
    cv2.imwrite(str(tmp_path / "b" / "f2.png"), odd)
    out = tmp_path / "calibration.toml"
    toml = tmp_path / "board.toml"
    toml.write_text("type='charuco'\nsquares_x=7\nsquares_y=5\nsquare_length=10\n"
                    "marker_length=7\ndictionary='DICT_4X4_50'\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tripose", "calibrate", "--board", str(toml), "-o", str(out),
         str(tmp_path / "a"), str(tmp_path / "b")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    h, w = img.shape[:2]
    assert (f"camera 'b': image {tmp_path / 'b' / 'f2.png'} is {odd.shape[1]}x{odd.shape[0]} "
            f"but f0.png is {w}x{h}") in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
