"""poses.io.sleap: SLEAP analysis HDF5 files."""

from __future__ import annotations

import tempfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import given, settings

from poses import InputError, Poses
from poses.io.dlc import save_dlc
from poses.io.sleap import is_sleap_file, load_sleap, save_sleap

from .strategies import poses as poses_st

REAL = Path("sleap_anipose_minimal")
CAMS = ("back", "mid", "side", "top")
KEYS = {"tracks", "track_occupancy", "track_names", "node_names", "point_scores",
        "instance_scores", "tracking_scores", "edge_names", "edge_inds", "labels_path",
        "video_path", "video_ind", "provenance"}


def real_file(shared_data: Path, cam: str = "back") -> Path:
    return shared_data / REAL / cam / f"minimal_{cam}_proofread.analysis.h5"


def assert_same(a: Poses, b: Poses) -> None:
    assert a.keypoints == b.keypoints
    assert a.individuals == b.individuals
    np.testing.assert_array_equal(np.isnan(a.position), np.isnan(b.position))
    np.testing.assert_allclose(a.position, b.position, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(a.confidence, b.confidence, atol=1e-12, equal_nan=True)


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=2, n_individuals=1))
def test_round_trip_one_track(p):
    with tempfile.TemporaryDirectory() as d:
        q = load_sleap(save_sleap(p, Path(d) / "a.analysis.h5"))
        assert_same(p, q)
        assert q.source_software == "SLEAP" and q.units == "px" and q.fps is None


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=2, n_individuals=3))
def test_round_trip_three_tracks(p):
    with tempfile.TemporaryDirectory() as d:
        path = save_sleap(p, Path(d) / "a.h5")
        q = load_sleap(path)
        assert_same(p, q)
        with h5py.File(path, "r") as f:  # independent check of SLEAP's transposed layout
            tracks = f["tracks"][()]
            assert tracks.shape == (3, 2, p.n_keypoints, p.n_frames)
            np.testing.assert_array_equal(tracks[2, 1, 0], p.position[:, 2, 0, 1])
            occ = f["track_occupancy"][()]
            assert occ.shape == (p.n_frames, 3) and occ.dtype == np.uint8
            np.testing.assert_array_equal(occ, np.isfinite(p.position).all(-1).any(-1))
            assert [n.decode() for n in f["track_names"][()]] == p.individuals


def test_fps_and_frame_gaps(tmp_path):
    p = Poses(np.arange(12.0).reshape(3, 1, 2, 2), frame_index=[1, 2, 4], fps=30)
    q = load_sleap(save_sleap(p, tmp_path / "a.h5"))
    assert q.fps == 30.0 and q.n_frames == 5  # SLEAP has one column per video frame
    np.testing.assert_array_equal(q.frame_index, np.arange(5))
    np.testing.assert_array_equal(q.position[[1, 2, 4]], p.position)
    assert np.isnan(q.position[[0, 3]]).all()


# --------------------------------------------------------- a file laid out as SLEAP does
def sleap_like_file(path: Path) -> dict:
    """Two tracks written with h5py exactly as sleap/info/write_tracking_h5.py does."""
    n_frames, n_nodes, n_tracks = 6, 3, 2
    rng = np.random.default_rng(1)
    locations = rng.uniform(0, 1000, (n_frames, n_nodes, 2, n_tracks))  # MATLAB order
    occupancy = np.ones((n_tracks, n_frames), dtype=np.uint8)
    occupancy[1, 4] = 0  # track 1 absent in frame 4: its (stale) coordinates must be NaN
    scores = rng.uniform(0, 1.3, (n_frames, n_nodes, n_tracks))  # scores may exceed 1
    locations[2, 1, :, 0] = np.nan  # a missing node of a predicted instance
    scores[3, :, 1] = np.nan  # a user-labelled instance: points without scores
    with h5py.File(path, "w") as f:
        data = {"tracks": locations, "track_occupancy": occupancy, "point_scores": scores,
                "instance_scores": rng.random((n_frames, n_tracks)),
                "tracking_scores": np.zeros((n_frames, n_tracks))}
        for key, val in data.items():
            f.create_dataset(key, data=np.transpose(val), compression="gzip",
                             compression_opts=9)
        f.create_dataset("track_names", data=[np.bytes_("female"), np.bytes_("")])
        f.create_dataset("node_names", data=[np.bytes_(n) for n in ("head", "thorax", "tip")])
        f.create_dataset("edge_names", data=[(np.bytes_("head"), np.bytes_("thorax"))])
        f.create_dataset("edge_inds", data=[(0, 1)])
        f.create_dataset("labels_path", data="None")
        f.create_dataset("video_path", data="fly.mp4")
        f.create_dataset("video_ind", data=0)
        f.create_dataset("provenance", data="{}")
    return {"locations": locations, "occupancy": occupancy, "scores": scores}


def test_reads_sleap_layout(tmp_path):
    path = tmp_path / "fly.analysis.h5"
    truth = sleap_like_file(path)
    p = load_sleap(path)
    assert p.individuals == ["female", "track_1"]
    assert p.keypoints == ["head", "thorax", "tip"]
    assert p.attrs["edges"] == [("head", "thorax")] and p.attrs["video_path"] == "fly.mp4"
    loc = truth["locations"]  # (frames, nodes, 2, tracks)
    np.testing.assert_array_equal(p.position[:, 0, :, 0], loc[:, :, 0, 0])
    np.testing.assert_array_equal(p.position[5, 1, 2], loc[5, 2, :, 1])
    assert np.isnan(p.position[4, 1]).all() and np.isnan(p.confidence[4, 1]).all()
    assert np.isnan(p.confidence[2, 0, 1])  # missing point: NaN, not the stored score
    np.testing.assert_array_equal(p.confidence[3, 1], 1.0)  # user label without scores
    sc = truth["scores"]
    np.testing.assert_array_equal(p.confidence[0, 0], np.clip(sc[0, :, 0], 0, 1))
    assert np.nanmax(p.confidence) <= 1.0 and np.nanmax(sc) > 1.0


