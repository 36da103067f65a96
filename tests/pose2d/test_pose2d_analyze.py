"""Analyze videos into DeepLabCut tables; partial decoding keeps what was done."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from pose2d.analyze import analyze_videos
from pose2d.augment import AugmentConfig
from pose2d.train import TrainConfig, train
from poses.io.dlc import load_dlc

from .conftest import old_dataframe, write_video


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
    t = load_dlc(tmp_path / "out" / "cam0.csv")
    np.testing.assert_allclose(t.position, load_dlc(tmp_path / "out" / "cam0.h5").position)
    # the same table, and the same csv text, as the writer before poses.io.dlc
    xy = np.stack([df.xs(c, level="coords", axis=1).to_numpy() for c in "xy"], axis=-1)
    old = old_dataframe(xy, lik, list(dict.fromkeys(df.columns.get_level_values(1))),
                        "tripose_small_model")
    pd.testing.assert_frame_equal(df, old, check_exact=True)
    assert (tmp_path / "out" / "cam0.csv").read_text() == old.to_csv()
    again = analyze_videos(tiny_model, [video], tmp_path / "out", progress=False)
    assert again[0]["skipped"]


def test_truncated_video_keeps_frames_so_far(tiny_model, tmp_path):
    video = tmp_path / "cut.avi"
    write_video(video, n=40)
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"decoding stopped at frame \d+ of 40.*cut.partial.h5 "
                       r"\(cut.h5 is not written\)"):
        analyze_videos(tiny_model, [video], tmp_path / "out", progress=False)
    df = pd.read_hdf(tmp_path / "out" / "cut.partial.h5")
    assert 0 < len(df) < 40
    assert not (tmp_path / "out" / "cut.h5").exists()  # a rerun does not skip it as done


def test_overwrite_with_a_video_now_cut_short_keeps_the_complete_output(tiny_model, tmp_path):
    video = tmp_path / "v.avi"
    write_video(video, n=40)
    analyze_videos(tiny_model, [video], tmp_path / "out", progress=False)
    complete = (tmp_path / "out" / "v.h5").read_bytes(), (tmp_path / "out" / "v.csv").read_bytes()
    data = video.read_bytes()
    video.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"v.partial.h5 \(v.h5 is left as it was\)"):
        analyze_videos(tiny_model, [video], tmp_path / "out", overwrite=True, progress=False)
    assert (tmp_path / "out" / "v.h5").read_bytes() == complete[0]
    assert (tmp_path / "out" / "v.csv").read_bytes() == complete[1]
    assert 0 < len(pd.read_hdf(tmp_path / "out" / "v.partial.h5")) < 40


def test_missing_video_and_model(tiny_model, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        analyze_videos(tiny_model, [tmp_path / "none.mp4"], tmp_path / "o", progress=False)
    video = tmp_path / "v.avi"  # the videos are checked first, then the model
    write_video(video, n=2)
    with pytest.raises(FileNotFoundError, match="model.json"):
        analyze_videos(tmp_path, [video], tmp_path / "o", progress=False)


def test_pose2d_files_get_the_umask_permissions(tiny_model, tmp_path):
    """model.json, checkpoints and analysis output: 0666 less the umask, as calibration's."""
    import os
    import stat

    from pose2d.model_folder import read_settings, save_state, write_settings
    from tests.fixtures.rigs import random_rig

    video = tmp_path / "cam0.avi"
    write_video(video, n=5)
    old = os.umask(0o022)
    try:
        rig = random_rig(np.random.default_rng(0), 2).save(tmp_path / "calibration.toml")
        written = [write_settings(tmp_path / "m", read_settings(tiny_model)),
                   save_state(tmp_path / "m" / "model.pt", {"w": torch.zeros(2)})]
        res = analyze_videos(tiny_model, [video], tmp_path / "out", progress=False)
        out = tmp_path / "out" / "cam0.h5"
        assert res[0]["output"] == str(out)
        written += [out, out.with_suffix(".csv")]
        want = stat.S_IMODE(os.stat(rig).st_mode)
        assert want == 0o644
        for path in written:
            assert stat.S_IMODE(os.stat(path).st_mode) == want, path
    finally:
        os.umask(old)
