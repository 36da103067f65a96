"""3D writers and readers (round trips) and 2D readers (SLEAP, OpenPose, dispatch)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from calibration.errors import InputError
from triangulate.api import triangulate
from triangulate.load_2d import from_openpose_folder, load_2d
from triangulate.load_3d import load_pose3d
from triangulate.save_2d import to_dlc_file
from triangulate.save_3d import pose3d_from_result, save_pose3d, to_dataframe


@pytest.fixture(scope="module")
def pose(small_scene):
    sc = small_scene
    res = triangulate(sc.rig, sc.points2d, sc.scores, method="optim", skeleton=sc.skeleton)
    return pose3d_from_result(res, sc.skeleton.bodyparts, fps=120.0)


def test_csv_columns_are_anipose_pose3d(pose):
    df = to_dataframe(pose)
    bp = pose.bodyparts[0]
    assert list(df.columns[:7]) == [f"{bp}_{k}" for k in
                                    ("x", "y", "z", "error", "ncams", "score", "sigma")]
    assert df.columns[-1] == "fnum"


@pytest.mark.parametrize("suffix", [".csv", ".trc", ".c3d"])
def test_round_trip(tmp_path, pose, suffix):
    path = save_pose3d(tmp_path / f"out{suffix}", pose)
    back = load_pose3d(path)
    assert back.bodyparts == pose.bodyparts
    np.testing.assert_allclose(back.points3d, pose.points3d, atol=1e-4, equal_nan=True)
    if suffix == ".csv":
        np.testing.assert_array_equal(back.ncams, pose.ncams)
        np.testing.assert_allclose(back.sigma, pose.sigma, atol=1e-5, equal_nan=True)
        np.testing.assert_allclose(back.error, pose.error, atol=1e-5, equal_nan=True)
    else:
        assert back.fps == pose.fps and back.units == pose.units
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_parquet_round_trip_or_clear_error(tmp_path, pose):
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        with pytest.raises(InputError, match="pyarrow"):
            save_pose3d(tmp_path / "out.parquet", pose)
        assert not (tmp_path / "out.parquet").exists()
        return
    back = load_pose3d(save_pose3d(tmp_path / "out.parquet", pose))
    np.testing.assert_allclose(back.points3d, pose.points3d, equal_nan=True)


def test_unknown_format(tmp_path, pose):
    with pytest.raises(InputError, match="unknown 3D output format"):
        save_pose3d(tmp_path / "x.csv", pose, format="xlsx")


def _write_openpose(folder, frames):
    folder.mkdir()
    for i, people in enumerate(frames):
        data = {"version": 1.3, "people": [
            {"pose_keypoints_2d": np.asarray(p, float).ravel().tolist()} for p in people]}
        (folder / f"clip_{i:012d}_keypoints.json").write_text(json.dumps(data))


def test_openpose_folder_persisting_person(tmp_path):
    a = np.array([[10, 10, 0.9], [20, 20, 0.8], [0, 0, 0.0]])
    b = a + [100, 0, 0]
    # frame 0: a first; frame 1: b listed first, a second -> persist keeps a
    _write_openpose(tmp_path / "op", [[a], [b, a + [1, 1, 0]], []])
    pts, sc, names = from_openpose_folder(tmp_path / "op")
    assert pts.shape == (3, 3, 2) and names == ["kp0", "kp1", "kp2"]
    np.testing.assert_allclose(pts[1, 0], [11, 11])
    assert np.isnan(pts[:, 2]).all() and np.isnan(pts[2]).all() and sc[2].max() == 0
    first, _, _ = from_openpose_folder(tmp_path / "op", person="first")
    np.testing.assert_allclose(first[1, 0], [110, 10])
    same, _, _ = load_2d(tmp_path / "op")
    np.testing.assert_array_equal(same, pts)


def test_load_2d_dispatch_and_errors(tmp_path):
    pts = np.random.default_rng(0).uniform(0, 100, (5, 2, 2))
    to_dlc_file(tmp_path / "cam.h5", pts, np.ones((5, 2)), ["a", "b"], csv=True)
    for name in ("cam.h5", "cam.csv"):
        p, s, bp = load_2d(tmp_path / name)
        np.testing.assert_allclose(p, pts) and bp == ["a", "b"]
    with pytest.raises(FileNotFoundError):
        load_2d(tmp_path / "missing.h5")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(InputError, match="unknown 2D format"):
        load_2d(tmp_path / "x.txt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no \\*.json"):
        load_2d(tmp_path / "empty")
