"""``tripose extract-outliers SESSION``: a project session made from the synthetic sample
(true calibration, its videos), whose 2D is the simulated detector's with the outliers
replaced by the truth plus noise, then corrupted in known frames in known ways; the 3D is
triangulated by the pipeline. The corruptions are the independent truth the ranking, the
reasons and the written files are checked against."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from calibration.load_rig import load_rig
from poses import Poses, load_poses, save_poses
from poses.errors import InputError
from poses.io.dlc import load_dlc, read_dlc_table
from synth.session import load_points3d_csv
from triangulate.outliers import CRITERIA, match_detections, pick_diverse, pose_features
from tripose.cli import main
from tripose.demo import SAMPLE_DATA
from tripose.outliers import (
    MACHINE_LABELS,
    OUTLIERS_CSV,
    REPROJECTIONS,
    extract_session_outliers,
)
from tripose.project import init_project, run_project

CAMS = [f"cam{c}" for c in range(4)]
A = [25, 26]          # cam1's wrist 40 px off
B = [60, 61, 62]      # elbow-wrist twice as long, consistent in every view
C = 100               # the whole animal 30 mm aside for one frame
D = 130               # cam2: four visible keypoints scored 0.05


def _make_project(root: Path) -> dict:
    """Project ``root`` with session ``S``; returns what was corrupted where."""
    init_project(root, sessions=["S"], skeleton=SAMPLE_DATA / "skeleton.toml",
                 model=SAMPLE_DATA / "model",
                 overrides={"calibration": {"calibration_file": "calibration.toml"},
                            "render": {"enabled": False}, "angles": {"enabled": False}})
    shutil.copyfile(SAMPLE_DATA / "ground_truth" / "calibration.toml", root / "calibration.toml")
    for cam in CAMS:
        try:
            os.link(SAMPLE_DATA / "videos" / f"{cam}.mp4", root / "S" / "videos-raw" / f"{cam}.mp4")
        except OSError:
            shutil.copyfile(SAMPLE_DATA / "videos" / f"{cam}.mp4",
                            root / "S" / "videos-raw" / f"{cam}.mp4")
    rig = load_rig(root / "calibration.toml")
    X, kps = load_points3d_csv(SAMPLE_DATA / "ground_truth" / "points3d.csv")
    k = {name: i for i, name in enumerate(kps)}
    det = [load_poses(SAMPLE_DATA / "pose2d" / f"{c}.h5") for c in CAMS]
    P = np.stack([d.position[:, 0] for d in det])                    # (C, F, K, 2)
    S = np.stack([d.confidence[:, 0] for d in det])
    truth = np.stack([load_poses(SAMPLE_DATA / "ground_truth" / "pose2d" / f"{c}.h5")
                      .position[:, 0] for c in CAMS])
    flags = np.load(SAMPLE_DATA / "ground_truth" / "detections.npz")
    visible = flags["visible"]
    rng = np.random.default_rng(1)
    bad = flags["outlier"]  # the detector's own outliers become good detections
    P[bad] = truth[bad] + rng.normal(0, 1, (int(bad.sum()), 2))
    S[bad] = rng.uniform(0.9, 1.0, int(bad.sum()))
    assert visible[:, A, k["wrist"]].all()
    P[1, A, k["wrist"], 0] += 40.0
    moved = X.copy()
    distal = [i for name, i in k.items() if name not in ("shoulder", "elbow")]
    for f in B:
        moved[f, distal] += X[f, k["wrist"]] - X[f, k["elbow"]]
    moved[C] += np.array([30.0, 0.0, 0.0])
    frames = [*B, C]
    P[:, frames] = rig.project(moved[frames]) + rng.normal(0, 1, (4, len(frames), len(kps), 2))
    low = [i for i in range(len(kps)) if visible[2, D - 5:D + 6, i].all()][:4]
    assert len(low) == 4
    S[2, D, low] = 0.05
    for c, cam in enumerate(CAMS):
        save_poses(Poses.from_numpy(P[c], S[c], keypoints=kps, attrs={"scorer": "DLC_net"}),
                   root / "S" / "pose-2d" / f"{cam}.h5")
    summary = run_project(root, steps=["triangulate"])
    assert summary["triangulate"]["ran"] == ["triangulate:S"]
    return {"keypoints": kps, "low": [kps[i] for i in low], "P": P, "S": S}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("outliers") / "proj"
    return root, _make_project(root)


def _copy(project: tuple[Path, dict], dest: Path) -> Path:
    shutil.copytree(project[0], dest)
    return dest


def test_corrupted_frames_rank_first_with_their_reasons(project, tmp_path):
    root, info = project
    res = extract_session_outliers(root / "S", tmp_path / "ld", n=20)
    t = res.table.set_index("frame")
    expected = {*A, *B, C - 1, C, C + 1, D}   # a one-frame jump also marks its neighbours
    top = set(res.table["frame"][:len(expected)])
    assert top == expected, res.table.head(12)
    assert (t.loc[sorted(expected), "score"] > 1).all()

    for f in A:
        assert t.loc[f, "reason"] in ("disagreement", "reprojection")
        assert (t.loc[f, "camera"], t.loc[f, "keypoint"]) == ("cam1", "wrist")
        assert t.loc[f, "disagreement_px"] == pytest.approx(40, abs=4)
    assert (t.loc[61, "reason"], t.loc[61, "limb"]) == ("limb", "elbow-wrist")
    assert t.loc[61, "limb_deviation"] == pytest.approx(1.0, abs=0.1)
    assert t.loc[C, "reason"] == "jump" and t.loc[C, "camera"] == ""
    assert t.loc[C, "jump_speed"] == pytest.approx(30, abs=2)
    assert t.loc[C, "score"] > t.loc[C - 1, "score"] and t.loc[C, "score"] > t.loc[C + 1, "score"]
    assert (t.loc[D, "reason"], t.loc[D, "camera"]) == ("low_score", "cam2")
    assert t.loc[D, "keypoint"] in info["low"]
    assert t.loc[D, "low_score"] == pytest.approx(0.05)

    # outliers.csv read back: the picked frames, sorted, with every criterion
    csv = pd.read_csv(tmp_path / "ld" / OUTLIERS_CSV, keep_default_na=False)
    assert csv["frame"].tolist() == res.frames == sorted(res.frames)
    assert set(csv.columns) >= {"frame", "score", "reason", "keypoint", "camera", "rank",
                                *("disagreement_px", "reprojection_px", "limb_deviation",
                                  "jump_speed", "low_score")}
    assert set(csv["reason"]) <= set(CRITERIA)
    assert (csv["score"] > 1).all() and len(csv) == 20
    picked = set(csv["frame"])     # k-means keeps one of similar frames: each corruption's
    assert picked & set(A) and picked & set(B) and {C, D} <= picked  # best ones are there
    row = csv.set_index("frame").loc[C]
    assert (row["reason"], row["image"], int(row["rank"])) == ("jump", f"img0{C}.png", 1)


def test_written_files_for_every_camera(project, tmp_path, capsys):
    root, info = project
    out = tmp_path / "ld"
    assert main(["extract-outliers", str(root / "S"), "-n", "5", "-o", str(out),
                 "--seed", "3"]) == 0
    printed = capsys.readouterr().out.strip().splitlines()
    assert len(printed) == 1 and printed[0].startswith("wrote 5 outlier frames of session S")
    frames = pd.read_csv(out / OUTLIERS_CSV)["frame"].tolist()
    assert len(frames) == len(set(frames)) == 5
    names = [f"img{f:04d}.png" for f in frames]
    rig = load_rig(root / "calibration.toml")
    X = load_poses(root / "S" / "pose-3d" / "S.csv", format="anipose").position[frames, 0]
    for c, cam in enumerate(CAMS):
        folder = out / cam
        assert sorted(p.name for p in folder.glob("img*.png")) == names
        cap = cv2.VideoCapture(str(root / "S" / "videos-raw" / f"{cam}.mp4"))
        video = [cap.read()[1] for _ in range(max(frames) + 1)]   # decoded in order
        cap.release()
        for f, name in zip(frames, names, strict=True):
            assert np.array_equal(cv2.imread(str(folder / name)), video[f])

        pred = load_dlc(folder / MACHINE_LABELS)
        assert pred.attrs["image_paths"] == [f"labeled-data/{cam}/{n}" for n in names]
        np.testing.assert_allclose(pred.position[:, 0], info["P"][c, frames])
        np.testing.assert_allclose(pred.confidence[:, 0], info["S"][c, frames])
        df = pd.read_hdf(folder / MACHINE_LABELS, "df_with_missing")
        assert df.index.tolist() == [("labeled-data", cam, n) for n in names]
        assert df.columns.get_level_values(0)[0] == "DLC_net"
        assert set(df.columns.get_level_values(-1)) == {"x", "y", "likelihood"}

        rep = load_dlc(folder / REPROJECTIONS)
        np.testing.assert_allclose(rep.position[:, 0], rig.cameras[c].project(X), atol=1e-3)
        assert rep.keypoints == info["keypoints"]
        # likelihood: the views whose confident detection lies within 15 px, over 4
        near = np.linalg.norm(rig.project(X) - info["P"][:, frames], axis=-1) <= 15.0
        agree = (near & (info["S"][:, frames] >= 0.6)).sum(0) / 4
        seen = np.isfinite(X).all(-1)
        np.testing.assert_allclose(rep.confidence[:, 0][seen], agree[seen])
        assert np.isnan(rep.confidence[:, 0][~seen]).all()


def test_rerun_keeps_images_labels_and_rows(project, tmp_path):
    root, _ = project
    out = tmp_path / "ld"
    first = extract_session_outliers(root / "S", out, n=3, seed=0)
    image = out / "cam0" / f"img{first.frames[0]:04d}.png"
    image.write_bytes(b"edited by hand")
    labels = out / "cam0" / "CollectedData_me.h5"
    labels.write_bytes(b"my labels")
    before = read_dlc_table(out / "cam0" / MACHINE_LABELS)
    again = extract_session_outliers(root / "S", out, n=3, seed=0)
    assert again.frames == first.frames and again.images_written == 0
    assert again.images_kept == 3 * len(CAMS)
    assert image.read_bytes() == b"edited by hand" and labels.read_bytes() == b"my labels"
    pd.testing.assert_frame_equal(read_dlc_table(out / "cam0" / MACHINE_LABELS), before)
    more = extract_session_outliers(root / "S", out, n=8, seed=1)
    assert image.read_bytes() == b"edited by hand"
    after = read_dlc_table(out / "cam0" / MACHINE_LABELS)
    pd.testing.assert_frame_equal(after.loc[before.index], before)  # existing rows kept
    assert {r[2] for r in after.index} == {f"img{f:04d}.png"
                                           for f in {*first.frames, *more.frames}}
    csv = pd.read_csv(out / OUTLIERS_CSV)
    assert set(csv["frame"]) == {*first.frames, *more.frames}

    # a machinelabels file of other bodyparts is refused before anything is written
    other = tmp_path / "other"
    foreign = Poses.from_numpy(np.zeros((1, 2, 2)), np.ones((1, 2)), keypoints=["a", "b"],
                               attrs={"image_paths": ["labeled-data/cam3/img0001.png"],
                                      "index_levels": 3})
    save_poses(foreign, other / "cam3" / MACHINE_LABELS, format="dlc")
    with pytest.raises(InputError, match="other columns"):
        extract_session_outliers(root / "S", other, n=3)
    assert not list(other.rglob("*.png"))


def test_the_labeling_app_prefills_the_frames(project, tmp_path):
    from tripose.label.store import LabelStore
    from tripose.label.target import discover

    copy = _copy(project, tmp_path / "copy")
    assert main(["extract-outliers", str(copy / "S"), "-n", "2"]) == 0
    frame = pd.read_csv(copy / "S" / "labeled-data" / OUTLIERS_CSV)["frame"][0]
    target = discover(copy / "S")
    group = next(iter(target.groups.values()))
    assert sorted(group.views) == CAMS
    instant = LabelStore(target).instant(group, f"img{frame:04d}.png")
    info = project[1]
    for c, cam in enumerate(CAMS):
        got = {p["bodypart"]: (p["x"], p["y"]) for p in instant["prefill"][cam]}
        assert len(got) == len(info["keypoints"])
        np.testing.assert_allclose([got[k] for k in info["keypoints"]], info["P"][c, frame])


def test_diverse_picking():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    feats = np.concatenate([c + rng.normal(0, 0.1, (20, 2)) for c in centres])
    score = rng.uniform(1.5, 2.0, 60)
    score[[5, 27, 44]] = 5.0                       # the best of each cluster
    score[50:] = 0.5                               # not candidates
    picked = pick_diverse(feats, score, 3, seed=0)
    assert picked.tolist() == [5, 27, 44]
    assert np.array_equal(pick_diverse(feats, score, 7, seed=4),
                          pick_diverse(feats, score, 7, seed=4))
    assert len(set(pick_diverse(feats, score, 7, seed=4).tolist())) == 7
    # identical poses: empty clusters are filled with the next best candidates
    same = pick_diverse(np.zeros((60, 2)), score, 6, seed=0)
    assert len(set(same.tolist())) == 6 and {5, 27, 44} <= set(same.tolist())
    # fewer candidates than n: all of them
    assert pick_diverse(feats, np.where(np.arange(60) < 4, 2.0, 0.0), 10).tolist() == [0, 1, 2, 3]
    pose = rng.normal(size=(4, 5, 3))
    f = pose_features(pose * 3 + 7)                # centred and scaled: the same features
    np.testing.assert_allclose(f, pose_features(pose), atol=1e-12)


def test_match_detections_follows_the_projection():
    rig = load_rig(SAMPLE_DATA / "ground_truth" / "calibration.toml")
    X, _ = load_points3d_csv(SAMPLE_DATA / "ground_truth" / "points3d.csv")
    X2 = np.stack([X[:10], X[:10] + 40.0], axis=1)                  # (F, 2, K, 3)
    P = rig.project(X2)                                              # (C, F, 2, K, 2)
    swapped = P[:, :, ::-1].copy()
    swapped[2, 3] = np.nan                                           # cam2, frame 3: none
    S = np.ones(swapped.shape[:-1])
    m, s, inst = match_detections(rig, X2, swapped, S)
    assert (inst[:, :, 0] == np.where(np.isnan(swapped[..., 0, 0, 0]), -1, 1)).all()
    ok = inst >= 0
    np.testing.assert_allclose(m[ok], P[ok])
    assert np.isnan(m[2, 3]).all() and np.isnan(s[2, 3]).all()


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_bad_inputs_are_one_line(project, tmp_path, capsys):
    root, _ = project
    session = str(root / "S")
    assert main(["extract-outliers", session, "-n", "0"]) == 2
    assert "-n must be" in _error_line(capsys)
    assert main(["extract-outliers", session, "--analysis", "x.h5"]) == 2
    assert "--analysis" in _error_line(capsys)
    video = root / "S" / "videos-raw" / "cam0.mp4"
    assert main(["extract-outliers", str(video), "-o", str(tmp_path / "v")]) == 2
    assert "--analysis" in _error_line(capsys)
    assert main(["extract-outliers", str(tmp_path), "-n", "3"]) == 2
    assert "not a session" in _error_line(capsys)

    copy = _copy(project, tmp_path / "copy")
    shutil.rmtree(copy / "S" / "pose-3d")
    assert main(["extract-outliers", str(copy / "S")]) == 2
    line = _error_line(capsys)
    assert "no 3D poses" in line and "--steps triangulate" in line
    (copy / "S" / "pose-2d" / "cam2.h5").unlink()
    assert main(["extract-outliers", str(copy / "S")]) == 2
    line = _error_line(capsys)
    assert "cam2" in line and "--steps analyze" in line
    assert not (copy / "S" / "labeled-data").exists()   # refused before any work


def test_extract_frames_of_a_session_writes_each_instant_for_every_camera(project, tmp_path):
    import cv2

    from tripose.label.target import discover

    copy = _copy(project, tmp_path / "copy")
    assert main(["extract-frames", str(copy / "S"), "-n", "4", "--seed", "1"]) == 0
    names = {cam: sorted(p.name for p in (copy / "S" / "labeled-data" / cam).glob("img*.png"))
             for cam in CAMS}
    assert len(names["cam0"]) == 4 and all(v == names["cam0"] for v in names.values())
    frame = int(names["cam2"][1][3:-4])
    cap = cv2.VideoCapture(str(copy / "S" / "videos-raw" / "cam2.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, frame)
    ok, img = cap.read()
    assert ok
    np.testing.assert_array_equal(cv2.imread(str(copy / "S" / "labeled-data" / "cam2" /
                                                 names["cam2"][1])), img)
    # one multi-view group in the labeling app, every camera a view of each instant
    group = next(iter(discover(copy / "S").groups.values()))
    assert sorted(group.views) == CAMS
    # a video still needs -o; bad -n is one line
    assert main(["extract-frames", str(copy / "S" / "videos-raw" / "cam0.mp4")]) == 2
    assert main(["extract-frames", str(copy / "S"), "-n", "0"]) == 2
