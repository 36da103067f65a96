"""Board TOML in its three key styles, board geometry against OpenCV, skeleton TOML."""

from __future__ import annotations

import numpy as np
import pytest

from calibration import Board, InputError, load_board, save_board
from triangulate import load_skeleton


def test_our_keys_round_trip(tmp_path):
    b = Board("charuco", 10, 7, 25.0, 18.75, "DICT_5X5_100", legacy=True, inverted=False)
    back = load_board(save_board(b, tmp_path / "board.toml"))
    assert back == b


def test_sleap_anipose_keys(shared_data):
    b = load_board(shared_data / "sleap_anipose_minimal" / "board.toml")
    assert (b.type, b.squares_x, b.squares_y) == ("charuco", 8, 11)
    assert (b.square_length, b.marker_length, b.dictionary) == (24.0, 18.75, "DICT_4X4_1000")
    assert b.legacy is None and b.inverted is None  # auto-detected later


def test_anipose_config_keys(tmp_path):
    p = tmp_path / "config.toml"
    p.write_text("[calibration]\nboard_type='charuco'\nboard_size=[10, 7]\n"
                 "board_marker_bits=4\nboard_marker_dict_number=50\nboard_marker_length=18.75\n"
                 "board_square_side_length=25\nfisheye=false\n")
    b = load_board(p)
    assert (b.squares_x, b.squares_y, b.dictionary, b.square_length) == (10, 7, "DICT_4X4_50",
                                                                         25.0)
    p.write_text("[calibration]\nboard_type='checkerboard'\nboard_size=[10, 7]\n"
                 "board_square_side_length=30\n")
    b = load_board(p)
    assert b.type == "checkerboard" and b.inner_corners == (9, 6)


def test_charuco_geometry_matches_opencv():
    b = Board("charuco", 8, 11, 24.0, 18.75, "DICT_4X4_1000")
    np.testing.assert_array_equal(b.object_points(), b.cv2_board().getChessboardCorners())
    assert b.render(20).shape == (11 * 20 + 20, 8 * 20 + 20)


def test_checkerboard_corners_match_findchessboardcorners_order():
    import cv2

    b = Board("checkerboard", 10, 7, 30.0)
    img = b.render(40, margin_squares=1.0)
    found, corners = cv2.findChessboardCorners(img, b.inner_corners)
    assert found
    corners = corners.reshape(-1, 2)
    obj = b.object_points()
    # the detected grid is an affine image of the object grid (scale 40/30 px per mm)
    A, *_ = np.linalg.lstsq(np.c_[obj[:, :2], np.ones(len(obj))], corners, rcond=None)
    resid = np.c_[obj[:, :2], np.ones(len(obj))] @ A - corners
    assert np.abs(resid).max() < 1.0


@pytest.mark.parametrize(
    "text, match",
    [
        ("type='charuco'\nsquares_x=5\n", "missing board key"),
        ("type='charuco'\nsquares_x=5\nsquares_y=4\nsquare_length=10\nmarker_length=12\n",
         "marker_length"),
        ("type='charuco'\nsquares_x=5\nsquares_y=4\nsquare_length=10\nmarker_length=7\n"
         "dictionary='DICT_9X9_50'\n", "dictionary"),
        ("type='charuco'\nsquares_x=20\nsquares_y=20\nsquare_length=10\nmarker_length=7\n"
         "dictionary='DICT_4X4_50'\n", "larger dictionary"),
        ("type='hexagon'\nsquares_x=5\nsquares_y=4\nsquare_length=10\n", "board type"),
        ("squares_x=5\nsquares_y=4\nsquare_length=10\nmarker_length=7\ncolour='red'\n",
         "unknown board key"),
    ],
)
def test_malformed_board_names_file_and_key(tmp_path, text, match):
    p = tmp_path / "board.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        load_board(p)
    assert str(p) in str(info.value)


def test_skeleton_file(tmp_path):
    p = tmp_path / "skeleton.toml"
    p.write_text("bodyparts=['a','b','c']\nlimbs=[['a','b'],['b','c']]\n"
                 "weak_limbs=[['a','c']]\n[angles]\nbend=['a','b','c']\n")
    s = load_skeleton(p)
    assert s.limb_indices() == [(0, 1), (1, 2)]
    assert s.limb_indices(weak=True) == [(0, 2)]
    assert s.angles == {"bend": ("a", "b", "c")}
    p.write_text("bodyparts=['a','b']\nlimbs=[['a','z']]\n")
    with pytest.raises(InputError, match=r"unknown bodypart.*'z'") as info:
        load_skeleton(p)
    assert str(p) in str(info.value)
    p.write_text("limbs=[]\n")
    with pytest.raises(InputError, match="bodyparts"):
        load_skeleton(p)
