"""PNG and MP4 rendering of the skeleton scene: pixels land where the rig projects them."""

from __future__ import annotations

import numpy as np
import pytest

import viz3d
from viz3d.colors import bodypart_colors

from .helpers import colour_near, count_frames, read_png

FRAME = 40


def _pinhole(cam, points):
    """Ideal (distortion-free) pixels of a camera: what a VTK camera can reproduce."""
    xc = points @ cam.R.T + cam.tvec
    uv = xc @ cam.matrix.T
    return uv[:, :2] / uv[:, 2:]


@pytest.mark.parametrize("camera", ["cam1", 3])
def test_joint_colours_appear_where_the_rig_camera_projects_them(sample, tmp_path, camera):
    rig, p = sample["rig"], sample["points3d"]
    cam = rig[camera]
    out = viz3d.render_png(p, sample["skeleton"], tmp_path / "view.png", frame=FRAME, rig=rig,
                           camera_view=camera, size=cam.size)
    img = read_png(out)
    assert img.shape == (cam.size[1], cam.size[0], 3)
    colours = bodypart_colors(p.shape[1])
    uv = _pinhole(cam, p[FRAME])
    near = np.array([colour_near(img, uv[j], colours[j]) for j in range(p.shape[1])])
    # shading changes the colour a little; a few joints may hide behind others
    assert np.mean(near < 45) >= 0.8, near.round()
    # control: the same colours are mostly absent where another camera would put them
    other = rig[(rig.index(cam.name) + 2) % rig.n_cams]
    uv_wrong = _pinhole(other, p[FRAME]) * (np.array(cam.size) / np.array(other.size))
    wrong = np.array([colour_near(img, uv_wrong[j], colours[j]) for j in range(p.shape[1])])
    assert np.mean(wrong < 45) < 0.5, wrong.round()


def test_default_view_frames_the_skeleton_with_every_bodypart_visible(sample, tmp_path):
    p = sample["points3d"]
    out = viz3d.render_png(p, sample["skeleton"], tmp_path / "s.png", frame=FRAME,
                           rig=sample["rig"], trail=10, size=(480, 360))
    img = read_png(out).astype(float)
    seen = []
    for rgb in bodypart_colors(p.shape[1]).astype(float):
        mask = np.linalg.norm(img - rgb, axis=2) < 40
        seen.append(mask.sum())
        if mask.sum() > 20:  # inside the picture, not cut at its border
            ys, xs = np.nonzero(mask)
            assert 2 < xs.mean() < 478 and 2 < ys.mean() < 358
    assert np.mean(np.array(seen) > 5) >= 0.8, seen
    # no stray temporary files
    assert [f.name for f in tmp_path.iterdir()] == ["s.png"]


def test_missing_joints_and_no_skeleton_render(sample, tmp_path):
    p = sample["points3d"][:3].copy()
    p[1] = np.nan  # a whole frame missing
    a = viz3d.render_png(p, sample["skeleton"], tmp_path / "a.png", frame=1)
    assert read_png(a).std() > 1  # floor and background
    full = read_png(viz3d.render_png(p[0], None, tmp_path / "b.png", floor=False))
    p[0, 5] = np.nan
    holed = read_png(viz3d.render_png(p[0], None, tmp_path / "c.png", floor=False))
    c5 = bodypart_colors(16)[5].astype(float)

    def count(img):
        return (np.linalg.norm(img.astype(float) - c5, axis=2) < 30).sum()

    assert count(full) > 20
    assert count(holed) < 0.3 * count(full)


def test_movie_streams_the_chosen_frames(sample, tmp_path):
    p = sample["points3d"]
    out = viz3d.render_movie(p, sample["skeleton"], tmp_path / "m.mp4", fps=25,
                             rig=sample["rig"], trail=5, size=(321, 241),
                             frames=range(0, 36, 3))
    n, size = count_frames(out)
    assert n == 12
    assert size == (320, 240)  # rounded down to even numbers for H.264
    assert [f.name for f in tmp_path.iterdir()] == ["m.mp4"]


def test_open_window_without_display_says_what_to_use(sample, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    with pytest.raises(viz3d.DisplayError, match="render_png.*render_movie.*export_html"):
        viz3d.open_window(sample["points3d"], sample["skeleton"])


def test_offscreen_backend_is_chosen_without_a_display(monkeypatch):
    from viz3d import _offscreen

    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("VTK_DEFAULT_OPENGL_WINDOW", raising=False)
    _offscreen._configure_offscreen()
    import os

    assert os.environ["VTK_DEFAULT_OPENGL_WINDOW"] == "vtkEGLRenderWindow"
    assert not _offscreen.has_display()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert not _offscreen.has_display()  # EGL was chosen: off screen only
    monkeypatch.delenv("VTK_DEFAULT_OPENGL_WINDOW")
    assert _offscreen.has_display()
    monkeypatch.delenv("WAYLAND_DISPLAY")
    monkeypatch.setenv("DISPLAY", ":97")  # no X server there
    monkeypatch.setattr(_offscreen, "_x_server_answers", lambda d: False)
    with pytest.raises(viz3d.DisplayError, match="DISPLAY=:97 does not answer"):
        _offscreen.require_display()


def test_window_scene_slider_moves_the_skeleton(sample):
    from viz3d.render import window_scene
    from viz3d.scene import screenshot

    scene = window_scene(sample["points3d"][:20], sample["skeleton"], size=(320, 240),
                         off_screen=True)
    try:
        widgets = getattr(scene.plotter, "widgets", scene.plotter)
        slider = widgets.slider_widgets[0]
        first = screenshot(scene.plotter)
        slider.GetRepresentation().SetValue(19)
        slider.InvokeEvent("InteractionEvent")
        last = screenshot(scene.plotter)
        assert np.abs(first.astype(int) - last.astype(int)).sum() > 0
        np.testing.assert_allclose(scene.joints.points.reshape(16, -1, 3).mean(1),
                                   sample["points3d"][19], atol=1e-6)
    finally:
        scene.plotter.close()


def test_degenerate_inputs_still_render(sample, tmp_path):
    empty = np.full((2, 16, 3), np.nan)
    a = read_png(viz3d.render_png(empty, sample["skeleton"], tmp_path / "a.png",
                                  rig=sample["rig"], size=(160, 120)))
    assert a.shape == (120, 160, 3)
    one = np.zeros((1, 1, 3))
    b = read_png(viz3d.render_png(one, None, tmp_path / "b.png", size=(160, 120)))
    blue = bodypart_colors(1)[0].astype(float)
    assert (np.linalg.norm(b.astype(float) - blue, axis=2) < 60).sum() > 3
