"""poses.io.c3d: C3D through ezc3d, exact names via the TRIPOSE group, garbage refused."""

from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path

import ezc3d
import numpy as np
import pytest
from hypothesis import given, settings

from poses import InputError, Poses
from poses.io import registry
from poses.io.c3d import is_c3d_file, load_c3d, save_c3d
from tests.poses.strategies import poses as poses_st

# C3D stores float32: 1000 * 2**-24 ~ 6e-5
ATOL = 1e-4


def with_error(p: Poses, scale: float = 12.0) -> Poses:
    rng = np.random.default_rng(p.n_frames + 7 * p.n_keypoints)
    err = rng.uniform(0, scale, p.position.shape[:3])
    return p.replace(quality={"error": err}, fps=100.0, units="mm")


def assert_round_trip(p: Poses, q: Poses) -> None:
    assert q.keypoints == p.keypoints and q.individuals == p.individuals
    np.testing.assert_array_equal(np.isnan(q.position), np.isnan(p.position))
    np.testing.assert_allclose(q.position, p.position, atol=ATOL, equal_nan=True)
    np.testing.assert_array_equal(q.frame_index, p.frame_index)
    assert q.fps == p.fps and q.units == p.units
    present = np.isfinite(p.position).all(-1)
    step = float(ezc3d.c3d(q.source_file)["parameters"]["POINT"]["SCALE"]["value"][0])
    assert step < 0  # floating-point C3D
    err = q.quality["error"]
    assert np.isnan(err[~present]).all()
    # residuals keep one byte: within half a step (float32 arithmetic aside)
    assert np.all(np.abs(err[present] - p.quality["error"][present]) <= abs(step) / 2 + 1e-5)
    np.testing.assert_array_equal(q.confidence, np.where(present, 1.0, np.nan))


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=3, n_individuals=1))
def test_round_trip_one_individual(p):
    p = with_error(p)  # the individual's own name comes back too (TRIPOSE group)
    with tempfile.TemporaryDirectory() as d:
        q = load_c3d(save_c3d(p, Path(d) / "x.c3d"))
        assert_round_trip(p, q)


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=3, n_individuals=3))
def test_round_trip_three_individuals(p):
    p = with_error(p, scale=400.0).replace(frame_index=np.arange(p.n_frames) + 70_000)
    with tempfile.TemporaryDirectory() as d:
        path = save_c3d(p, Path(d) / "x.c3d")
        q = load_c3d(path)
        assert_round_trip(p, q)
        labels = ezc3d.c3d(str(path))["parameters"]["POINT"]["LABELS"]["value"]
    assert labels == [f"{i}:{k}" for i in p.individuals for k in p.keypoints]


def test_ezc3d_reads_our_file(tmp_path):
    X = np.arange(2 * 2 * 3, dtype=float).reshape(2, 1, 2, 3) * 10.5
    X[1, 0, 1] = np.nan
    err = np.array([[[0.25, 3.0]], [[301.0, np.nan]]])  # 301 px: more than one byte of 1 px
    p = Poses(X, keypoints=["nose", "tail"], fps=240.0, units="mm", quality={"error": err})
    c = ezc3d.c3d(str(save_c3d(p, tmp_path / "ours.c3d")))
    point = c["parameters"]["POINT"]
    assert point["LABELS"]["value"] == ["nose", "tail"]
    assert point["RATE"]["value"][0] == 240.0 and point["UNITS"]["value"] == ["mm"]
    res = c["data"]["meta_points"]["residuals"][0]  # (n_points, n_frames)
    step = abs(point["SCALE"]["value"][0])
    assert res[1, 1] == -1  # missing point
    np.testing.assert_allclose(res[:, 0], [0.25, 3.0], atol=step / 2 + 1e-6)
    assert abs(res[0, 1] - 301.0) <= step / 2 + 1e-4  # no wrap-around at 256
    np.testing.assert_allclose(c["data"]["points"][:3, 0, 0], X[0, 0, 0], atol=1e-5)
    assert c["parameters"]["TRIPOSE"]["KEYPOINTS"]["value"] == ["nose", "tail"]


