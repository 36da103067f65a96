"""poses.io.anipose: anipose's pose-3d CSV, byte-compatible with tripose's earlier writer."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from poses import DEFAULT_INDIVIDUAL, InputError, Poses
from poses.atomic import file_mode
from poses.io import registry
from poses.io.anipose import (
    from_anipose_dataframe,
    is_anipose_file,
    load_anipose,
    save_anipose,
    to_anipose_dataframe,
)
from tests.fixtures.legacy.inputs import HERE as LEGACY
from tests.fixtures.legacy.inputs import anipose_case
from tests.poses.strategies import poses as poses_st


def with_quality(p: Poses) -> Poses:
    """``p`` with error (px), whole ncams and sigma derived from its positions."""
    rng = np.random.default_rng(p.n_frames * 31 + p.n_keypoints)
    shape = p.position.shape[:3]
    present = np.isfinite(p.position).all(-1)
    err = np.where(present, rng.uniform(0, 20, shape), np.nan)
    ncams = np.where(present, rng.integers(2, 6, shape), 0).astype(float)
    sigma = np.where(present, rng.uniform(0, 3, shape), np.nan)
    return p.replace(quality={"error": err, "ncams": ncams, "sigma": sigma})


def assert_round_trip(p: Poses, q: Poses) -> None:
    assert q.keypoints == p.keypoints and q.individuals == p.individuals
    np.testing.assert_array_equal(np.isnan(q.position), np.isnan(p.position))
    np.testing.assert_allclose(q.position, p.position, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(q.confidence, p.confidence, atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(q.frame_index, p.frame_index)
    for k in ("error", "sigma"):
        np.testing.assert_allclose(q.quality[k], p.quality[k], atol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(q.quality["ncams"], p.quality["ncams"])


# ----------------------------------------------------------------------- round trips
@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=3, n_individuals=1, default_individuals=True))
def test_round_trip_one_individual(p):
    p = with_quality(p)
    with tempfile.TemporaryDirectory() as d:
        path = save_anipose(p, Path(d) / "pose3d.csv")
        assert "individual" not in pd.read_csv(path).columns
        q = load_anipose(path)
    assert_round_trip(p, q)
    assert q.units is None and q.fps is None and q.source_file == str(path)


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=3, n_individuals=3))
def test_round_trip_three_individuals(p):
    p = with_quality(p).replace(frame_index=np.arange(p.n_frames) * 2 + 5)
    with tempfile.TemporaryDirectory() as d:
        path = save_anipose(p, Path(d) / "pose3d.csv")
        df = pd.read_csv(path, dtype={"individual": str})
        q = load_anipose(path, units="mm", fps=50)
    # long format: one row per (frame, individual), frame-major
    assert list(df["individual"]) == list(p.individuals) * p.n_frames
    assert list(df["fnum"]) == list(np.repeat(p.frame_index, 3))
    assert_round_trip(p, q)
    assert q.units == "mm" and q.fps == 50.0


def test_one_individual_with_its_own_name_keeps_it(tmp_path):
    p = Poses(np.ones((2, 1, 1, 3)), individuals=["mouse"], keypoints=["nose"])
    q = load_anipose(save_anipose(p, tmp_path / "m.csv"))
    assert q.individuals == ["mouse"]


# --------------------------------------------------------------- byte compatibility
def _new(with_q: bool) -> Poses:
    c = anipose_case(with_q)
    quality = {k: c[k][:, None] for k in ("error", "ncams", "sigma") if c[k] is not None}
    return Poses(c["points3d"][:, None], c["score"][:, None], keypoints=c["bodyparts"],
                 frame_index=c["fnum"], quality=quality)


@pytest.mark.parametrize("with_q", [True, False])
def test_bytes_identical_to_the_old_writer(tmp_path, with_q):
    """tests/fixtures/legacy: written by tripose's writer before the pose data model."""
    a = (LEGACY / f"anipose_{'q' if with_q else 'noq'}.csv").read_bytes()
    b = save_anipose(_new(with_q), tmp_path / "new.csv").read_bytes()
    assert a == b
    header = b.split(b"\n")[0].decode()
    assert header.startswith("snout_x,snout_y,snout_z,snout_error,snout_ncams,snout_score")
    assert header.endswith(",fnum") and ("sigma" in header) == with_q


