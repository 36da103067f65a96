"""``tripose export``: a pose-3d file to CSV / TRC / C3D / parquet and back."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.errors import InputError
from poses import Poses, load_poses, save_poses
from tripose.cli import main
from tripose.project import export_pose


@pytest.fixture
def pose_csv(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(0, 20, (30, 3, 3))
    X[4, 1] = np.nan
    pose = Poses(X[:, None], rng.random((30, 1, 3)), keypoints=["nose", "ear", "tail"],
                 quality={"error": rng.random((30, 1, 3)), "ncams": np.full((30, 1, 3), 3)})
    return save_poses(pose, tmp_path / "s.csv"), X


@pytest.mark.parametrize("fmt", ["csv", "trc", "c3d", "parquet"])
def test_export_round_trip(pose_csv, tmp_path, fmt):
    src, X = pose_csv
    out = export_pose(src, tmp_path / f"out.{fmt}", fps=50.0)
    back = load_poses(out)
    assert back.keypoints == ["nose", "ear", "tail"]
    np.testing.assert_allclose(back.position[:, 0], X, atol=1e-4 if fmt == "c3d" else 1e-6)
    assert np.isnan(back.position[4, 0, 1]).all()
    if fmt in ("trc", "c3d", "parquet"):
        assert back.fps == 50.0


def test_export_cli(pose_csv, tmp_path, capsys):
    src, _ = pose_csv
    assert main(["export", str(src), "-o", str(tmp_path / "x.data"), "--format", "trc"]) == 0
    assert (tmp_path / "x.data").read_text().startswith("PathFileType")
    assert main(["export", str(src), "-o", str(tmp_path / "x.data")]) == 2
    assert "pass --format" in capsys.readouterr().err
    assert main(["export", str(src), "-o", str(tmp_path / "y.csv"), "--format", "xls"]) == 2
    assert "unknown export format 'xls'" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "none.csv"), "-o", str(tmp_path / "y.trc")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_export_refuses_overwriting_its_input(pose_csv):
    src, _ = pose_csv
    with pytest.raises(InputError, match="overwrite its input"):
        export_pose(src, src)


# ---------------------------------------------------------------- every format, via poses.io
def _anipose_csv(path, n_frames=12, bodyparts=("nose", "ear", "tail"), seed=0):
    """A small 3D pose CSV in anipose's column layout, written with pandas directly."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {}
    for j, bp in enumerate(bodyparts):
        xyz = np.round(rng.normal(0, 30, (n_frames, 3)), 6)
        xyz[3 + j] = np.nan
        for a, axis in enumerate("xyz"):
            cols[f"{bp}_{axis}"] = xyz[:, a]
        cols[f"{bp}_error"] = np.round(rng.random(n_frames), 6)
        cols[f"{bp}_ncams"] = np.full(n_frames, 3)
        score = np.round(rng.random(n_frames), 6)
        score[3 + j] = np.nan
        cols[f"{bp}_score"] = score
    cols["fnum"] = np.arange(n_frames) + 40
    df = pd.DataFrame(cols)
    df.to_csv(path, index=False)
    return df


def test_export_csv_to_nwb_validates(tmp_path):
    import ndx_pose
    from pynwb import NWBHDF5IO, validate

    df = _anipose_csv(tmp_path / "pose3d.csv")
    out = tmp_path / "pose3d.nwb"
    assert main(["export", str(tmp_path / "pose3d.csv"), "-o", str(out)]) == 0
    assert validate(path=str(out)) == []
    with NWBHDF5IO(str(out), "r") as io:
        behavior = io.read().processing["behavior"]
        found = [v for v in behavior.data_interfaces.values()
                 if isinstance(v, ndx_pose.MultiCameraPoseEstimation)]
        assert len(found) == 1
        series = found[0].pose_estimation_series
        assert sorted(series) == ["ear", "nose", "tail"]
        for bp, s in series.items():
            assert isinstance(s, ndx_pose.PoseEstimationSeries)
            np.testing.assert_array_equal(s.data[:], df[[f"{bp}_x", f"{bp}_y", f"{bp}_z"]])
            np.testing.assert_array_equal(s.confidence[:], df[f"{bp}_score"])
            # a CSV carries no frame rate: none is invented, the frame numbers are kept
            assert s.rate is None
            np.testing.assert_array_equal(s.timestamps[:], df["fnum"])
    export_pose(tmp_path / "pose3d.csv", tmp_path / "rate.nwb", fps=50.0, units="mm")
    with NWBHDF5IO(str(tmp_path / "rate.nwb"), "r") as io:
        mcpe = io.read().processing["behavior"]["MultiCameraPoseEstimation"]
        s = mcpe.pose_estimation_series["tail"]
        assert (s.rate, s.starting_time, s.unit) == (50.0, 40 / 50.0, "mm")


@pytest.mark.parametrize("suffix", [".csv", ".trc", ".c3d", ".parquet", ".nc", ".nwb"])
def test_export_writes_and_reads_every_format(tmp_path, suffix):
    from poses.io import load_poses

    df = _anipose_csv(tmp_path / "in.csv")
    X = np.stack([df[[f"{bp}_{a}" for a in "xyz"]].to_numpy() for bp in ("nose", "ear", "tail")],
                 axis=1)
    out = export_pose(tmp_path / "in.csv", tmp_path / f"out{suffix}")
    back = load_poses(out)
    assert back.keypoints == ["nose", "ear", "tail"] and back.is_3d
    np.testing.assert_allclose(back.position[:, 0], X, atol=1e-4 if suffix == ".c3d" else 1e-6)
    assert np.isnan(back.position[3, 0, 0]).all()
    # TRC and C3D cannot do without a rate and units: the old defaults; the others keep none
    assert back.fps == (100.0 if suffix in (".trc", ".c3d") else None)
    # and every format reads back as an input
    again = export_pose(out, tmp_path / "again.nc")
    np.testing.assert_allclose(load_poses(again).position, back.position)


def test_export_2d_to_dlc_h5_movement_and_nwb(tmp_path):
    from poses import Poses
    from poses.io import load_poses, save_poses

    rng = np.random.default_rng(5)
    pos = rng.uniform(0, 640, (15, 2, 4, 2))
    pos[2, 1, 3] = np.nan
    conf = rng.random((15, 2, 4))
    conf[2, 1, 3] = np.nan
    src = save_poses(Poses(pos, conf, keypoints=["a", "b", "c", "d"], individuals=["m1", "m2"],
                           fps=30.0), tmp_path / "cam1.nc")
    for suffix in (".h5", ".nwb", ".csv"):
        out = export_pose(src, tmp_path / f"cam1{suffix}")
        back = load_poses(out)
        np.testing.assert_allclose(back.position, pos, atol=1e-6)
        assert back.individuals == ["m1", "m2"] and back.keypoints == ["a", "b", "c", "d"]


def test_export_cli_reports_unwritable(tmp_path, capsys):
    _anipose_csv(tmp_path / "in.csv")
    assert main(["export", str(tmp_path / "in.csv"), "-o", str(tmp_path / "o.nc"),
                 "--fps", "-1"]) == 2
    assert "--fps must be > 0" in capsys.readouterr().err
    bad = tmp_path / "bad.nwb"
    bad.write_text("no nwb")
    assert main(["export", str(bad), "-o", str(tmp_path / "o.nc")]) == 2
    assert "bad.nwb: not an NWB file" in capsys.readouterr().err
