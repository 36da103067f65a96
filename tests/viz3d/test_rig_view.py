"""Calibration pictures: named camera frustums and board poses."""

from __future__ import annotations

import numpy as np

import viz3d
from calibration.load_board import load_board
from viz3d.colors import camera_colors
from viz3d.rig_view import board_corners_world

from .helpers import read_png


def test_rig_picture_shows_every_camera_and_the_boards(sample, tmp_path):
    rig = sample["rig"]
    npz = np.load(sample["board_corners"])
    board = load_board(sample["board"])
    poses = viz3d.board_poses_from_rvecs(npz["rvecs"], npz["tvecs"])
    assert poses.shape == (len(npz["rvecs"]), 4, 4)
    out = viz3d.render_rig(rig, tmp_path / "rig.png", board_poses=poses, board=board,
                           size=(640, 480))
    img = read_png(out).astype(float)
    for c, rgb in enumerate(camera_colors(rig.n_cams).astype(float)):
        assert (np.linalg.norm(img - rgb, axis=2) < 40).sum() > 10, rig.names[c]
    # corner points instead of transforms
    corners = board_corners_world(poses[:10], board)
    assert corners.shape == (10, board.n_corners, 3)
    out2 = viz3d.render_rig(rig, tmp_path / "rig2.png", board_poses=corners)
    assert read_png(out2).shape == (720, 960, 3)
