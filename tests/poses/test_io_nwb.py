"""poses.io.nwb: NWB files with ndx-pose 0.4 (Skeletons, PoseEstimation per camera,
MultiCameraPoseEstimation for 3D, CalibratedCamera devices)."""

from __future__ import annotations

import datetime
import os
import tempfile
from pathlib import Path

import ndx_pose
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pynwb import NWBHDF5IO, NWBFile, validate

from poses import InputError, Poses, PoseViews, Skeleton
from poses.atomic import file_mode
from poses.io.nwb import load_nwb, load_nwb_views, save_nwb

from .strategies import poses as poses_strategy

START = datetime.datetime(2024, 5, 1, 12, 0, tzinfo=datetime.timezone.utc)


def _rig(names):
    """Calibration of ``names`` as a mapping camera -> arrays (rvec and K, as a rig has)."""
    rng = np.random.default_rng(7)
    return {n: {"K": np.array([[800.0 + i, 0, 320], [0, 800, 240], [0, 0, 1]]),
                "dist": np.array([-0.1, 0.01, 0, 0, 0]), "rvec": rng.normal(0, 0.3, 3),
                "tvec": rng.normal(0, 100, 3), "size": (640, 480)}
            for i, n in enumerate(names)}


@settings(max_examples=10, deadline=None)
@given(n_space=st.sampled_from([2, 3]), n_ind=st.sampled_from([1, 3]),
       fps=st.sampled_from([None, 30.0]), start=st.integers(0, 500), gap=st.booleans(),
       data=st.data())
def test_round_trip(n_space, n_ind, fps, start, gap, data):
    p = data.draw(poses_strategy(n_space=n_space, n_individuals=n_ind))
    frames = start + np.arange(p.n_frames) * (2 if gap else 1)
    p = p.replace(fps=fps, frame_index=frames, units="mm" if n_space == 3 else None,
                  source_software="DeepLabCut")
    with tempfile.TemporaryDirectory() as tmp:
        path = save_nwb(p, Path(tmp) / "p.nwb", session_start_time=START)
        back = load_nwb(path)
    np.testing.assert_allclose(back.position, p.position, atol=1e-6)  # NaN where NaN
    np.testing.assert_array_equal(back.confidence, p.confidence)
    assert back.keypoints == p.keypoints and back.individuals == p.individuals
    np.testing.assert_array_equal(back.frame_index, frames)
    assert back.fps == fps
    assert back.units == ("mm" if n_space == 3 else "px")
    assert back.source_software == "DeepLabCut" and back.source_file == str(path)


def test_fps_none_and_units_unknown(tmp_path):
    p = Poses(np.arange(24.0).reshape(4, 1, 2, 3), keypoints=["nose", "tail"],
              frame_index=[10, 11, 15, 16])
    path = save_nwb(p, tmp_path / "p.nwb")
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        mcpe = nwb.processing["behavior"]["MultiCameraPoseEstimation"]
        s = mcpe.pose_estimation_series["nose"]
        assert s.rate is None and s.unit == "unknown"
        np.testing.assert_array_equal(s.timestamps[:], [10, 11, 15, 16])
        assert "frame rate is unknown" in s.comments and "frame rate is unknown" in \
            mcpe.description
    back = load_nwb(path)
    assert back.fps is None and back.units is None
    np.testing.assert_array_equal(back.frame_index, [10, 11, 15, 16])
    assert os.stat(path).st_mode & 0o777 == file_mode()


def test_views_one_pose_estimation_per_camera(tmp_path):
    rng = np.random.default_rng(0)
    kps = ["snout", "ear_l", "ear_r", "tail"]
    views = {}
    for cam in ("top", "side", "front"):
        pos = rng.uniform(0, 640, (20, 2, 4, 2))
        pos[3, 1, 2] = np.nan
        conf = rng.random((20, 2, 4))
        conf[3, 1, 2] = np.nan
        views[cam] = Poses(pos, conf, keypoints=kps, individuals=["m1", "m2"], fps=60.0,
                           source_software="SLEAP")
    views = PoseViews(views)
    skel = Skeleton(kps, limbs=[("snout", "ear_l"), ("snout", "ear_r")],
                    weak_limbs=[("snout", "tail")])
    path = save_nwb(views, tmp_path / "views.nwb", skeleton=skel, rig=_rig(["top", "side"]),
                    session_start_time=START, identifier="session-1")
    assert validate(path=str(path)) == []
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        assert nwb.identifier == "session-1"
        behavior = nwb.processing["behavior"]
        names = sorted(k for k, v in behavior.data_interfaces.items()
                       if isinstance(v, ndx_pose.PoseEstimation))
        assert names == sorted(f"PoseEstimation_{c}_{m}" for c in ("top", "side", "front")
                               for m in ("m1", "m2"))
        pe = behavior["PoseEstimation_side_m2"]
        assert pe.device.name == "side" and isinstance(pe.device, ndx_pose.CalibratedCamera)
        np.testing.assert_array_equal(pe.device.intrinsic_matrix[:],
                                      _rig(["top", "side"])["side"]["K"])
        R = pe.device.rotation_matrix[:]
        np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
        assert type(behavior["PoseEstimation_front_m1"].device).__name__ == "Device"
        assert pe.skeleton.name == "skeleton_m2" and list(pe.skeleton.nodes[:]) == kps
        np.testing.assert_array_equal(pe.skeleton.edges[:], [[0, 1], [0, 2], [0, 3]])
        assert sorted(pe.pose_estimation_series) == sorted(kps)
        s = pe.pose_estimation_series["ear_r"]
        assert s.rate == 60.0 and s.unit == "pixels" and pe.source_software == "SLEAP"
        np.testing.assert_array_equal(s.data[:], views["side"].position[:, 1, 2])
        np.testing.assert_array_equal(s.confidence[:], views["side"].confidence[:, 1, 2])
    back = load_nwb_views(path)
    assert back.cameras == ["top", "side", "front"] and back.individuals == ["m1", "m2"]
    for cam in back:
        np.testing.assert_array_equal(back[cam].position, views[cam].position)
        assert back[cam].camera == cam and back[cam].keypoints == kps
    one = load_nwb(path, camera="front", individual="m2")
    np.testing.assert_array_equal(one.position[:, 0], views["front"].position[:, 1])
    with pytest.raises(InputError, match=r"cameras \['top', 'side', 'front'\]; pass camera="):
        load_nwb(path)
    with pytest.raises(InputError, match="no 2D poses of camera 'back'"):
        load_nwb(path, camera="back")
    with pytest.raises(InputError, match="no individual 'm3'"):
        load_nwb(path, camera="top", individual="m3")


