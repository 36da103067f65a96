"""poses.io.parquet: the anipose table plus every field in the file's metadata."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poses import InputError, Poses
from poses.io import registry
from poses.io.parquet import METADATA_KEY, is_parquet_file, load_parquet, save_parquet
from tests.fixtures.legacy.inputs import HERE as LEGACY
from tests.fixtures.legacy.inputs import parquet_case
from tests.poses.strategies import poses as poses_st


def decorate(p: Poses) -> Poses:
    """``p`` with every optional field set."""
    rng = np.random.default_rng(p.n_frames)
    quality = {"error": rng.uniform(0, 5, p.position.shape[:3])}
    if p.is_3d:
        quality["ncams"] = rng.integers(0, 4, p.position.shape[:3]).astype(float)
        quality["sigma"] = np.full(p.position.shape[:3], np.nan)
    return p.replace(fps=29.97, units="mm" if p.is_3d else "px",
                     camera=None if p.is_3d else "cam2", source_software="tripose",
                     frame_index=np.arange(p.n_frames) + 100, quality=quality,
                     attrs={"scorer": "DLC_resnet50", "iteration": 3})


def assert_identical(p: Poses, q: Poses) -> None:
    assert q.keypoints == p.keypoints and q.individuals == p.individuals
    np.testing.assert_array_equal(q.position, p.position)
    np.testing.assert_array_equal(q.confidence, p.confidence)
    np.testing.assert_array_equal(q.frame_index, p.frame_index)
    assert q.quality.keys() == p.quality.keys()
    for k in p.quality:
        np.testing.assert_array_equal(q.quality[k], p.quality[k])
    for field in ("fps", "units", "camera", "source_software", "attrs"):
        assert getattr(q, field) == getattr(p, field), field


@pytest.mark.parametrize("n_space", [2, 3])
@pytest.mark.parametrize("n_individuals", [1, 3])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_round_trip_is_exact(n_space, n_individuals, data):
    p = decorate(data.draw(poses_st(n_space=n_space, n_individuals=n_individuals,
                                    default_individuals=True)))
    with tempfile.TemporaryDirectory() as d:
        q = load_parquet(save_parquet(p, Path(d) / "p.parquet"))
    assert_identical(p, q)


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=3, n_individuals=3))
def test_round_trip_named_individuals(p):
    with tempfile.TemporaryDirectory() as d:
        q = load_parquet(save_parquet(p, Path(d) / "p.parquet"))
    assert_identical(p, q)


def test_file_holds_anipose_columns_and_json_metadata(tmp_path):
    p = Poses(np.ones((2, 1, 1, 3)), keypoints=["nose"], fps=50, units="cm")
    path = save_parquet(p, tmp_path / "x.parquet")
    table = pq.read_table(path)
    assert table.column_names == ["nose_x", "nose_y", "nose_z", "nose_score", "fnum"]
    meta = json.loads(table.schema.metadata[METADATA_KEY])
    assert meta["units"] == "cm" and meta["fps"] == 50.0 and meta["keypoints"] == ["nose"]
    assert meta["n_space"] == 3 and meta["individuals"] == ["ind1"]
    assert is_parquet_file(path)


def test_reads_tripose_earlier_parquet(tmp_path):
    X = parquet_case()["points3d"]
    p = load_parquet(LEGACY / "old.parquet")  # written by tripose before the data model
    np.testing.assert_array_equal(p.position[:, 0], X)
    assert p.units == "cm" and p.fps == 60.0 and p.keypoints == ["a", "b"]
    np.testing.assert_array_equal(p.quality["ncams"], 3.0)


def test_bad_files_name_the_path(tmp_path):
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(InputError, match="not a readable parquet") as exc:
        load_parquet(junk)
    assert str(junk) in str(exc.value)
    assert not is_parquet_file(junk)
    path = save_parquet(Poses(np.ones((1, 1, 1, 3))), tmp_path / "meta.parquet")
    table = pq.read_table(path)
    for bad, match in ((b"{oops", "not valid JSON"), (b'{"n_space": 4}', "n_space"),
                       (b'{"n_space": 3, "keypoints": "a", "individuals": ["ind1"]}',
                        "keypoints")):
        pq.write_table(table.replace_schema_metadata({METADATA_KEY: bad}), path)
        with pytest.raises(InputError, match=match) as exc:
            load_parquet(path)
        assert str(path) in str(exc.value)
    with pytest.raises(FileNotFoundError):
        load_parquet(tmp_path / "nope.parquet")


def test_registry_round_trip(tmp_path):
    p = Poses(np.random.default_rng(0).normal(size=(3, 2, 2, 2)), fps=25, units="px")
    path = registry.save_poses(p, tmp_path / "out.parquet")
    assert registry.detect_format(path).name == "parquet"
    assert_identical(p, registry.load_poses(path))
