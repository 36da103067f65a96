"""poses.io.movement: the movement poses dataset (xarray) and its netCDF files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from poses import InputError, Poses
from poses.atomic import file_mode
from poses.dims import MOVEMENT_CONFIDENCE_DIMS, MOVEMENT_POSITION_DIMS
from poses.io.movement import from_xarray, load_movement, save_movement, to_xarray

from .strategies import poses as poses_strategy


def _movement_from_numpy(position_array, confidence_array, individual_names, keypoint_names,
                         fps=None, source_software=None) -> xr.Dataset:
    """What ``movement.io.load_poses.from_numpy`` builds (its ``_ds_from_valid_data``):
    position (n_frames, n_space, n_keypoints, n_individuals), confidence without space."""
    n_frames, n_space = position_array.shape[:2]
    attrs = {"source_software": source_software, "ds_type": "poses"}
    if fps is not None:
        time_coords = np.arange(n_frames, dtype=float) / fps
        time_unit = "seconds"
        attrs["fps"] = fps
    else:
        time_coords = np.arange(n_frames, dtype=int)
        time_unit = "frames"
    attrs["time_unit"] = time_unit
    dims = ("time", "space", "keypoints", "individuals")
    return xr.Dataset(
        data_vars={"position": xr.DataArray(position_array, dims=dims),
                   "confidence": xr.DataArray(confidence_array, dims=dims[:1] + dims[2:])},
        coords={dims[0]: time_coords, dims[1]: ["x", "y", "z"][:n_space],
                dims[2]: keypoint_names, dims[3]: individual_names},
        attrs=attrs)


def _assert_same(a: Poses, b: Poses) -> None:
    np.testing.assert_array_equal(a.position, b.position)  # NaN equal NaN
    np.testing.assert_array_equal(a.confidence, b.confidence)
    assert a.keypoints == b.keypoints and a.individuals == b.individuals
    np.testing.assert_array_equal(a.frame_index, b.frame_index)
    assert (a.fps, a.units, a.camera, a.source_software) == \
        (b.fps, b.units, b.camera, b.source_software)
    assert a.quality.keys() == b.quality.keys()
    for k in a.quality:
        np.testing.assert_array_equal(a.quality[k], b.quality[k])


def _decorate(p: Poses, fps, start: int, rng) -> Poses:
    """Metadata and quality arrays, as a triangulated result carries them."""
    shape = p.confidence.shape
    quality = {"error": rng.random(shape), "ncams": rng.integers(2, 5, shape).astype(float)}
    quality["error"][np.isnan(p.confidence)] = np.nan
    return p.replace(fps=fps, units="mm" if p.is_3d else "px", source_software="tripose",
                     frame_index=start + np.arange(p.n_frames),
                     camera=None if p.is_3d else "cam1",
                     quality=quality if p.is_3d else {},
                     attrs={"scorer": "DLC_resnet50", "flag": True,
                            "image_paths": [f"img{i}.png" for i in range(p.n_frames)]})


@settings(max_examples=15, deadline=None)
@given(n_space=st.sampled_from([2, 3]), n_ind=st.sampled_from([1, 3]),
       fps=st.sampled_from([None, 30.0, 119.88]), start=st.integers(0, 10_000),
       data=st.data())
def test_round_trip_exact(n_space, n_ind, fps, start, data):
    p = data.draw(poses_strategy(n_space=n_space, n_individuals=n_ind))
    p = _decorate(p, fps, start, np.random.default_rng(start))
    back = from_xarray(to_xarray(p))
    _assert_same(back, p)
    assert back.attrs == p.attrs
    with tempfile.TemporaryDirectory() as tmp:
        path = save_movement(p, Path(tmp) / "poses.nc")
        loaded = load_movement(path)
    _assert_same(loaded, p)
    # netCDF holds no None, booleans or one-element lists: they travel as JSON text
    assert loaded.source_file == str(path) and loaded.attrs == p.attrs


def test_to_xarray_is_movement_layout():
    rng = np.random.default_rng(1)
    p = Poses(rng.random((5, 2, 3, 2)), rng.random((5, 2, 3)), keypoints=["snout", "ear", "tail"],
              individuals=["Alice", "Bob"], fps=30.0, source_software="SLEAP")
    ds = to_xarray(p)
    assert ds["position"].dims == MOVEMENT_POSITION_DIMS == ("time", "space", "keypoints",
                                                             "individuals")
    assert ds["confidence"].dims == MOVEMENT_CONFIDENCE_DIMS
    assert set(ds.data_vars) == {"position", "confidence"}
    assert ds.attrs == {"source_software": "SLEAP", "ds_type": "poses", "fps": 30.0,
                        "time_unit": "seconds"}
    np.testing.assert_allclose(ds["time"], np.arange(5) / 30.0)
    assert ds["space"].values.tolist() == ["x", "y"]
    assert ds["keypoints"].values.tolist() == ["snout", "ear", "tail"]
    assert ds["individuals"].values.tolist() == ["Alice", "Bob"]
    np.testing.assert_array_equal(ds["position"].sel(individuals="Bob", keypoints="tail"),
                                  p.position[:, 1, 2])
    # the same as movement builds from the same arrays
    expected = _movement_from_numpy(p.position.transpose(0, 3, 2, 1),
                                    p.confidence.transpose(0, 2, 1), ["Alice", "Bob"],
                                    ["snout", "ear", "tail"], fps=30.0, source_software="SLEAP")
    xr.testing.assert_identical(ds, expected)

    nofps = to_xarray(p.replace(fps=None, source_software=None))
    assert nofps.attrs == {"source_software": None, "ds_type": "poses", "time_unit": "frames"}
    assert nofps["time"].dtype.kind == "i"
    np.testing.assert_array_equal(nofps["time"], np.arange(5))


@pytest.mark.parametrize("fps", [None, 50.0])
def test_movement_built_dataset_converts(fps, tmp_path):
    rng = np.random.default_rng(2)
    position = rng.random((100, 3, 4, 2)).astype(np.float32) * 500
    position[7, :, 1, 0] = np.nan
    confidence = rng.random((100, 4, 2)).astype(np.float32)
    confidence[7, 1, 0] = np.nan
    ds = _movement_from_numpy(position, confidence, ["mouse1", "mouse2"],
                              ["snout", "left_ear", "right_ear", "tail"], fps=fps,
                              source_software="DeepLabCut")
    p = from_xarray(ds)
    assert p.position.shape == (100, 2, 4, 3) and p.is_3d
    np.testing.assert_array_equal(p.position, position.transpose(0, 3, 2, 1))
    np.testing.assert_array_equal(p.confidence, confidence.transpose(0, 2, 1))
    assert np.isnan(p.position[7, 0, 1]).all() and np.isnan(p.confidence[7, 0, 1])
    assert p.individuals == ["mouse1", "mouse2"]
    assert p.keypoints == ["snout", "left_ear", "right_ear", "tail"]
    assert p.fps == fps and p.source_software == "DeepLabCut" and p.units is None
    np.testing.assert_array_equal(p.frame_index, np.arange(100))
    assert p.quality == {} and p.attrs == {}
    # and back: the very dataset movement built (float64 here, as our arrays are)
    xr.testing.assert_identical(to_xarray(p), ds.astype(np.float64))

    # movement's native save (ds.to_netcdf, default netCDF-4 engine) loads through ours
    ds.to_netcdf(tmp_path / "movement.nc", engine="h5netcdf")
    q = load_movement(tmp_path / "movement.nc")
    np.testing.assert_array_equal(q.position, p.position)
    assert q.fps == fps and q.individuals == p.individuals


def test_reads_netcdf3_and_older_dim_order(tmp_path):
    rng = np.random.default_rng(3)
    p = Poses(rng.random((6, 2, 3, 2)), keypoints=["a", "b", "c"], individuals=["m", "f"],
              fps=25.0)
    ds = to_xarray(p)
    ds.attrs["source_software"] = "SLEAP"  # netCDF cannot store None
    ds.to_netcdf(tmp_path / "v3.nc", engine="scipy")  # netCDF-3 classic
    q = load_movement(tmp_path / "v3.nc")
    np.testing.assert_array_equal(q.position, p.position)
    assert q.keypoints == ["a", "b", "c"] and q.individuals == ["m", "f"]
    # early movement releases: (time, individuals, keypoints, space), maybe pose_tracks
    old = ds.transpose("time", "individuals", "keypoints", "space")
    np.testing.assert_array_equal(from_xarray(old).position, p.position)
    renamed = old.rename({"position": "pose_tracks", "confidence": "confidence_scores"})
    np.testing.assert_array_equal(from_xarray(renamed).confidence, p.confidence)
    # a scalar selection drops a dim; space labels in another order are put right
    one = from_xarray(ds.sel(individuals="f"))
    assert one.individuals == ["f"]  # the scalar coordinate left by the selection
    np.testing.assert_array_equal(one.position[:, 0], p.position[:, 1])
    swapped = from_xarray(ds.sel(space=["y", "x"]))
    np.testing.assert_array_equal(swapped.position, p.position)


def test_saved_file_is_movement_netcdf(tmp_path):
    rng = np.random.default_rng(4)
    p = Poses(rng.random((4, 1, 2, 3)), keypoints=["a", "b"], units="mm",
              quality={"sigma": rng.random((4, 1, 2))})
    path = save_movement(p, tmp_path / "out" / "p.nc")
    assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
    assert os.stat(path).st_mode & 0o777 == file_mode()
    assert [f.name for f in path.parent.iterdir()] == ["p.nc"]  # no temporary left behind
    ds = xr.load_dataset(path)
    assert ds["position"].dims == MOVEMENT_POSITION_DIMS
    assert ds.attrs == {"ds_type": "poses", "time_unit": "frames"}  # None is not stored
    assert ds["position"].attrs == {"space_unit": "mm"}
    assert ds["sigma"].dims == MOVEMENT_CONFIDENCE_DIMS and ds["sigma"].attrs["units"] == "mm"
    back = load_movement(path)
    assert back.source_software is None and back.units == "mm"
    np.testing.assert_array_equal(back.quality["sigma"], p.quality["sigma"])


def test_bad_input(tmp_path):
    bad = tmp_path / "notes.nc"
    bad.write_text("not netcdf at all\n")
    with pytest.raises(InputError, match=r"notes\.nc: not a netCDF file"):
        load_movement(bad)
    with pytest.raises(FileNotFoundError, match="missing.nc"):
        load_movement(tmp_path / "missing.nc")
    p = Poses(np.zeros((3, 1, 2, 2)))
    ds = to_xarray(p)
    bboxes = ds.assign_attrs(ds_type="bboxes", source_software="VIA-tracks")
    with pytest.raises(InputError, match="'bboxes' dataset; expected a poses dataset"):
        from_xarray(bboxes)
    views = xr.concat([ds, ds], dim=xr.DataArray(["c1", "c2"], dims="view"))
    with pytest.raises(InputError, match=r"select one first, e\.g\. ds\.sel\(view=\.\.\.\)"):
        from_xarray(views)
    with pytest.raises(InputError, match="no 'position' variable"):
        from_xarray(ds.drop_vars("position"))
    bboxes.to_netcdf(tmp_path / "boxes.nc", engine="h5netcdf")
    with pytest.raises(InputError, match=r"boxes\.nc: a movement 'bboxes' dataset"):
        load_movement(tmp_path / "boxes.nc")


def test_registry_finds_movement(tmp_path):
    from poses.io import detect_format, get_format, load_poses, save_poses

    p = Poses(np.arange(12.0).reshape(2, 1, 2, 3), keypoints=["a", "b"], fps=10.0)
    path = save_poses(p, tmp_path / "p.nc")
    assert detect_format(path).name == "movement" == get_format("movement").name
    assert detect_format(tmp_path / "new.nc", for_writing=True).name == "movement"
    back = load_poses(path)
    np.testing.assert_array_equal(back.position, p.position)
    assert back.fps == 10.0 and p.to_xarray().identical(to_xarray(p))
    assert Poses.from_xarray(p.to_xarray()).keypoints == ["a", "b"]
