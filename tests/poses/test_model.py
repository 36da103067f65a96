"""The pose data model: construction, validation with clear errors, selection, views."""

from __future__ import annotations

import numpy as np
import pytest

from poses import DIMS, InputError, Poses, PoseViews
from poses.dims import CONFIDENCE_DIMS, VIEW_DIMS


def _pos(f=4, i=2, k=3, s=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 100, (f, i, k, s))


def test_defaults_and_shapes():
    p = Poses(_pos(), keypoints=["a", "b", "c"])
    assert p.dims == DIMS == ("frames", "individuals", "keypoints", "space")
    assert p.confidence_dims == CONFIDENCE_DIMS
    assert VIEW_DIMS[0] == "cameras"
    assert (p.n_frames, p.n_individuals, p.n_keypoints, p.n_space) == (4, 2, 3, 2)
    assert p.individuals == ["ind1", "ind2"]
    assert p.fps is None  # never invented
    np.testing.assert_array_equal(p.frame_index, np.arange(4))
    np.testing.assert_array_equal(p.confidence, np.ones((4, 2, 3)))


def test_default_confidence_is_nan_where_missing():
    pos = _pos()
    pos[1, 0, 2] = np.nan
    p = Poses(pos)
    assert np.isnan(p.confidence[1, 0, 2]) and p.confidence[0, 0, 2] == 1.0


def test_from_numpy_single_animal():
    xy = np.zeros((5, 3, 2))
    p = Poses.from_numpy(xy, np.full((5, 3), 0.5), keypoints=["a", "b", "c"], fps=30)
    assert p.position.shape == (5, 1, 3, 2) and p.confidence.shape == (5, 1, 3)
    assert p.fps == 30.0
    pos, conf = p.single()
    assert pos.shape == (5, 3, 2) and conf.shape == (5, 3)


@pytest.mark.parametrize("kwargs, words", [
    ({"position": np.zeros((3, 2, 2))}, ["position", "shape"]),
    ({"position": np.zeros((3, 1, 2, 4))}, ["2 or 3"]),
    ({"position": np.full((2, 1, 2, 2), np.inf)}, ["infinite"]),
    ({"keypoints": ["a", "a"]}, ["collide", "'a'"]),
    ({"keypoints": ["a"]}, ["1 keypoint names for 2"]),
    ({"individuals": ["m", "m"]}, ["collide"]),
    ({"individuals": [""]}, ["empty"]),
    ({"confidence": np.full((2, 1, 2), 1.5)}, ["[0, 1]"]),
    ({"confidence": np.full((2, 1, 2), -0.1)}, ["[0, 1]"]),
    ({"confidence": np.zeros((2, 2, 2))}, ["confidence", "shape"]),
    ({"fps": 0}, ["fps"]),
    ({"fps": float("nan")}, ["fps"]),
    ({"frame_index": np.arange(5)}, ["frame_index"]),
    ({"quality": {"error": np.zeros(3)}}, ["quality['error']"]),
])
def test_bad_input_names_the_file(kwargs, words):
    base = {"position": np.zeros((2, 1, 2, 2)), "source_file": "cam1.h5"}
    base.update(kwargs)
    with pytest.raises(InputError) as exc:
        Poses(**base)
    msg = str(exc.value)
    assert msg.startswith("cam1.h5:")
    for w in words:
        assert w in msg


def test_no_individuals_is_an_error():
    with pytest.raises(InputError, match="no individuals"):
        Poses(np.zeros((3, 0, 2, 2)), individuals=[], source_file="x.h5")


def test_sel_reorders_by_name_and_index():
    pos = _pos(i=3)
    p = Poses(pos, keypoints=["a", "b", "c"], individuals=["m1", "m2", "m3"],
              quality={"error": np.arange(4 * 3 * 3.0).reshape(4, 3, 3)})
    q = p.sel(individuals=["m3", 0], keypoints=["c", "a"])
    assert q.individuals == ["m3", "m1"] and q.keypoints == ["c", "a"]
    np.testing.assert_array_equal(q.position, pos[:, [2, 0]][:, :, [2, 0]])
    np.testing.assert_array_equal(q.quality["error"], p.quality["error"][:, [2, 0]][:, :, [2, 0]])
    with pytest.raises(InputError, match="unknown keypoint 'z'"):
        p.sel(keypoints=["z"])


def test_frames_keep_frame_numbers():
    p = Poses(_pos(f=6), frame_index=np.arange(10, 16))
    q = p.frames(slice(2, 5))
    np.testing.assert_array_equal(q.frame_index, [12, 13, 14])
    np.testing.assert_array_equal(q.position, p.position[2:5])
    r = p.frames(np.array([True, False] * 3))
    np.testing.assert_array_equal(r.frame_index, [10, 12, 14])


def test_copy_is_deep():
    p = Poses(_pos())
    q = p.copy()
    q.position[0, 0, 0, 0] = -1
    assert p.position[0, 0, 0, 0] != -1


def test_views_stack_by_name_in_rig_order():
    a = Poses(_pos(f=5, i=2, seed=1), keypoints=["a", "b", "c"], individuals=["m1", "m2"])
    b_pos = _pos(f=4, i=2, seed=2)
    b = Poses(b_pos, keypoints=["c", "a", "b"], individuals=["m2", "m1"])
    views = PoseViews({"left": a, "right": b})
    assert views["right"].camera == "right"
    assert views.individuals == ["m1", "m2"] and views.n_frames == {"left": 5, "right": 4}
    pos, conf = views.stack(cameras=["right", "missing", "left"])
    assert pos.shape == (3, 4, 2, 3, 2) and conf.shape == (3, 4, 2, 3)
    # right's m1 is its second individual; its keypoint "a" is its second keypoint
    np.testing.assert_array_equal(pos[0, :, 0, 0], b_pos[:, 1, 1])
    np.testing.assert_array_equal(pos[2], a.position[:4])
    assert np.isnan(pos[1]).all() and np.isnan(conf[1]).all()


def test_views_refuse_3d_and_different_keypoints():
    two = Poses(_pos(), keypoints=["a", "b", "c"], source_file="a.h5")
    with pytest.raises(InputError, match="keypoints differ"):
        PoseViews({"a": two, "b": Poses(_pos(), keypoints=["a", "b", "x"])})
    with pytest.raises(InputError, match="expected 2D"):
        PoseViews({"a": Poses(_pos(s=3))})
    with pytest.raises(InputError, match="no camera"):
        PoseViews({})
