"""triangulate(): result fields, camera checks and bad input."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from calibration.errors import InputError
from triangulate.api import triangulate


def test_result_fields(small_scene):
    sc = small_scene
    res = triangulate(sc.rig, sc.points2d, sc.scores, method="ransac")
    n_cams, n_frames, n_joints = sc.scores.shape
    assert res.points3d.shape == (n_frames, n_joints, 3)
    for name in ("reprojection_error", "n_cams", "score"):
        assert getattr(res, name).shape == (n_frames, n_joints)
    assert res.inliers.shape == res.camera_errors.shape == (n_cams, n_frames, n_joints)
    ok = np.isfinite(res.points3d).all(-1)
    np.testing.assert_array_equal(res.n_cams[ok], res.inliers.sum(0)[ok])
    assert np.all(res.n_cams[~ok] == 0)
    assert res.uncertainty is None and res.units == "mm" and res.camera_names == sc.rig.names
    assert "ransac" in repr(res)
    rep = res.camera_report()
    assert [r["camera"] for r in rep] == sc.rig.names
    assert all(0.8 < r["used"] <= 1 for r in rep) and res.disagreeing_cameras() == []


@pytest.mark.parametrize("method", ["ransac", "optim"])
def test_a_miscalibrated_camera_is_named(small_scene, method, caplog):
    sc = small_scene
    rig = sc.rig.copy()
    rig.cameras[2] = rig.cameras[1].copy(name=rig.cameras[2].name)  # wrong entry, as on real data
    with caplog.at_level(logging.WARNING, logger="triangulate"):
        res = triangulate(rig, sc.points2d, sc.scores, method=method, skeleton=sc.skeleton)
    assert res.disagreeing_cameras() == [rig.names[2]]
    assert any(rig.names[2] in m and "calibration" in m for m in res.warnings)
    assert rig.names[2] in caplog.text


def test_bad_input(small_scene):
    sc = small_scene
    rig, p, s = sc.rig, sc.points2d, sc.scores
    with pytest.raises(InputError, match="method must be one of"):
        triangulate(rig, p, method="svd")
    with pytest.raises(InputError, match=r"3 camera\(s\) on axis 0 but the rig has 4"):
        triangulate(rig, p[:3])
    with pytest.raises(InputError, match=r"\(n_cams, n_frames, n_joints, 2\)"):
        triangulate(rig, p[..., 0])
    with pytest.raises(InputError, match="scores must have shape"):
        triangulate(rig, p, s[:, :5])
    bad = s.copy()
    bad[1, 3, 2] = 1.5
    with pytest.raises(InputError, match=r"camera 'cam1' must be within \[0, 1\].*frame 3, "
                                         r"joint 2"):
        triangulate(rig, p, bad)
    inf = p.copy()
    inf[0, 2, 1, 0] = np.inf
    with pytest.raises(InputError, match="infinite at frame 2"):
        triangulate(rig, inf, nonfinite="error")
    with pytest.raises(InputError, match="unknown option"):
        triangulate(rig, p, smooth=3)
    with pytest.raises(InputError, match="score_threshold"):
        triangulate(rig, p, score_threshold=2)
    with pytest.raises(InputError, match="median_filter"):
        triangulate(rig, p, median_filter=4)


def test_nothing_triangulable_is_not_a_crash(small_scene):
    sc = small_scene
    p = np.full_like(sc.points2d, np.nan)
    res = triangulate(sc.rig, p, method="optim", skeleton=sc.skeleton)
    assert np.isnan(res.points3d).all() and np.all(res.n_cams == 0)
    assert any("no point" in w for w in res.warnings)


def test_median_filter_option(small_scene):
    sc = small_scene
    res = triangulate(sc.rig, sc.points2d, sc.scores, median_filter=3)
    assert np.isfinite(res.points3d).mean() > 0.9
