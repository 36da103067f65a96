"""``tripose export``: a pose-3d file to CSV / TRC / C3D / parquet and back."""

from __future__ import annotations

import numpy as np
import pytest

from calibration.errors import InputError
from triangulate import Pose3D, load_pose3d, save_pose3d
from tripose.cli import main
from tripose.project import export_pose


@pytest.fixture
def pose_csv(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(0, 20, (30, 3, 3))
    X[4, 1] = np.nan
    pose = Pose3D(points3d=X, bodyparts=["nose", "ear", "tail"], error=rng.random((30, 3)),
                  ncams=np.full((30, 3), 3), score=rng.random((30, 3)), sigma=None,
                  fnum=np.arange(30))
    return save_pose3d(tmp_path / "s.csv", pose), X


@pytest.mark.parametrize("fmt", ["csv", "trc", "c3d", "parquet"])
def test_export_round_trip(pose_csv, tmp_path, fmt):
    src, X = pose_csv
    out = export_pose(src, tmp_path / f"out.{fmt}", fps=50.0)
    back = load_pose3d(out)
    assert back.bodyparts == ["nose", "ear", "tail"]
    np.testing.assert_allclose(back.points3d, X, atol=1e-4 if fmt == "c3d" else 1e-6)
    assert np.isnan(back.points3d[4, 1]).all()
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