def _foreign(path: Path, labels, n_frames=3, first_frame=0) -> np.ndarray:
    """A C3D written by ezc3d alone (no TRIPOSE group), as another tool would."""
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [50.0]
    c["parameters"]["POINT"]["LABELS"]["value"] = tuple(labels)
    c["parameters"]["POINT"]["UNITS"]["value"] = ["m"]
    pts = np.ones((4, len(labels), n_frames))
    pts[:3] = np.random.default_rng(0).normal(size=(3, len(labels), n_frames))
    res = np.full((1, len(labels), n_frames), 2.0)
    res[0, 0, 1] = -1
    c["header"]["points"]["first_frame"] = first_frame
    c["data"]["points"] = pts
    c["data"]["meta_points"]["residuals"] = res
    c.write(str(path))
    return pts


def test_reads_another_tools_c3d(tmp_path):
    pts = _foreign(tmp_path / "vicon.c3d", ["S1:toe", "S1:heel", "S2:toe", "S2:heel"],
                   first_frame=4)
    p = load_c3d(tmp_path / "vicon.c3d")
    assert p.individuals == ["S1", "S2"] and p.keypoints == ["toe", "heel"]
    assert p.fps == 50.0 and p.units == "m" and p.source_software is None
    np.testing.assert_array_equal(p.frame_index, [4, 5, 6])
    np.testing.assert_allclose(p.position[0, 1, 0], pts[:3, 2, 0], atol=1e-6)
    assert np.isnan(p.position[1, 0, 0]).all()
    # another tool's residuals are not reprojection errors in pixels
    assert "error" not in p.quality
    np.testing.assert_allclose(p.quality["residual"][0, 0], [2.0, 2.0])
    assert np.isnan(p.quality["residual"][1, 0, 0])
    _foreign(tmp_path / "plain.c3d", ["a", "b:c"])
    q = load_c3d(tmp_path / "plain.c3d")
    assert q.individuals == ["ind1"] and q.keypoints == ["a", "b:c"]


def test_bad_tripose_group_and_duplicate_labels(tmp_path):
    c = ezc3d.c3d(str(save_c3d(Poses(np.ones((2, 1, 2, 3)), fps=30, units="mm"),
                               tmp_path / "x.c3d")))
    c.add_parameter("TRIPOSE", "FIRST_FRAME", ["soon"])
    c.write(str(tmp_path / "bad.c3d"))
    with pytest.raises(InputError, match="FIRST_FRAME") as exc:
        load_c3d(tmp_path / "bad.c3d")
    assert str(tmp_path / "bad.c3d") in str(exc.value)
    _foreign(tmp_path / "dup.c3d", ["a", "a"])
    with pytest.raises(InputError, match="more than once") as exc:
        load_c3d(tmp_path / "dup.c3d")
    assert str(tmp_path / "dup.c3d") in str(exc.value)


# ------------------------------------------------------------------------ bad input
def _valid_bytes(tmp_path) -> bytes:
    p = Poses(np.ones((3, 2, 2, 3)), fps=30, units="mm")
    return save_c3d(p, tmp_path / "valid.c3d").read_bytes()