# ------------------------------------------------------------------ anipose's own file
def test_reads_anipose_output_and_ignores_its_extra_columns(tmp_path):
    text = ("nose_x,nose_y,nose_z,nose_error,nose_ncams,nose_score,"
            "paw_x,paw_y,paw_z,paw_error,paw_ncams,paw_score,"
            "M_00,M_01,M_02,M_10,M_11,M_12,M_20,M_21,M_22,center_0,center_1,center_2,fnum\n"
            "1.5,2.5,3.5,0.7,3,0.9,,,,,0,,1,0,0,0,1,0,0,0,1,10,20,30,0\n"
            "4,5,6,1.2,2,0.8,7,8,9,2.5,4,0.6,1,0,0,0,1,0,0,0,1,10,20,30,1\n")
    path = tmp_path / "pose-3d.csv"
    path.write_text(text)
    assert is_anipose_file(path)
    p = load_anipose(path)
    assert p.keypoints == ["nose", "paw"] and p.individuals == [DEFAULT_INDIVIDUAL]
    np.testing.assert_array_equal(p.position[0, 0, 0], [1.5, 2.5, 3.5])
    assert np.isnan(p.position[0, 0, 1]).all() and np.isnan(p.confidence[0, 0, 1])
    np.testing.assert_array_equal(p.position[1, 0, 1], [7, 8, 9])
    np.testing.assert_array_equal(p.confidence[1, 0], [0.8, 0.6])
    np.testing.assert_array_equal(p.quality["error"][1, 0], [1.2, 2.5])
    np.testing.assert_array_equal(p.quality["ncams"][:, 0, 1], [0, 4])
    assert "sigma" not in p.quality and p.is_3d


def test_long_format_in_any_row_order(tmp_path):
    path = tmp_path / "multi.csv"
    path.write_text("a_x,a_y,a_z,a_score,fnum,individual\n"
                    "1,1,1,0.5,7,rat2\n"
                    "2,2,2,0.6,7,rat1\n"
                    "3,3,3,0.7,8,rat1\n")
    p = load_anipose(path)
    assert p.individuals == ["rat2", "rat1"]  # order of first appearance
    np.testing.assert_array_equal(p.frame_index, [7, 8])
    np.testing.assert_array_equal(p.position[:, :, 0, 0], [[1, 2], [np.nan, 3]])
    np.testing.assert_array_equal(p.confidence[:, :, 0], [[0.5, 0.6], [np.nan, 0.7]])


def test_dataframe_helpers():
    p = Poses(np.arange(12.0).reshape(2, 1, 2, 3), keypoints=["a", "b"])
    df = to_anipose_dataframe(p)
    assert list(df.columns) == ["a_x", "a_y", "a_z", "a_error", "a_ncams", "a_score",
                                "b_x", "b_y", "b_z", "b_error", "b_ncams", "b_score", "fnum"]
    assert df["a_ncams"].dtype == np.int64
    q = from_anipose_dataframe(df, "table")
    np.testing.assert_array_equal(q.position, p.position)


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("text, match", [
    ("a,b,c\n1,2,3\n", "no {bodypart}_x/_y/_z columns"),
    ("a_x,a_y,a_z\n1,inf,3\n", "infinite"),
    ("a_x,a_y,a_z\n1,oops,3\n", "non-numeric"),
    ("a_x,a_y,a_z,fnum\n1,2,3,0.5\n", "whole frame numbers"),
    ("a_x,a_y,a_z,fnum\n1,2,3,0\n1,2,3,0\n", "more than one row"),
    ("a_x,a_y,a_z,a_score\n1,2,3,1.5\n", r"\[0, 1\]"),
    ("", "cannot read"),
])
def test_bad_csv_names_the_file(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=match) as exc:
        load_anipose(path)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_missing_file_and_2d_poses(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_anipose(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="2D"):
        save_anipose(Poses(np.zeros((1, 1, 1, 2))), tmp_path / "x.csv")


def test_sniff_rejects_deeplabcut_and_written_atomically(tmp_path):
    dlc = tmp_path / "dlc.csv"
    dlc.write_text("scorer,s,s,s\nbodyparts,a,a,a\ncoords,x,y,likelihood\n0,1,2,0.5\n")
    assert not is_anipose_file(dlc) and not is_anipose_file(tmp_path / "missing.csv")
    path = save_anipose(Poses(np.ones((1, 1, 1, 3))), tmp_path / "p.csv")
    assert (path.stat().st_mode & 0o777) == file_mode()
    assert sorted(f.name for f in tmp_path.iterdir()) == ["dlc.csv", "p.csv"]  # no temp left


# ------------------------------------------------------------------------- registry
def test_registry_reads_and_writes_3d_csv_as_anipose(tmp_path):
    p = Poses(np.random.default_rng(1).normal(size=(3, 1, 2, 3)), keypoints=["a", "b"])
    path = registry.save_poses(p, tmp_path / "out.csv")
    assert registry.detect_format(path).name == "anipose"
    q = registry.load_poses(path, units="cm")
    np.testing.assert_allclose(q.position, p.position, atol=1e-6)
    assert q.units == "cm"
