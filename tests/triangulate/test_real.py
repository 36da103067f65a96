"""Real 4-camera mouse data (sleap-anipose minimal session); skipped when absent."""

from __future__ import annotations

import numpy as np
import pytest

from calibration import load_rig
from poses import load_poses
from tests.fixtures.io2d import read_2d
from triangulate.api import triangulate

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def session(shared_data):
    root = shared_data / "sleap_anipose_minimal"
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    rig = load_rig(root / "calibration.toml")
    data = {c: read_2d(root / c / f"minimal_{c}_proofread.analysis.h5") for c in rig.names}
    return root, rig, data


def _reference(root):
    import tables

    with tables.open_file(str(root / "points3d.h5")) as f:
        return f.root.tracks.read()[:, 0]  # (n_frames, n_nodes, 3)


def test_sleap_reader(session):
    root, rig, data = session
    pts, sc, names = data["back"]
    assert pts.shape == (120, 15, 2) and sc.shape == (120, 15) and names[0] == "Nose"
    assert np.all((sc >= 0) & (sc <= 1)) and np.all(sc[np.isnan(pts[..., 0])] == 0)
    same = load_poses(root / "back" / "minimal_back_proofread.analysis.h5", format="sleap")
    assert same.source_software == "SLEAP" and same.n_individuals == 1
    np.testing.assert_array_equal(same.position[:, 0], pts)


@pytest.mark.parametrize("method", ["dlt", "ransac", "optim"])
def test_three_good_cameras_reproject_better_than_reference(session, method):
    root, rig, data = session
    names = ["back", "mid", "top"]
    sub = rig.subset(names)
    p = np.stack([data[c][0] for c in names])
    s = np.stack([data[c][1] for c in names])
    ref = np.linalg.norm(sub.project(_reference(root)) - p, axis=-1)
    res = triangulate(sub, p, s, method=method, score_threshold=0.0)
    ours = np.linalg.norm(sub.project(res.points3d) - p, axis=-1)
    assert np.isfinite(res.points3d).all(-1).mean() > 0.95
    assert np.nanmedian(ours) <= np.nanmedian(ref)
    assert res.disagreeing_cameras() == []


@pytest.mark.parametrize("method", ["ransac", "optim"])
def test_wrong_side_entry_is_detected(session, method):
    root, rig, data = session
    p = np.stack([data[c][0] for c in rig.names])
    s = np.stack([data[c][1] for c in rig.names])
    res = triangulate(rig, p, s, method=method, score_threshold=0.0)
    assert res.disagreeing_cameras() == ["side"]
    assert any("'side'" in w for w in res.warnings)
    side = rig.names.index("side")
    assert res.inliers[side].mean() < 0.1
