"""poses.io.trc: OpenSim TRC, byte-compatible with tripose's earlier writer."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from poses import DEFAULT_INDIVIDUAL, InputError, Poses
from poses.io import registry
from poses.io.trc import is_trc_file, load_trc, save_trc, split_labels
from tests.fixtures.legacy.inputs import HERE as LEGACY
from tests.fixtures.legacy.inputs import trc_case
from tests.poses.strategies import poses as poses_st


def assert_positions(p: Poses, q: Poses) -> None:
    assert q.keypoints == p.keypoints and q.individuals == p.individuals
    np.testing.assert_array_equal(np.isnan(q.position), np.isnan(p.position))
    np.testing.assert_allclose(q.position, p.position, atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(q.frame_index, p.frame_index)
    # TRC has no confidence: the default, 1 where present
    np.testing.assert_array_equal(q.confidence,
                                  np.where(np.isfinite(p.position).all(-1), 1.0, np.nan))
    assert q.quality == {}


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=3, n_individuals=1, default_individuals=True))
def test_round_trip_one_individual(p):
    p = p.replace(fps=120.0, units="mm")
    with tempfile.TemporaryDirectory() as d:
        q = load_trc(save_trc(p, Path(d) / "markers.trc"))
    assert_positions(p, q)
    assert q.fps == 120.0 and q.units == "mm"


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=3, n_individuals=3))
def test_round_trip_three_individuals(p):
    p = p.replace(fps=30000 / 1001, units="m", frame_index=np.arange(p.n_frames) * 3 + 17)
    with tempfile.TemporaryDirectory() as d:
        path = save_trc(p, Path(d) / "markers.trc")
        names = path.read_text().splitlines()[3].split("\t")[2::3]
        q = load_trc(path)
    assert names == [f"{i}:{k}" for i in p.individuals for k in p.keypoints]
    assert_positions(p, q)
    assert q.fps == 30000 / 1001  # not rounded to 29.97


def test_one_named_individual_reads_back_as_the_default(tmp_path):
    p = Poses(np.ones((2, 1, 2, 3)), individuals=["mouse"], keypoints=["a", "b"], fps=10,
              units="mm")
    q = load_trc(save_trc(p, tmp_path / "m.trc"))
    assert q.individuals == [DEFAULT_INDIVIDUAL] and q.keypoints == ["a", "b"]


@pytest.mark.parametrize("fnum0", [0, 12])
def test_bytes_identical_to_the_old_writer(tmp_path, fnum0):
    c = trc_case()  # tests/fixtures/legacy/same.trc: the writer before the data model
    new = Poses(c["points3d"][:, None], keypoints=c["bodyparts"], fps=c["fps"], units="mm")
    a = (LEGACY / "same.trc").read_bytes()
    b = save_trc(new, tmp_path / "same.trc").read_bytes()
    assert a == b
    if fnum0:  # frame numbers are now kept (Frame# = frame + 1, Time = frame / fps)
        q = load_trc(save_trc(new.replace(frame_index=np.arange(8) + fnum0), tmp_path / "b.trc"))
        np.testing.assert_array_equal(q.frame_index, np.arange(8) + fnum0)
        row = (tmp_path / "b.trc").read_text().splitlines()[6].split("\t")
        assert row[:2] == ["13", f"{12 / 90:.6f}"]


def test_hand_written_trc_without_blank_line(tmp_path):
    path = tmp_path / "vicon.trc"
    path.write_text(
        "PathFileType\t4\t(X/Y/Z)\tvicon.trc\n"
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\n"
        "200\t200\t2\t2\tmm\n"
        "Frame#\tTime\tS1:toe\t\t\tS2:toe\n"
        "\t\tX1\tY1\tZ1\tX2\tY2\tZ2\n"
        "1\t0\t1.5\t2\t3\t4\t5\t6\n"
        "2\t0.005\t7\t8\t9\n")
    assert is_trc_file(path)
    p = load_trc(path)
    assert p.individuals == ["S1", "S2"] and p.keypoints == ["toe"] and p.fps == 200.0
    np.testing.assert_array_equal(p.position[0, :, 0], [[1.5, 2, 3], [4, 5, 6]])
    assert np.isnan(p.position[1, 1]).all()  # a short row: missing markers


def test_split_labels_needs_the_full_grid():
    assert split_labels(["a:x", "a:y", "b:x", "b:y"]) == (["a", "b"], ["x", "y"])
    assert split_labels(["a:x", "a:y", "b:x"]) == ([DEFAULT_INDIVIDUAL], ["a:x", "a:y", "b:x"])
    assert split_labels(["a:x", "b:y"]) == ([DEFAULT_INDIVIDUAL], ["a:x", "b:y"])
    assert split_labels(["a:x:z"]) == ([DEFAULT_INDIVIDUAL], ["a:x:z"])
    assert split_labels(["nose", "tail"]) == ([DEFAULT_INDIVIDUAL], ["nose", "tail"])


# ------------------------------------------------------------------------ bad input
def test_writer_refuses_what_trc_cannot_hold(tmp_path):
    p = Poses(np.ones((2, 1, 1, 3)), keypoints=["a"])
    with pytest.raises(InputError, match="frame rate.*fps") as exc:
        save_trc(p.replace(units="mm"), tmp_path / "x.trc")
    assert str(tmp_path / "x.trc") in str(exc.value)
    with pytest.raises(InputError, match="units"):
        save_trc(p.replace(fps=30.0), tmp_path / "x.trc")
    with pytest.raises(InputError, match="2D"):
        save_trc(Poses(np.ones((2, 1, 1, 2)), fps=30, units="px"), tmp_path / "x.trc")
    two = Poses(np.ones((1, 2, 1, 3)), keypoints=["a:b"], fps=30, units="mm")
    with pytest.raises(InputError, match="must not contain"):
        save_trc(two, tmp_path / "x.trc")
    assert not (tmp_path / "x.trc").exists()


HEADER = "PathFileType\t4\t(X/Y/Z)\tx.trc\n"


@pytest.mark.parametrize("text, match", [
    (HEADER + "CameraRate\tNumFrames\tNumMarkers\n30\t1\t1\nFrame#\tTime\ta\n\t\tX1\tY1\tZ1\n",
     "DataRate"),
    (HEADER + "DataRate\tNumMarkers\tUnits\n0\t1\tmm\nFrame#\tTime\ta\n\t\tX1\tY1\tZ1\n",
     "positive"),
    (HEADER + "DataRate\tNumMarkers\tUnits\n30\t2\tmm\nFrame#\tTime\ta\n\t\tX1\tY1\tZ1\n",
     "NumMarkers=2"),
    (HEADER + "DataRate\tNumMarkers\tUnits\n30\t1\tmm\nFrame#\tTime\ta\n\t\tX1\tY1\tZ1\n\n"
     "1\t0\t1\tx\t3\n", "numbers"),
    (HEADER + "DataRate\tNumMarkers\tUnits\n30\t1\tmm\nFrame#\tTime\ta\n\t\tX1\tY1\tZ1\n\n"
     "1\t0\t1\tinf\t3\n", "infinite"),
    ("hello\n", "not a TRC file"),
])
def test_bad_trc_names_the_file(tmp_path, text, match):
    path = tmp_path / "bad.trc"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as exc:
        load_trc(path)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_trc(tmp_path / "nope.trc")


def test_registry_round_trip(tmp_path):
    p = Poses(np.random.default_rng(0).normal(size=(4, 1, 2, 3)), fps=60, units="cm")
    path = registry.save_poses(p, tmp_path / "out.trc")
    assert registry.detect_format(path).name == "trc"
    np.testing.assert_allclose(registry.load_poses(path).position, p.position, atol=1e-6)