def test_written_keys_shapes_dtypes_match_sleap_layout(tmp_path):
    path = tmp_path / "fly.analysis.h5"
    sleap_like_file(path)
    out = save_sleap(load_sleap(path), tmp_path / "out.h5")
    with h5py.File(path, "r") as a, h5py.File(out, "r") as b:
        assert set(a) == set(b) == KEYS
        for key in KEYS:
            assert a[key].shape == b[key].shape, key
            assert a[key].dtype.kind == b[key].dtype.kind, key
            assert (a[key].compression is None) == (b[key].compression is None), key


# ------------------------------------------------------------------------ real data
@pytest.mark.realdata
@pytest.mark.parametrize("cam", CAMS)
def test_real_file_loads_every_track(shared_data, cam):
    path = real_file(shared_data, cam)
    p = load_sleap(path)
    with h5py.File(path, "r") as f:
        tracks = f["tracks"][()]
        names = [n.decode() for n in f["track_names"][()]]
        nodes = [n.decode() for n in f["node_names"][()]]
        scores = f["point_scores"][()]
    assert p.individuals == names and p.keypoints == nodes
    assert p.position.shape == (tracks.shape[3], tracks.shape[0], tracks.shape[2], 2)
    np.testing.assert_array_equal(p.position[:, 0, :, 0], tracks[0, 0].T)
    np.testing.assert_array_equal(p.position[:, 0, :, 1], tracks[0, 1].T)
    seen = np.isfinite(p.position[..., 0])
    np.testing.assert_array_equal(p.confidence[seen], np.clip(scores.transpose(2, 0, 1), 0,
                                                              1)[seen])
    assert np.isnan(p.confidence[~seen]).all()
    assert p.fps is None and p.source_file == str(path)


@pytest.mark.realdata
def test_written_file_matches_the_real_layout(shared_data, tmp_path):
    path = real_file(shared_data)
    out = save_sleap(load_sleap(path), tmp_path / "out.analysis.h5")
    with h5py.File(path, "r") as a, h5py.File(out, "r") as b:
        assert set(a) == set(b)
        for key in a:
            assert a[key].shape == b[key].shape, key
            assert a[key].dtype.kind == b[key].dtype.kind, key
        np.testing.assert_array_equal(a["tracks"][()], b["tracks"][()])
        np.testing.assert_array_equal(a["track_occupancy"][()], b["track_occupancy"][()])
        np.testing.assert_array_equal(a["edge_inds"][()], b["edge_inds"][()])
        np.testing.assert_array_equal(a["node_names"][()], b["node_names"][()])


@pytest.mark.realdata
def test_registry_tells_sleap_from_dlc(shared_data, tmp_path):
    from poses.io import detect_format, load_poses

    path = real_file(shared_data)
    assert is_sleap_file(path)
    assert detect_format(path).name == "sleap"
    assert_same(load_poses(path), load_sleap(path))
    dlc = save_dlc(load_sleap(path), tmp_path / "dlc.h5")
    assert not is_sleap_file(dlc)
    assert detect_format(dlc).name == "dlc"


def test_registry_on_written_files(tmp_path):
    from poses.io import detect_format

    p = Poses(np.ones((2, 1, 1, 2)))
    assert detect_format(save_sleap(p, tmp_path / "a.h5")).name == "sleap"
    assert detect_format(save_dlc(p, tmp_path / "b.h5")).name == "dlc"


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("content", [b"", b"not an hdf5 file at all\n"])
def test_not_hdf5(tmp_path, content):
    path = tmp_path / "x.h5"
    path.write_bytes(content)
    assert not is_sleap_file(path)
    with pytest.raises(InputError) as exc:
        load_sleap(path)
    assert str(path) in str(exc.value)


def test_hdf5_without_tracks(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("node_names", data=[b"a"])
    with pytest.raises(InputError, match="tracks") as exc:
        load_sleap(path)
    assert str(path) in str(exc.value)


def test_zero_tracks(tmp_path):
    path = tmp_path / "x.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("tracks", data=np.zeros((0, 2, 3, 5)))
        f.create_dataset("track_occupancy", data=np.zeros((5, 0), np.uint8))
    with pytest.raises(InputError, match="no tracks") as exc:
        load_sleap(path)
    assert str(path) in str(exc.value)


def test_dlc_h5_is_not_sleap(tmp_path):
    path = save_dlc(Poses(np.ones((2, 1, 1, 2))), tmp_path / "d.h5")
    with pytest.raises(InputError) as exc:
        load_sleap(path)
    assert str(path) in str(exc.value)


def test_3d_and_bad_frames_refused(tmp_path):
    with pytest.raises(InputError, match="3D"):
        save_sleap(Poses(np.zeros((2, 1, 1, 3))), tmp_path / "a.h5")
    with pytest.raises(InputError, match="frame_index"):
        save_sleap(Poses(np.zeros((2, 1, 1, 2)), frame_index=[3, 3]), tmp_path / "a.h5")
    assert not (tmp_path / "a.h5").exists()
