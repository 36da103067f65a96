"""Track filters and frame extraction."""

from __future__ import annotations

import numpy as np
import pytest

from pose2d.analyze import analysis_poses, write_analysis
from pose2d.extract import extract_frames, extract_outliers, outlier_scores
from pose2d.filters import filter_track

from .conftest import write_video


def _track(n=60):
    t = np.arange(n)
    xy = np.stack([100 + 2 * t, 50 + np.sin(t / 5) * 10], axis=1)[:, None, :].repeat(2, axis=1)
    return xy.astype(float), np.full((n, 2), 0.9)


@pytest.mark.parametrize("method", ["median", "viterbi"])
def test_filters_remove_a_spike(method):
    xy, conf = _track()
    bad = xy.copy()
    bad[30, 0] += 80.0
    out, c = filter_track(bad, conf, method=method)
    assert np.abs(out[30, 0] - xy[30, 0]).max() < 3.0
    assert c[30, 0] == 0.0
    np.testing.assert_allclose(out[:, 1], xy[:, 1], atol=1e-9)
    with pytest.raises(ValueError, match="median, viterbi"):
        filter_track(xy, conf, method="kalman")


def test_outlier_scores():
    xy, conf = _track()
    conf[10, 1] = 0.1
    xy[40, 0] += 50
    f = outlier_scores(xy, conf, pcutoff=0.5, jump_px=30, reprojection_px=np.eye(60)[5] * 20)
    assert f["low_confidence"][10] and f["jump"][40] and f["reprojection"][5]
    assert f["any"].sum() == 4  # 10, 40, 41 (jump back), 5


def test_extract_frames_and_outliers(tmp_path):
    video = tmp_path / "v.avi"
    write_video(video, n=30)
    frames = extract_frames(video, tmp_path / "labeled-data" / "v", n=5, seed=0)
    assert 1 <= len(frames) <= 5
    assert len(list((tmp_path / "labeled-data" / "v").glob("img*.png"))) == len(frames)
    xy, conf = _track(30)
    conf[[3, 17]] = 0.1
    write_analysis(tmp_path / "v.h5", analysis_poses(xy, conf, ["a", "b"], "tripose"))
    out = extract_outliers(video, tmp_path / "v.h5", tmp_path / "o", n=5)
    assert out == [3, 17]
    assert (tmp_path / "o" / "outliers.csv").read_text().splitlines()[1].startswith("3,1")


def test_viterbi_picks_the_consistent_candidate():
    xy, conf = _track(40)
    noise = np.random.default_rng(0).uniform(-200, 200, xy.shape)
    cand = np.stack([xy, xy + noise], axis=2)  # (T, J, 2, 2): true track, jumping distractor
    cc = np.stack([conf, conf], axis=2)
    cand[20, 0] = cand[20, 0, ::-1]  # frame 20: the distractor scores higher
    cc[20, 0] = [0.95, 0.6]
    out, c = filter_track(cand, cc, method="viterbi")
    np.testing.assert_allclose(out[:, 0], xy[:, 0])
    assert c[20, 0] == pytest.approx(0.6)


def test_topk_decoding_returns_separate_peaks():
    import torch

    from pose2d.model import decode_topk

    s = torch.full((1, 1, 8, 8), -5.0)
    s[0, 0, 2, 2], s[0, 0, 6, 5] = 3.0, 1.0
    xy, c = decode_topk(s, torch.zeros(1, 2, 8, 8), 7.2, 3, stride=4)
    np.testing.assert_allclose(xy[0, 0, :2].numpy(), [[9.5, 9.5], [21.5, 25.5]])
    assert c[0, 0, 0] > c[0, 0, 1] > 0.5


def test_bad_shapes_are_named():
    from pose2d.inference import Predictor
    from pose2d.model import PoseNet

    with pytest.raises(ValueError, match="expected xy"):
        filter_track(np.zeros((5, 2, 3)), np.zeros((5, 2)))
    p = Predictor(PoseNet(2), {"locref_scale": 7.2, "stride": 4}, precision="float32")
    with pytest.raises(ValueError, match="frames\\[None\\]"):
        p(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        p(np.zeros((1, 32, 32, 3), np.float32))
    xy, c = p(np.zeros((2, 40, 50, 3), np.uint8))  # padded to 48x64 inside
    assert xy.shape == (2, 2, 2) and c.shape == (2, 2)


def test_pose2d_and_triangulate_medfilt_reject_the_same_points():
    """One rule (poses.filters): pose2d's median_filter_track and triangulate's
    median_filter_2d(offset_threshold=...) reject the same points of the same track."""
    tri = pytest.importorskip("triangulate.filters")
    from pose2d.filters import median_filter_track

    rng = np.random.default_rng(3)
    n = 300
    xy = 300 + np.cumsum(rng.normal(0, 3, (n, 4, 2)), axis=0)
    spikes = rng.random((n, 4)) < 0.05
    xy[spikes] += rng.choice([-1, 1], (int(spikes.sum()), 2)) * rng.uniform(10, 60, (
        int(spikes.sum()), 2))
    xy[rng.random((n, 4)) < 0.05] = np.nan
    xy[100:110, 2] = np.nan                                   # a gap
    finite = np.isfinite(xy).all(-1)
    for size, thr in [(7, 20.0), (13, 25.0), (3, 8.0)]:
        _, conf = median_filter_track(xy, np.ones((n, 4)), size=size, offset_threshold=thr,
                                      score_threshold=0.0)
        rej_pose2d = (conf == 0) & finite
        out = tri.median_filter_2d(xy[None], size, offset_threshold=thr)[0]
        rej_tri = np.isnan(out).any(-1) & finite
        assert rej_pose2d.any()
        np.testing.assert_array_equal(rej_pose2d, rej_tri)
        # points not rejected are kept as they are by both
        keep = finite & ~rej_tri
        np.testing.assert_array_equal(out[keep], xy[keep])
