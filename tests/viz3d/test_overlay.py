"""2D overlays on one camera's video and the combined movie (camera grid + 3D view)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import viz3d
from calibration.errors import InputError
from viz3d.colors import bodypart_colors
from viz3d.video import mp4_writer

from .helpers import colour_near, count_frames

N = 8


def _frame(path, index):
    cap = cv2.VideoCapture(str(path))
    cap.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, img = cap.read()
    cap.release()
    assert ok
    return img[:, :, ::-1]


def test_overlay_draws_detections_where_they_are(sample, tmp_path):
    rig, p = sample["rig"], sample["points3d"]
    pts = sample["points2d"][0, :N]
    reproj = rig.project(p[:N])[0]
    out = viz3d.overlay_2d_video(sample["videos"][0], pts, sample["skeleton"],
                                 tmp_path / "cam0.mp4", reprojected=reproj,
                                 scores=sample["scores"][0], score_threshold=0.5)
    assert count_frames(out) == (N, (640, 480))
    img = _frame(out, 5)
    colours = bodypart_colors(16)
    ok = sample["scores"][0, 5] >= 0.5
    near = [colour_near(img, pts[5, j], colours[j], radius=2) for j in np.flatnonzero(ok)]
    # H.264 blurs small dots; most dots keep their colour at their centre
    assert np.mean(np.array(near) < 60) >= 0.6, np.round(near)
    assert [f.name for f in tmp_path.iterdir()] == ["cam0.mp4"]


def test_combined_movie_has_every_frame_and_the_layout(sample, tmp_path):
    out = viz3d.combined_video(sample["videos"], sample["rig"], sample["points3d"][:N],
                               sample["skeleton"], tmp_path / "combined.mp4",
                               points2d=sample["points2d"][:, :N], size=(960, 360), crop=True)
    n, size = count_frames(out)
    assert n == N
    assert size == (960, 360)
    img = _frame(out, 3).astype(float)
    grid, view = img[:, :480], img[:, 480:]
    assert grid.mean() < view.mean()  # dark camera images left, light 3D scene right
    found = [(np.linalg.norm(view - c, axis=2) < 40).sum()
             for c in bodypart_colors(16).astype(float)]
    assert np.mean(np.array(found) > 3) >= 0.6, found


def test_short_or_missing_video_is_an_input_error(sample, tmp_path):
    short = tmp_path / "short.mp4"
    with mp4_writer(short, (640, 480), 30) as write:
        for _ in range(3):
            write(np.zeros((480, 640, 3), np.uint8))
    pts = sample["points2d"][0, :N]
    with pytest.raises(InputError, match="has 3 frames but 8 are needed"):
        viz3d.overlay_2d_video(short, pts, sample["skeleton"], tmp_path / "o.mp4")
    with pytest.raises(InputError, match="not found"):
        viz3d.overlay_2d_video(tmp_path / "nope.mp4", pts, None, tmp_path / "o.mp4")
    videos = list(sample["videos"])
    videos[2] = short
    with pytest.raises(InputError, match=r"videos\[2\].*3 frames"):
        viz3d.combined_video(videos, sample["rig"], sample["points3d"][:N], None,
                             tmp_path / "c.mp4")
    with pytest.raises(InputError, match="4 cameras"):
        viz3d.combined_video(videos[:3], sample["rig"], sample["points3d"][:N], None,
                             tmp_path / "c.mp4")
    assert sorted(f.name for f in tmp_path.iterdir()) == ["short.mp4"]


def test_crop_box_keeps_aspect_and_stays_inside_the_image():
    from viz3d.combined import crop_box

    pts = np.array([[[600.0, 20], [630, 60], [np.nan, np.nan]]])
    x0, y0, x1, y1 = crop_box(pts, (640, 480))
    assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 480
    assert abs((x1 - x0) / (y1 - y0) - 640 / 480) < 0.02
    assert x0 <= 600 and x1 >= 630 and y0 <= 20 and y1 >= 60
    assert crop_box(np.full((2, 2), np.nan), (640, 480)) == (0, 0, 640, 480)
