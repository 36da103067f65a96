"""HTML export: one self-contained file that renders in headless Chromium with no network."""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np
import pytest

import viz3d
from viz3d.colors import bodypart_colors
from viz3d.html import check_self_contained

from .helpers import read_png

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)


@pytest.fixture(scope="module")
def html_file(sample, tmp_path_factory):
    path = tmp_path_factory.mktemp("html") / "scene.html"
    return viz3d.export_html(sample["points3d"], sample["skeleton"], path, frame=40,
                             rig=sample["rig"])


def test_html_is_one_file_with_vtkjs_inlined(html_file):
    text = html_file.read_text(encoding="utf-8")
    assert [f.name for f in html_file.parent.iterdir()] == ["scene.html"]
    assert len(text) > 200_000  # vtk.js itself
    assert "vtk" in text.lower()
    check_self_contained(text)  # no <script src=http...>, <link href=//...>, url(http...)
    with pytest.raises(RuntimeError, match="remote"):
        check_self_contained('<script src="https://cdn.example/vtk.js"></script>')


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_html_renders_offline_in_headless_chromium(html_file, tmp_path):
    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--enable-unsafe-swiftshader",
           "--host-resolver-rules=MAP * ~NOTFOUND",  # any network request fails
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
           "--window-size=800,600", "--virtual-time-budget=8000", html_file.as_uri()]
    env = {k: v for k, v in os.environ.items() if k not in ("http_proxy", "https_proxy")}
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert shot.exists(), res.stderr[-2000:]
    img = read_png(shot).astype(float)
    assert img.reshape(-1, 3).std(0).max() > 5, "blank screenshot"
    found = [(np.linalg.norm(img - c, axis=2) < 40).sum()
             for c in bodypart_colors(16).astype(float)]
    assert np.mean(np.array(found) > 3) >= 0.6, found
