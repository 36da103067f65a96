"""DeepLabCut tables as pose2d writes and reads them: through poses.io.dlc, unchanged on disk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pose2d.analyze import analysis_poses, write_analysis
from poses import DEFAULT_INDIVIDUAL, InputError
from poses.io.dlc import is_dlc_file, load_dlc

from .conftest import BODYPARTS, label_frame, old_dataframe


def _points(n=7, j=3, seed=0):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 600, (n, j, 2))
    xy[2, 1] = np.nan
    return xy, rng.uniform(0, 1, (n, j))


def old_files(folder, points2d, scores, bodyparts, scorer):
    """What pose2d.dlc_format.to_dlc_file wrote: the h5 (table format) and the csv."""
    folder.mkdir(parents=True, exist_ok=True)
    df = old_dataframe(points2d, scores, bodyparts, scorer)
    df.to_hdf(folder / "vid.h5", key="df_with_missing", mode="w", format="table")
    df.to_csv(folder / "vid.csv")
    return folder / "vid.h5"


def test_analysis_output_is_what_the_old_writer_wrote(tmp_path):
    xy, conf = _points()
    poses = analysis_poses(xy, conf, BODYPARTS, "tripose_small_m", camera="vid", fps=30.0)
    assert poses.individuals == [DEFAULT_INDIVIDUAL] and poses.camera == "vid"
    new = write_analysis(tmp_path / "new" / "vid.h5", poses)
    old = old_files(tmp_path / "old", xy, conf, BODYPARTS, "tripose_small_m")
    a = pd.read_hdf(new, key="df_with_missing")
    b = pd.read_hdf(old, key="df_with_missing")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(a, old_dataframe(xy, conf, BODYPARTS, "tripose_small_m"),
                                  check_exact=True)
    assert a.index.equals(b.index) and list(a.index) == list(range(7))
    with pd.HDFStore(new, mode="r") as s_new, pd.HDFStore(old, mode="r") as s_old:
        assert s_new.keys() == s_old.keys() == ["/df_with_missing"]
        assert s_new.get_storer("df_with_missing").is_table
        assert s_old.get_storer("df_with_missing").is_table
    assert new.with_suffix(".csv").read_bytes() == old.with_suffix(".csv").read_bytes()


def test_h5_reads_back_as_deeplabcut_writes_it(tmp_path):
    xy, conf = _points()
    path = write_analysis(tmp_path / "vid.h5",
                          analysis_poses(xy, conf, BODYPARTS, "tripose_small_m"))
    df = pd.read_hdf(path, key="df_with_missing")
    assert df.columns.names == ["scorer", "bodyparts", "coords"]
    assert list(df.columns.get_level_values(2)[:3]) == ["x", "y", "likelihood"]
    assert list(df.index) == list(range(7))
    np.testing.assert_allclose(df["tripose_small_m"]["leftear"]["likelihood"], conf[:, 1])
    # DeepLabCut's own idiom: df.xs(bodypart, level="bodyparts", axis=1)
    snout = df.xs("snout", level="bodyparts", axis=1)
    np.testing.assert_allclose(snout.iloc[:, 0], xy[:, 0, 0])
    t = load_dlc(path)
    np.testing.assert_array_equal(t.position[:, 0], xy)
    np.testing.assert_array_equal(t.confidence[:, 0], conf)
    assert t.keypoints == BODYPARTS and t.attrs["scorer"] == "tripose_small_m"


def test_csv_round_trip(tmp_path):
    xy, conf = _points()
    write_analysis(tmp_path / "vid.h5", analysis_poses(xy, conf, BODYPARTS, "tripose"))
    t = load_dlc(tmp_path / "vid.csv")
    np.testing.assert_allclose(t.position[:, 0], xy, rtol=1e-12)
    assert is_dlc_file(tmp_path / "vid.csv") and is_dlc_file(tmp_path / "vid.h5")


def test_label_csv_with_three_level_index(tmp_path):
    xy, _ = _points(4)
    df = label_frame(["a.png", "b.png", "c.png", "d.png"], xy)
    df.index = pd.MultiIndex.from_tuples([("labeled-data", "v", n) for n in df.index])
    df.to_csv(tmp_path / "CollectedData_T.csv")
    t = load_dlc(tmp_path / "CollectedData_T.csv")
    assert t.attrs["image_paths"][0] == "labeled-data/v/a.png"
    np.testing.assert_allclose(t.position[:, 0], xy)
    assert t.attrs["labels"]


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        load_dlc(tmp_path / "nope.h5")
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="x.csv"):
        load_dlc(tmp_path / "x.csv")
    with pytest.raises(InputError, match="4 keypoint names for 2"):
        analysis_poses(np.zeros((3, 2, 2)), np.zeros((3, 2)), ["a", "b", "c", "d"], "s")


def test_moved_names_point_to_poses():
    import pose2d

    for name in ("from_dlc_file", "to_dlc_file"):
        with pytest.raises(AttributeError, match="poses.io.dlc"):
            getattr(pose2d, name)
    with pytest.raises(ImportError):
        import pose2d.dlc_format  # noqa: F401


def test_triangulate_reads_our_output(tmp_path):
    from triangulate.files import load_inputs

    xy, conf = _points()
    for cam in ("cam0", "cam1"):
        write_analysis(tmp_path / f"{cam}.h5", analysis_poses(xy, conf, BODYPARTS, "tripose"))
    out = load_inputs({c: tmp_path / f"{c}.h5" for c in ("cam0", "cam1")}, ["cam0", "cam1"],
                      dtype=np.float64)
    np.testing.assert_allclose(out.points2d[1], xy)
    np.testing.assert_allclose(out.scores[1], np.nan_to_num(conf))
    assert out.keypoints == BODYPARTS


def test_pose2d_imports_no_other_package():
    import subprocess
    import sys

    code = ("import sys, pkgutil, importlib, pose2d\n"
            "for m in pkgutil.iter_modules(pose2d.__path__):\n"
            "    importlib.import_module('pose2d.' + m.name)\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('calibration', 'triangulate', 'tripose', 'viz3d', 'synth')]\n"
            "print(bad); sys.exit(1 if bad else 0)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
