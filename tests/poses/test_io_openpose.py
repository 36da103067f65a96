"""poses.io.openpose: OpenPose / Pose2Sim JSON folders, every person, named by skeleton."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings

from poses import InputError, Poses, Skeleton
from poses.io import registry
from poses.io.openpose import (
    OPENPOSE_SKELETONS,
    is_openpose_folder,
    load_openpose,
    save_openpose,
)
from tests.fixtures.legacy.inputs import OLD_BODY25 as OPENPOSE_BODY25
from tests.poses.strategies import poses as poses_st

# OpenPose's POSE_BODY_25B_BODY_PARTS (openpose_train), with Pose2Sim's names for 17 and 18
# (UpperNeck -> Neck, HeadTop -> Head)
BODY_25B = ["Nose", "LEye", "REye", "LEar", "REar", "LShoulder", "RShoulder", "LElbow",
            "RElbow", "LWrist", "RWrist", "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle",
            "Neck", "Head", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel"]
# index -> name, transcribed from Pose2Sim/skeletons.py (its anytree ``id=`` values)
POSE2SIM_IDS = {
    "BODY_25B": {0: "Nose", 5: "LShoulder", 6: "RShoulder", 11: "LHip", 12: "RHip",
                 17: "Neck", 18: "Head", 19: "LBigToe", 21: "LHeel", 22: "RBigToe",
                 24: "RHeel"},
    "BODY_25": {0: "Nose", 1: "Neck", 2: "RShoulder", 9: "RHip", 11: "RAnkle", 12: "LHip",
                19: "LBigToe", 20: "LSmallToe", 21: "LHeel", 22: "RBigToe", 24: "RHeel"},
    "HALPE_26": {0: "Nose", 5: "LShoulder", 10: "RWrist", 17: "Head", 18: "Neck", 19: "Hip",
                 20: "LBigToe", 21: "RBigToe", 22: "LSmallToe", 23: "RSmallToe", 24: "LHeel",
                 25: "RHeel"},
    "COCO_17": {0: "Nose", 5: "LShoulder", 6: "RShoulder", 9: "LWrist", 12: "RHip",
                16: "RAnkle"},
    "COCO": {0: "Nose", 1: "Neck", 4: "RWrist", 7: "LWrist", 8: "RHip", 13: "LAnkle"},
    "COCO_133": {1: "LEye", 2: "REye", 3: "LEar", 4: "REar", 17: "LBigToe", 22: "RHeel",
                 23: "Jaw1", 39: "Jaw17", 40: "EyebrowR1", 49: "EyebrowL5", 50: "Nose1",
                 59: "REye1", 70: "LEye6", 71: "Mouth1", 90: "Mouth20", 92: "LThumb1",
                 93: "LThumb", 96: "LIndex", 100: "LMiddle1", 108: "LPinky", 111: "LPinky4",
                 113: "RThumb1", 114: "RThumb", 117: "RIndex", 125: "RRing1", 129: "RPinky",
                 132: "RPinky4"},
    "BODY_135": {17: "Neck", 18: "Head", 25: "LThumb1CMC", 65: "FaceContour0",
                 133: "RPupil", 134: "LPupil"},
}


def write_frames(folder: Path, frames, name="clip_{:012d}_keypoints.json",
                 key="pose_keypoints_2d") -> Path:
    """One OpenPose JSON per frame; ``frames`` lists each frame's people as (n_kp, 3)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, people in enumerate(frames):
        data = {"version": 1.3, "people": [
            {"person_id": [-1], key: np.asarray(p, float).ravel().tolist()} for p in people]}
        (folder / name.format(i)).write_text(json.dumps(data))
    return folder


# ------------------------------------------------------------------- keypoint names
def test_body_25b_frame_gets_body_25b_names(tmp_path):
    person = np.column_stack([np.arange(25) * 10.0, np.arange(25) + 0.5, np.full(25, 0.9)])
    folder = write_frames(tmp_path / "op", [[person]])
    p = load_openpose(folder, skeleton="BODY_25B")
    assert p.keypoints == BODY_25B and p.keypoints[18] == "Head"
    np.testing.assert_array_equal(p.position[0, 0, p.keypoints.index("Head")], [180, 18.5])
    np.testing.assert_array_equal(p.position[0, 0, 0], [0, 0.5])
    # without a skeleton: generic names, never BODY_25's for a BODY_25B file
    assert load_openpose(folder).keypoints == [f"kp{j}" for j in range(25)]
    assert load_openpose(folder, skeleton="BODY_25").keypoints == OPENPOSE_BODY25