def test_3d_with_views_and_rig(tmp_path):
    rng = np.random.default_rng(1)
    p3 = Poses(rng.normal(0, 50, (10, 1, 3, 3)), keypoints=["a", "b", "c"], fps=100.0)
    p2 = Poses(rng.uniform(0, 500, (10, 1, 3, 2)), keypoints=["a", "b", "c"], fps=100.0)

    class Rig:  # duck-typed like calibration.CameraRig: cameras with name, matrix, R, tvec
        units = "m"
        cameras = [type("Cam", (), {"name": n, "matrix": np.eye(3), "R": np.eye(3),
                                    "tvec": np.zeros(3), "dist": np.zeros(4)})()
                   for n in ("c1", "c2")]

    path = save_nwb(p3, tmp_path / "p.nwb", rig=Rig(), views=PoseViews({"c1": p2}))
    with NWBHDF5IO(str(path), "r") as io:
        nwb = io.read()
        assert sorted(nwb.devices) == ["c1", "c2"]
        mcpe = nwb.processing["behavior"]["MultiCameraPoseEstimation"]
        assert mcpe.pose_estimation_series["b"].unit == "m"  # from the rig
        assert sorted(mcpe.pose_estimations) == ["PoseEstimation_c1", "PoseEstimation_c2"]
        assert len(mcpe.pose_estimations["PoseEstimation_c2"].pose_estimation_series) == 0
        assert mcpe.pose_estimations["PoseEstimation_c2"].device.name == "c2"
    three = load_nwb(path)
    assert three.is_3d and three.units == "m" and three.fps == 100.0
    np.testing.assert_array_equal(three.position, p3.position)
    two = load_nwb(path, camera="c1")
    np.testing.assert_array_equal(two.position, p2.position)
    assert two.camera == "c1" and two.units == "px"
    assert load_nwb_views(path).cameras == ["c1"]


def test_bad_input(tmp_path):
    junk = tmp_path / "junk.nwb"
    junk.write_bytes(b"this is no HDF5 file")
    with pytest.raises(InputError, match=r"junk\.nwb: not an NWB file"):
        load_nwb(junk)
    import h5py

    with h5py.File(tmp_path / "plain.nwb", "w") as f:
        f["x"] = np.zeros(3)
    with pytest.raises(InputError, match=r"plain\.nwb: cannot be read as NWB"):
        load_nwb(tmp_path / "plain.nwb")
    empty = NWBFile(session_description="no poses", identifier="x", session_start_time=START)
    with NWBHDF5IO(str(tmp_path / "empty.nwb"), "w") as io:
        io.write(empty)
    with pytest.raises(InputError, match=r"empty\.nwb: no pose data"):
        load_nwb(tmp_path / "empty.nwb")
    with pytest.raises(FileNotFoundError, match="none.nwb"):
        load_nwb(tmp_path / "none.nwb")
    p = Poses(np.zeros((2, 1, 2, 2)), keypoints=["nose", "description"])
    with pytest.raises(InputError, match="keypoint name 'description' clashes"):
        save_nwb(p, tmp_path / "x.nwb")
    with pytest.raises(InputError, match=r"limbs name bodyparts \['paw'\]"):
        save_nwb(p.replace(keypoints=["nose", "tail"]), tmp_path / "x.nwb",
                 skeleton=Skeleton(["nose", "paw"], limbs=[("nose", "paw")]))
    assert not (tmp_path / "x.nwb").exists()


def test_registry_finds_nwb(tmp_path):
    from poses.io import detect_format, load_poses, save_poses

    p = Poses(np.arange(16.0).reshape(2, 1, 4, 2), keypoints=["a", "b", "c", "d"], fps=10.0,
              camera="c1")
    path = save_poses(p, tmp_path / "p.nwb")
    assert detect_format(path).name == "nwb"
    back = load_poses(path, camera="c1")
    np.testing.assert_array_equal(back.position, p.position)
    assert back.camera == "c1" and back.fps == 10.0
