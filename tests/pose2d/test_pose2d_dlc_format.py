"""DeepLabCut tables: round trips through our writer, pandas and our reader."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pose2d.dlc_format import from_dlc_file, is_dlc_file, to_dlc_file

from .conftest import BODYPARTS, label_frame


def _points(n=7, j=3, seed=0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 600, (n, j, 2))
    xy[2, 1] = np.nan
    return xy, rng.uniform(0, 1, (n, j))


def test_h5_reads_back_as_deeplabcut_writes_it(tmp_path):
    xy, conf = _points()
    path = to_dlc_file(tmp_path / "vid.h5", xy, conf, BODYPARTS, scorer="tripose_small_m")
    df = pd.read_hdf(path, key="df_with_missing")
    assert df.columns.names == ["scorer", "bodyparts", "coords"]
    assert list(df.columns.get_level_values(2)[:3]) == ["x", "y", "likelihood"]
    assert list(df.index) == list(range(7))
    np.testing.assert_allclose(df["tripose_small_m"]["leftear"]["likelihood"], conf[:, 1])
    # DeepLabCut's own idiom: df.xs(bodypart, level="bodyparts", axis=1)
    snout = df.xs("snout", level="bodyparts", axis=1)
    np.testing.assert_allclose(snout.iloc[:, 0], xy[:, 0, 0])
    t = from_dlc_file(path)
    np.testing.assert_array_equal(t.points2d, xy)
    np.testing.assert_array_equal(t.scores, conf)
    assert t.bodyparts == BODYPARTS and t.scorer == "tripose_small_m"


def test_csv_round_trip(tmp_path):
    xy, conf = _points()
    to_dlc_file(tmp_path / "vid.h5", xy, conf, BODYPARTS)
    t = from_dlc_file(tmp_path / "vid.csv")
    np.testing.assert_allclose(t.points2d, xy, rtol=1e-12)
    assert is_dlc_file(tmp_path / "vid.csv") and is_dlc_file(tmp_path / "vid.h5")


def test_label_csv_with_three_level_index(tmp_path):
    xy, _ = _points(4)
    df = label_frame(["a.png", "b.png", "c.png", "d.png"], xy)
    df.index = pd.MultiIndex.from_tuples([("labeled-data", "v", n) for n in df.index])
    df.to_csv(tmp_path / "CollectedData_T.csv")
    t = from_dlc_file(tmp_path / "CollectedData_T.csv")
    assert t.index[0] == "labeled-data/v/a.png"
    np.testing.assert_allclose(t.points2d, xy)
    assert t.scores is None


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        from_dlc_file(tmp_path / "nope.h5")
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="x.csv"):
        from_dlc_file(tmp_path / "x.csv")
    with pytest.raises(ValueError, match="expected points2d"):
        to_dlc_file(tmp_path / "y.h5", np.zeros((3, 2, 2)), np.zeros((3, 3)), ["a", "b"])


def test_triangulate_reads_our_output(tmp_path):
    load_2d = pytest.importorskip("triangulate.load_2d")
    xy, conf = _points()
    to_dlc_file(tmp_path / "cam0.h5", xy, conf, BODYPARTS)
    out = load_2d.from_dlc_file(tmp_path / "cam0.h5")
    np.testing.assert_allclose(out[0], xy)
    np.testing.assert_allclose(out[1], conf)
    assert list(out[2]) == BODYPARTS


def test_pose2d_imports_no_other_package():
    import subprocess
    import sys

    code = ("import sys, pkgutil, importlib, pose2d\n"
            "for m in pkgutil.iter_modules(pose2d.__path__):\n"
            "    importlib.import_module('pose2d.' + m.name)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('calibration', 'triangulate', 'tripose', 'viz3d')]\n"
            "print(bad); sys.exit(1 if bad else 0)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
