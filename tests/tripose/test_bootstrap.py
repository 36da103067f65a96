"""Multi-view bootstrapping: pseudo-labels against the synthetic session's ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.load_rig import load_rig
from poses.io.dlc import load_dlc
from tripose import bootstrap as bs
from tripose.bootstrap_inputs import frame_number, multiview_inputs
from tripose.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def truth():
    rig = load_rig(SAMPLE / "ground_truth" / "calibration.toml")
    xy = np.stack([load_dlc(SAMPLE / "ground_truth" / "pose2d" / f"{c}.h5").position[:, 0]
                   for c in rig.names])  # (C, F, J, 2)
    bodyparts = list(load_dlc(SAMPLE / "ground_truth" / "pose2d" / "cam0.h5").keypoints)
    df = pd.read_csv(SAMPLE / "ground_truth" / "points3d.csv")
    cols = [f"{b}_{a}" for b in bodyparts for a in "xyz"]
    pts3d = df[cols].to_numpy(float).reshape(len(df), len(bodyparts), 3)
    return rig, xy, pts3d, bodyparts


def _fake_predictions(monkeypatch, xy_all, frames, corrupt):
    """The network 'predicts' the truth (+0.3 px noise) with the given corruptions."""
    rng = np.random.default_rng(0)
    calls = iter(range(xy_all.shape[0]))

    def fake(predictor, images):
        c = next(calls)
        p = xy_all[c, frames] + rng.normal(0, 0.3, xy_all[c, frames].shape)
        conf = np.full(p.shape[:2], 0.95)
        for (cc, k, j), (dxy, s) in corrupt.items():
            if cc == c:
                p[k, j] += dxy
                conf[k, j] = s
        return p, conf

    monkeypatch.setattr(bs, "_load_predictor", lambda model_dir, device: None)
    monkeypatch.setattr(bs, "_predict", fake)


def test_pseudo_labels_correct_a_wrong_view_and_fill_a_missed_one(truth, monkeypatch):
    rig, xy, pts3d, bodyparts = truth
    videos = {c: SAMPLE / "videos" / f"{c}.mp4" for c in rig.names}
    frames = np.array([3, 40, 77, 120])
    wrist = bodyparts.index("wrist")
    corrupt = {(1, 0, wrist): (np.array([45.0, -30.0]), 0.9),  # confident and wrong
               (2, 1, wrist): (np.array([0.0, 0.0]), 0.05)}    # right place, missed (low)
    _fake_predictions(monkeypatch, xy, frames, corrupt)
    pl = bs.pseudo_labels("unused", videos, rig, frames)
    truth2d = xy[:, frames]
    visible = np.isfinite(truth2d).all(axis=-1)
    labelled = np.isfinite(pl.points2d).all(axis=-1)
    assert labelled[visible].mean() > 0.95
    err = np.linalg.norm(pl.points2d - truth2d, axis=-1)[labelled & visible]
    assert np.median(err) < 0.5 and err.max() < 2.0
    # the wrong view is corrected to the truth, the missed one filled in
    assert np.linalg.norm(pl.points2d[1, 0, wrist] - truth2d[1, 0, wrist]) < 1.5
    assert np.linalg.norm(pl.points2d[2, 1, wrist] - truth2d[2, 1, wrist]) < 1.5
    assert pl.stats["corrected_views"] >= 1 and pl.stats["filled_views"] >= 1
    err3 = np.linalg.norm(pl.points3d - pts3d[frames], axis=-1)
    assert np.nanmedian(err3) < 0.5  # mm


def test_points_the_views_do_not_agree_on_stay_unlabelled(truth, monkeypatch):
    rig, xy, _, bodyparts = truth
    videos = {c: SAMPLE / "videos" / f"{c}.mp4" for c in rig.names}
    frames = np.array([10, 60])
    j = bodyparts.index("d3_tip")
    # every camera's d3_tip scattered independently: no two views agree
    corrupt = {(c, 0, j): (np.array([60.0 * (c + 1), -50.0 * c]), 0.9) for c in range(4)}
    _fake_predictions(monkeypatch, xy, frames, corrupt)
    pl = bs.pseudo_labels("unused", videos, rig, frames)
    assert not np.isfinite(pl.points2d[:, 0, j]).any()
    assert np.isfinite(pl.points2d[:, 1, j]).all()


def test_pseudo_labels_written_for_review(truth, monkeypatch, tmp_path):
    rig, xy, _, bodyparts = truth
    videos = {c: SAMPLE / "videos" / f"{c}.mp4" for c in rig.names}
    frames = np.array([5, 50])
    _fake_predictions(monkeypatch, xy, frames, {})
    pl = bs.pseudo_labels("unused", videos, rig, frames)
    out = bs.write_pseudo_labels(pl, videos, bodyparts, rig, tmp_path / "pseudo")
    for c, cam in enumerate(rig.names):
        df = pd.read_hdf(out / cam / f"CollectedData_{bs.PSEUDO_SCORER}.h5")
        assert list(df.index.get_level_values(2)) == ["img0005.png", "img0050.png"]
        got = df.to_numpy(float).reshape(2, len(bodyparts), 2)
        np.testing.assert_allclose(got, pl.points2d[c], equal_nan=True)
        prov = pd.read_csv(out / cam / f"CollectedData_{bs.PSEUDO_SCORER}.provenance.csv")
        assert set(prov["source"]) == {"triangulated"}
        assert len(prov) == int(np.isfinite(pl.points2d[c]).all(axis=-1).sum())
        assert (out / cam / "img0050.png").is_file()
    assert load_rig(out / "calibration.toml").names == rig.names
    with pytest.raises(Exception, match="already holds files"):
        bs.write_pseudo_labels(pl, videos, bodyparts, rig, out)


def test_inputs_and_frame_numbers():
    assert frame_number("labeled-data/cam0/img0042.png") == 42
    assert frame_number("cam1.mp4#7") == 7
    assert frame_number("nonumber.png") is None
    inputs = multiview_inputs(SAMPLE)
    assert sorted(inputs.videos) == ["cam0", "cam1", "cam2", "cam3"]
    assert bs.spread_frames(10, 3, exclude=[0, 9]).tolist() == [1, 5, 8]


def test_bad_bootstrap_options_exit_2(tmp_path, capsys):
    assert main(["train", "--data", str(SAMPLE), "--out", str(tmp_path / "m"),
                 "--bootstrap", "-1"]) == 2
    assert main(["train", "--data", str(SAMPLE), "--out", str(tmp_path / "m"),
                 "--bootstrap", "1", "--calibration", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert "none.toml does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_train_bootstrap_end_to_end(tmp_path):
    out = tmp_path / "model"
    assert main(["train", "--data", str(SAMPLE), "--out", str(out), "--epochs", "1",
                 "--bootstrap", "1", "--bootstrap-frames", "6", "--crop", "128"]) == 0
    split = json.loads((out / "split.json").read_text())
    summary = json.loads((out / "bootstrap" / "bootstrap.json").read_text())
    assert len(summary["rounds"]) == 2
    assert len(split["extra"]) == summary["rounds"][1]["n_pseudo_frames"]
    assert not set(split["extra"]) & set(split["test"])  # tested on human labels only
    assert (out / "model.pt").is_file() and (out / "bootstrap" / "round0" / "model.pt").is_file()
    assert (out / "bootstrap" / "pseudo-round1" / "calibration.toml").is_file()
