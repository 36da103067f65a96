"""``tripose triangulate`` end to end on DeepLabCut files, and its input errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from poses import load_poses
from poses.skeleton import save_skeleton
from tests.fixtures.io2d import write_2d as to_dlc_file
from tripose.cli import main


@pytest.fixture(scope="module")
def session(tmp_path_factory, small_scene):
    sc = small_scene
    root = tmp_path_factory.mktemp("tri")
    sc.rig.save(root / "calibration.toml")
    save_skeleton(sc.skeleton, root / "skeleton.toml")
    files = []
    for c, name in enumerate(sc.rig.names):
        files.append(to_dlc_file(root / f"{name}.h5", sc.points2d[c], sc.scores[c],
                                 sc.skeleton.bodyparts))
    return root, files


def run(*args):
    return main([str(a) for a in args])


@pytest.mark.parametrize("method", ["dlt", "ransac", "optim"])
def test_triangulate_command_writes_pose3d_csv(session, method, small_scene, capsys):
    root, files = session
    out = root / f"{method}.csv"
    code = run("triangulate", "--calibration", root / "calibration.toml", "--skeleton",
               root / "skeleton.toml", "--method", method, "-o", out, *files)
    assert code == 0, capsys.readouterr().err
    df = pd.read_csv(out)
    bp = small_scene.skeleton.bodyparts[0]
    assert {f"{bp}_x", f"{bp}_error", f"{bp}_ncams", f"{bp}_score", "fnum"} <= set(df.columns)
    assert (f"{bp}_sigma" in df.columns) == (method == "optim")
    err = np.linalg.norm(load_poses(out).position[:, 0] - small_scene.truth, axis=-1)
    assert np.nanmedian(err) < 0.5


def test_named_inputs_formats_and_post_steps(session, small_scene):
    root, files = session
    named = [f"{f.stem}={f}" for f in reversed(files)]  # order does not matter
    out = root / "aligned.trc"
    code = run("triangulate", "-c", root / "calibration.toml", "-s", root / "skeleton.toml",
               "-o", out, "--fill-gaps", 5, "--lowpass", 20, "--fps", 100,
               "--axis", "x:shoulder:palm", "--reference-point", "shoulder",
               "--angles", root / "angles.csv", *named)
    assert code == 0
    pose = load_poses(out)
    assert pose.units == "mm" and pose.fps == 100
    # the origin is the median shoulder (coordinate-wise medians move a little on rotation)
    np.testing.assert_allclose(np.nanmedian(pose.position[:, 0, 0], axis=0), 0, atol=0.5)
    assert list(pd.read_csv(root / "angles.csv").columns) == [
        *small_scene.skeleton.angles, "fnum"]
    assert run("triangulate", "-c", root / "calibration.toml", "-o", root / "x.c3d",
               "--format", "c3d", *files) == 0


def test_input_errors(session, tmp_path, capsys):
    root, files = session
    cal = root / "calibration.toml"
    assert run("triangulate", "-c", cal, "-o", tmp_path / "a.csv",
               f"nosuchcam={files[0]}", *files[1:]) == 2
    err = capsys.readouterr().err
    assert "nosuchcam" in err and "cam0" in err and "calibration cameras" in err
    # differing frame counts: refused, or truncated loudly
    df = pd.read_hdf(files[0])
    short = tmp_path / "cam0.h5"
    df.iloc[:40].to_hdf(short, key="df_with_missing", mode="w")
    assert run("triangulate", "-c", cal, "-o", tmp_path / "b.csv", short, *files[1:]) == 2
    assert "frame counts differ" in capsys.readouterr().err and not (tmp_path / "b.csv").exists()
    assert run("triangulate", "-c", cal, "-o", tmp_path / "b.csv", "--truncate", short,
               *files[1:]) == 0
    assert len(pd.read_csv(tmp_path / "b.csv")) == 40
    # skeleton naming an unknown bodypart
    (tmp_path / "skel.toml").write_text('bodyparts = ["shoulder", "tail"]\n'
                                        'limbs = [["shoulder", "tail"]]\n')
    assert run("triangulate", "-c", cal, "-s", tmp_path / "skel.toml", "-o",
               tmp_path / "c.csv", *files) == 2
    assert "tail" in capsys.readouterr().err
    assert run("triangulate", "-c", cal, "-m", "magic", "-o", tmp_path / "d.csv", *files) == 2
    assert "method must be one of" in capsys.readouterr().err
    # a calibration lacking a camera of the inputs
    lacking = tmp_path / "three.toml"
    import toml

    data = toml.load(cal)
    data.pop("cam_3")
    lacking.write_text(toml.dumps(data))
    assert run("triangulate", "-c", lacking, "-o", tmp_path / "e.csv", *files) == 2
    assert "cam3" in capsys.readouterr().err


def test_outputs_never_replace_inputs_or_each_other(session, tmp_path, capsys):
    root, files = session
    cal = root / "calibration.toml"
    before = {f: f.read_bytes() for f in (*files, cal)}
    # -o naming an input 2D file, the calibration, or the same file as --angles
    for out, extra in ((files[1], []), (cal, []),
                       (tmp_path / "x.csv", ["--angles", tmp_path / "x.csv"])):
        code = run("triangulate", "-c", cal, "-s", root / "skeleton.toml", "-o", out, *extra,
                   *files)
        err = capsys.readouterr().err
        assert code == 2 and "Traceback" not in err and str(out) in err, err
    assert {f: f.read_bytes() for f in before} == before
    assert not (tmp_path / "x.csv").exists()
    # a relative spelling of the same input is caught too
    rel = files[0].parent / ".." / files[0].parent.name / files[0].name
    assert run("triangulate", "-c", cal, "-o", rel, *files) == 2
    assert files[0].read_bytes() == before[files[0]]