@pytest.mark.parametrize("model", sorted(POSE2SIM_IDS))
def test_model_names_match_pose2sim(model):
    names = OPENPOSE_SKELETONS[model]
    assert len(set(names)) == len(names)
    for idx, name in POSE2SIM_IDS[model].items():
        assert names[idx] == name, (model, idx)
    expected = {"BODY_25": 25, "BODY_25B": 25, "HALPE_26": 26, "COCO_17": 17, "COCO": 18,
                "COCO_133": 133, "BODY_135": 135}
    assert len(names) == expected[model]


def test_count_mismatch_names_both(tmp_path):
    folder = write_frames(tmp_path / "op", [[np.ones((17, 3))]])
    with pytest.raises(InputError) as exc:
        load_openpose(folder, skeleton="BODY_25B")
    msg = str(exc.value)
    assert str(folder) in msg and "17 keypoints" in msg and "BODY_25B has 25" in msg


def test_skeleton_forms(tmp_path):
    folder = write_frames(tmp_path / "op", [[np.ones((2, 3))]])
    assert load_openpose(folder, skeleton=["a", "b"]).keypoints == ["a", "b"]
    assert load_openpose(folder, skeleton=Skeleton(["s", "t"])).keypoints == ["s", "t"]
    (tmp_path / "sk.toml").write_text('bodyparts = ["u", "v"]\n')
    assert load_openpose(folder, skeleton=str(tmp_path / "sk.toml")).keypoints == ["u", "v"]
    with pytest.raises(InputError, match="the keypoint list has 3"):
        load_openpose(folder, skeleton=["a", "b", "c"])
    with pytest.raises(InputError, match="unknown skeleton 'BODY_99'"):
        load_openpose(folder, skeleton="BODY_99")
    empty = write_frames(tmp_path / "empty", [[], []])
    p = load_openpose(empty, skeleton="coco_17")  # any case; an empty clip needs a skeleton
    assert p.keypoints == OPENPOSE_SKELETONS["COCO_17"] and np.isnan(p.position).all()
    with pytest.raises(InputError, match="no person"):
        load_openpose(empty)


# ------------------------------------------------------------------------- people
def test_every_person_is_an_individual_slot(tmp_path):
    a = np.array([[10, 10, 0.9], [20, 20, 0.8], [0, 0, 0.0]])
    b = a + [100, 0, 0]
    c = a + [0, 300, 0]
    folder = write_frames(tmp_path / "op", [[b, a], [c, b, a], [], [a]])
    p = load_openpose(folder)
    assert p.individuals == ["ind1", "ind2", "ind3"] and p.n_frames == 4
    np.testing.assert_array_equal(p.position[0, 0, 0], [110, 10])  # file order, no tracking
    np.testing.assert_array_equal(p.position[1, :, 0], [[10, 310], [110, 10], [10, 10]])
    assert np.isnan(p.position[0, 2]).all() and (p.confidence[0, 2] == 0).all()
    assert np.isnan(p.position[2]).all() and (p.confidence[2] == 0).all()
    assert np.isnan(p.position[:, :, 2]).all() and (p.confidence[:, :, 2] == 0).all()
    np.testing.assert_array_equal(p.confidence[1, 1, :2], [0.9, 0.8])
    np.testing.assert_array_equal(p.frame_index, [0, 1, 2, 3])
    # slot ind1 is the first person of every frame (the old reader's person="first")
    np.testing.assert_array_equal(p.position[[0, 1, 3], 0, :2], np.stack([b, c, a])[:, :2, :2])
    np.testing.assert_array_equal(p.confidence[[0, 1, 3], 0], np.stack([b, c, a])[..., 2])


def test_frames_ordered_by_their_number(tmp_path):
    folder = tmp_path / "op"
    for i in (10, 2, 1):
        write_frames(folder, [[np.full((1, 3), [i, i, 1.0])]], name=f"cam_{i}_keypoints.json")
    p = load_openpose(folder)
    np.testing.assert_array_equal(p.frame_index, [1, 2, 10])
    np.testing.assert_array_equal(p.position[:, 0, 0, 0], [1, 2, 10])
    (folder / "notes.json").write_text('{"people": []}')  # no number: name order
    np.testing.assert_array_equal(load_openpose(folder).frame_index, [0, 1, 2, 3])


# --------------------------------------------------------------------- round trips
def _expected_confidence(p: Poses) -> np.ndarray:
    present = np.isfinite(p.position).all(-1)
    return np.where(present, np.nan_to_num(p.confidence, nan=1.0), 0.0)


