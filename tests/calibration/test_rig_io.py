"""Calibration TOML round trips, anipose/Pose2Sim/aniposelib interop, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import toml
from hypothesis import given, settings
from hypothesis import strategies as st

from calibration import CameraRig, InputError, load_rig
from calibration.load_rig import from_pose2sim_toml
from tests.fixtures.rigs import points_in_view, random_rig, seeds


def assert_same_rig(a: CameraRig, b: CameraRig, atol: float = 0.0) -> None:
    assert a.names == b.names
    assert a.units == b.units
    for ca, cb in zip(a, b, strict=True):
        assert ca.size == cb.size and ca.fisheye == cb.fisheye
        for f in ("matrix", "dist", "rvec", "tvec"):
            np.testing.assert_allclose(getattr(ca, f), getattr(cb, f), atol=atol, rtol=0)


@settings(max_examples=15, deadline=None)
@given(seed=seeds, n_cams=st.sampled_from([1, 4, 12]), fisheye=st.booleans())
def test_toml_round_trip_keeps_order_and_values(tmp_path_factory, seed, n_cams, fisheye):
    rng = np.random.default_rng(seed)
    rig = random_rig(rng, n_cams, fisheye=fisheye)
    # names that sort differently as strings and as numbers
    for i, cam in enumerate(rig):
        cam.name = f"cam_{(i * 7) % n_cams}_{i}"
    rig.units = "mm"
    path = tmp_path_factory.mktemp("rig") / "calibration.toml"
    rig.save(path)
    back = CameraRig.load(path)
    assert_same_rig(rig, back)
    pts = points_in_view(rng, 5)
    np.testing.assert_array_equal(rig.project(pts), back.project(pts))


def test_twelve_cameras_survive_aniposelib_style_keys(tmp_path):
    rig = random_rig(np.random.default_rng(0), 12)
    path = rig.save(tmp_path / "c.toml")
    text = path.read_text()
    assert text.index("[cam_2]") < text.index("[cam_10]")
    # shuffle the tables in the file: cam_N numbers decide the order, not the file order
    data = toml.load(path)
    keys = [k for k in data if k != "metadata"]
    shuffled = {k: data[k] for k in sorted(keys)}  # string order: cam_0, cam_1, cam_10, ...
    shuffled["metadata"] = data["metadata"]
    path.write_text(toml.dumps(shuffled))
    assert load_rig(path).names == [f"cam_{i}" for i in range(12)]


def test_aniposelib_round_trip_and_file_compatibility(tmp_path):
    from aniposelib.cameras import CameraGroup

    rig = random_rig(np.random.default_rng(2), 3)
    group = rig.to_aniposelib()
    back = CameraRig.from_aniposelib(group)
    assert_same_rig(rig, back)
    # files written by aniposelib read here, and ours read there
    group.dump(str(tmp_path / "anipose.toml"))
    assert_same_rig(rig, load_rig(tmp_path / "anipose.toml"))
    rig.save(tmp_path / "ours.toml")
    theirs = CameraGroup.load(str(tmp_path / "ours.toml"))
    pts = points_in_view(np.random.default_rng(3), 6)
    np.testing.assert_allclose(theirs.project(pts), rig.project(pts), atol=1e-9)


POSE2SIM = """
[cam_01]
name = "cam_01"
size = [ 1920.0, 1080.0,]
matrix = [ [ 1680.0, 0.0, 959.5,], [ 0.0, 1680.0, 539.5,], [ 0.0, 0.0, 1.0,],]
distortions = [ -0.05, 0.02, 0.0001, -0.0002,]
rotation = [ 1.2, -1.1, 1.0,]
translation = [ 0.3, 0.8, 4.1,]
fisheye = false

[cam_02]
name = "cam_02"
size = [ 1920.0, 1080.0,]
matrix = [ [ 1700.0, 0.0, 959.5,], [ 0.0, 1700.0, 539.5,], [ 0.0, 0.0, 1.0,],]
distortions = [ -0.04, 0.01, 0.0, 0.0,]
rotation = [ 1.5, 0.9, -0.8,]
translation = [ -0.2, 0.7, 3.9,]
fisheye = false

[metadata]
adjusted = false
error = 0.0
"""


def test_reads_pose2sim_in_metres(tmp_path):
    p = tmp_path / "Calib.toml"
    p.write_text(POSE2SIM)
    for rig in (load_rig(p), from_pose2sim_toml(p)):
        assert rig.names == ["cam_01", "cam_02"]
        assert rig.units == "m"
        assert rig[0].size == (1920, 1080)
        assert rig[0].dist.size == 4
        np.testing.assert_allclose(rig[1].tvec, [-0.2, 0.7, 3.9])


def test_reads_sleap_anipose_reference(shared_data):
    rig = load_rig(shared_data / "sleap_anipose_minimal" / "calibration.toml")
    assert rig.names == ["back", "mid", "side", "top"]
    assert rig["mid"].size == (1280, 1024)


@pytest.mark.parametrize(
    "text, match",
    [
        ("[cam_0]\nname='a'\n", r"\[cam_0\].*missing key"),
        ("not toml [", "not valid TOML"),
        ("[metadata]\nunits='mm'\n", "no camera tables"),
        ("[cam_0]\nname='a'\nsize=[10,10]\nmatrix=[[1,0,0],[0,1,0]]\ndistortions=[0,0,0,0]\n"
         "rotation=[0,0,0]\ntranslation=[0,0,0]\n", r"\[cam_0\].*'a'.*matrix"),
        ("[cam_0]\nname='a'\nsize=[10,10]\nmatrix=[[1,0,0],[0,1,0],[0,0,1]]\n"
         "distortions=[0,0,0]\nrotation=[0,0,0]\ntranslation=[0,0,0]\n", "distortion"),
    ],
)
def test_malformed_calibration_names_file_and_key(tmp_path, text, match):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as info:
        load_rig(p)
    assert str(p) in str(info.value)


def test_missing_calibration_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.toml"):
        load_rig(tmp_path / "nope.toml")


def test_save_is_atomic_on_failure(tmp_path, monkeypatch):
    rig = random_rig(np.random.default_rng(0), 2)
    p = rig.save(tmp_path / "cal.toml")
    before = p.read_text()
    import poses.atomic as atomic

    def boom(*_):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "replace", boom)
    rig[0].matrix[0, 0] += 1
    with pytest.raises(OSError, match="disk full"):
        rig.save(p)
    assert p.read_text() == before
    assert [f.name for f in tmp_path.iterdir()] == ["cal.toml"]
