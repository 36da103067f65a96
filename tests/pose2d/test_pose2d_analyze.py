"""Analyze videos into DeepLabCut tables; partial decoding keeps what was done."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from pose2d.analyze import analyze_videos
from pose2d.augment import AugmentConfig
from pose2d.dlc_format import from_dlc_file
from pose2d.train import TrainConfig, train

from .conftest import write_video


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from .conftest import make_labeled_folder

    root = tmp_path_factory.mktemp("an")
    make_labeled_folder(root / "v")
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    train(root / "v", root / "model", TrainConfig(epochs=1, batch_size=4, eval_every_s=0,
                                                   augment=AugmentConfig(crop=64)),
          progress=False)
    torch.set_num_threads(n)
    return root / "model"


def test_analyze_writes_dlc_h5_and_csv(tiny_model, tmp_path):
    video = tmp_path / "cam0.avi"
    write_video(video, n=21)
    res = analyze_videos(tiny_model, [video], tmp_path / "out", batch_size=8, progress=False)
    assert res[0]["n_frames"] == 21
    df = pd.read_hdf(tmp_path / "out" / "cam0.h5")
    assert df.shape == (21, 9)
    assert df.columns.names == ["scorer", "bodyparts", "coords"]
    assert df.columns[0][0] == "tripose_small_model"
    lik = df.xs("likelihood", level="coords", axis=1).to_numpy()
    assert ((lik >= 0) & (lik <= 1)).all()
    t = from_dlc_file(tmp_path / "out" / "cam0.csv")
    np.testing.assert_allclose(t.points2d, from_dlc_file(tmp_path / "out" / "cam0.h5").points2d)
    again = analyze_videos(tiny_model, [video], tmp_path / "out", progress=False)
    assert again[0]["skipped"]


def test_truncated_video_keeps_frames_so_far(tiny_model, tmp_path):
    video = tmp_path / "cut.avi"
    write_video(video, n=40)
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"decoding stopped at frame \d+ of 40"):
        analyze_videos(tiny_model, [video], tmp_path / "out", progress=False)
    df = pd.read_hdf(tmp_path / "out" / "cut.h5")
    assert 0 < len(df) < 40


def test_missing_video_and_model(tiny_model, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        analyze_videos(tiny_model, [tmp_path / "none.mp4"], tmp_path / "o", progress=False)
    with pytest.raises(FileNotFoundError, match="model.json"):
        analyze_videos(tmp_path, [tmp_path / "none.mp4"], tmp_path / "o", progress=False)