def _corrupt(data: bytes, how: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    b = bytearray(data)
    if how == "random":
        return rng.integers(0, 256, 4000, dtype=np.uint8).tobytes()
    if how == "magic-then-random":
        return bytes([2, 0x50]) + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
    if how == "random-parameters":  # a valid header, then noise: hung or crashed ezc3d
        noise = rng.integers(0, 256, 3000, dtype=np.uint8).tobytes()
        return bytes(b[:512]) + bytes([1, 0x50, 4, 84]) + noise
    if how == "flipped-parameters":
        for _ in range(5):
            b[int(rng.integers(512, 1536))] = int(rng.integers(0, 256))
        return bytes(b)
    n = len(data)
    return bytes(b[:{"truncated-header": 100, "truncated-parameters": 700,
                     "truncated-data": n - 600}[how]])


@pytest.mark.parametrize("how", ["random", "magic-then-random", "random-parameters",
                                 "truncated-header", "truncated-parameters", "truncated-data"])
@pytest.mark.parametrize("seed", range(4))
def test_garbage_gives_input_error(tmp_path, how, seed):
    path = tmp_path / "bad.c3d"
    path.write_bytes(_corrupt(_valid_bytes(tmp_path), how, seed))
    with pytest.raises(InputError) as exc:
        load_c3d(path)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def _edit_parameter(data: bytes, name: bytes, nth: int, edit) -> bytes:
    """``data`` with the ``nth`` parameter called ``name`` changed by ``edit(buf, at)``,
    ``at`` the index of its type byte (then dimensions count, dimensions, values)."""
    b = bytearray(data)
    at = 512
    for _ in range(nth + 1):
        at = b.index(name, at + 1)
    edit(b, at + len(name) + 2)
    return bytes(b)


def _set_short(value):
    def edit(b, at):
        assert b[at + 1] == 0  # a scalar: its value follows the dimensions count
        b[at + 2:at + 4] = struct.pack("<h", value)
    return edit


# damaged parameters that crashed (segfault), hung or exhausted memory in ezc3d itself
SURGERY = {
    "negative rotation ratio": (b"RATIO", 0, _set_short(-7168)),
    "labels without dimensions": (b"LABELS", 1, lambda b, at: b.__setitem__(at + 1, 0)),
    "rate stored as text": (b"RATE", 2, lambda b, at: b.__setitem__(at, 0xFF)),
    "point count disagrees": (b"USED", 0, _set_short(9)),
    "rate without a value": (b"RATE", 0, lambda b, at: b.__setitem__(at + 1, 1)),  # dims [0]
}


@pytest.mark.parametrize("case", sorted(SURGERY))
def test_damaged_parameters_give_input_error(tmp_path, case):
    path = tmp_path / "damaged.c3d"
    path.write_bytes(_edit_parameter(_valid_bytes(tmp_path), *SURGERY[case]))
    with pytest.raises(InputError, match="not a valid C3D file") as exc:
        load_c3d(path)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize("seed", range(30))
def test_flipped_parameter_bytes_never_crash(tmp_path, seed):
    path = tmp_path / "flipped.c3d"
    path.write_bytes(_corrupt(_valid_bytes(tmp_path), "flipped-parameters", seed))
    try:
        p = load_c3d(path)
    except InputError as exc:
        assert str(path) in str(exc)
    else:
        assert isinstance(p, Poses)


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "empty.c3d").write_bytes(b"")
    assert not is_c3d_file(tmp_path / "empty.c3d")
    with pytest.raises(InputError, match="512-byte"):
        load_c3d(tmp_path / "empty.c3d")
    with pytest.raises(FileNotFoundError):
        load_c3d(tmp_path / "nope.c3d")


def test_writer_refuses_what_c3d_cannot_hold(tmp_path):
    out = tmp_path / "x.c3d"
    p = Poses(np.ones((3, 1, 1, 3)), keypoints=["a"])
    with pytest.raises(InputError, match="frame rate") as exc:
        save_c3d(p.replace(units="mm"), out)
    assert str(out) in str(exc.value)
    with pytest.raises(InputError, match="units"):
        save_c3d(p.replace(fps=30), out)
    with pytest.raises(InputError, match="consecutive"):
        save_c3d(p.replace(fps=30, units="mm", frame_index=[0, 1, 5]), out)
    with pytest.raises(InputError, match="2D"):
        save_c3d(Poses(np.ones((1, 1, 1, 2)), fps=30, units="px"), out)
    with pytest.raises(InputError, match="must not contain"):
        save_c3d(Poses(np.ones((1, 1, 1, 3)), keypoints=["a:b"], fps=30, units="mm"), out)
    assert not out.exists() and os.listdir(tmp_path) == []


def test_many_markers_and_long_name_lists(tmp_path):
    names = [f"k{i}" for i in range(300)]  # > 255: LABELS2 and KEYPOINTS2
    p = Poses(np.random.default_rng(0).normal(size=(2, 1, 300, 3)), keypoints=names,
              individuals=["rat"], fps=10, units="mm")
    q = load_c3d(save_c3d(p, tmp_path / "many.c3d"))
    assert q.keypoints == names and q.individuals == ["rat"] and "error" not in q.quality
    np.testing.assert_allclose(q.position, p.position, atol=1e-6)


def test_registry_round_trip(tmp_path):
    p = Poses(np.random.default_rng(0).normal(size=(4, 2, 2, 3)), fps=60, units="cm")
    path = registry.save_poses(p, tmp_path / "out.c3d")
    assert registry.detect_format(path).name == "c3d"
    q = registry.load_poses(path)
    assert q.individuals == p.individuals
    np.testing.assert_allclose(q.position, p.position, atol=1e-6)