@pytest.mark.parametrize("n_individuals", [1, 3])
@settings(max_examples=25, deadline=None)
@given(data=poses_st(n_space=2, n_individuals=3, default_individuals=True))
def test_round_trip(n_individuals, data):
    p = data.sel(individuals=list(range(n_individuals)))
    p = p.replace(frame_index=np.arange(p.n_frames) * 5 + 3)
    with tempfile.TemporaryDirectory() as d:
        folder = save_openpose(p, Path(d) / "cam1")
        assert len(list(folder.glob("cam1_*_keypoints.json"))) == p.n_frames
        q = load_openpose(folder, skeleton=p.keypoints)
    assert q.keypoints == p.keypoints and q.individuals == p.individuals
    np.testing.assert_array_equal(q.position, p.position)  # JSON keeps every digit
    np.testing.assert_array_equal(q.confidence, _expected_confidence(p))
    np.testing.assert_array_equal(q.frame_index, p.frame_index)


def test_written_layout_is_openpose(tmp_path):
    p = Poses(np.array([[[[1.5, 2.5], [np.nan, np.nan]]]]), np.array([[[0.7, np.nan]]]))
    folder = save_openpose(p, tmp_path / "out", prefix="vid")
    data = json.loads((folder / "vid_000000000000_keypoints.json").read_text())
    assert data["version"] == 1.3
    (person,) = data["people"]
    assert person["person_id"] == [-1] and person["pose_keypoints_2d"] == [1.5, 2.5, 0.7, 0, 0, 0]
    assert person["face_keypoints_2d"] == []


def test_writer_refuses(tmp_path):
    with pytest.raises(InputError, match="3D"):
        save_openpose(Poses(np.ones((1, 1, 1, 3))), tmp_path / "x")
    write_frames(tmp_path / "busy", [[np.ones((1, 3))]], name="other_{}.json")
    with pytest.raises(InputError, match="other JSON") as exc:
        save_openpose(Poses(np.ones((1, 1, 1, 2))), tmp_path / "busy")
    assert str(tmp_path / "busy") in str(exc.value)


# ------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("text, match", [
    ("{not json", "invalid JSON"),
    ('{"version": 1.3, "people": null}', "'people' list"),
    ('[1, 2, 3]', "'people' list"),
    ('{"people": [{"face_keypoints_2d": []}]}', "no 'pose_keypoints_2d'"),
    ('{"people": [{"pose_keypoints_2d": [1, 2, 0.5, 3]}]}', "triples"),
    ('{"people": [{"pose_keypoints_2d": [1, "2", 0.5]}]}', "holds '2'"),
    ('{"people": [{"pose_keypoints_2d": [1, null, 0.5]}]}', "holds None"),
    ('{"people": [{"pose_keypoints_2d": [1, true, 0.5]}]}', "holds True"),
    ('{"people": [{"pose_keypoints_2d": [1, NaN, 0.5]}]}', "finite"),
])
def test_odd_json_names_the_file(tmp_path, text, match):
    folder = write_frames(tmp_path / "op", [[np.ones((1, 3))]])
    bad = folder / "clip_000000000001_keypoints.json"
    bad.write_text(text)
    with pytest.raises(InputError, match=match) as exc:
        load_openpose(folder)
    assert str(bad) in str(exc.value) and "\n" not in str(exc.value)


def test_folder_problems(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_openpose(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no \*\.json"):
        load_openpose(tmp_path / "empty")
    assert not is_openpose_folder(tmp_path / "empty")
    mixed = write_frames(tmp_path / "mixed", [[np.ones((2, 3))], [np.ones((3, 3))]])
    with pytest.raises(InputError, match="different numbers of keypoints") as exc:
        load_openpose(mixed)
    assert str(mixed) in str(exc.value)
    with pytest.raises(InputError, match="3D"):
        load_openpose(mixed, key="pose_keypoints_3d")


def test_registry_picks_openpose_for_a_folder(tmp_path):
    folder = write_frames(tmp_path / "op", [[np.ones((25, 3))]])
    assert registry.detect_format(folder).name == "openpose"
    p = registry.load_poses(folder, skeleton="BODY_25B")
    assert p.keypoints == BODY_25B and p.source_software == "OpenPose"
    out = registry.save_poses(p, tmp_path / "back", format="openpose")
    assert registry.load_poses(out, skeleton="BODY_25B").keypoints == BODY_25B
