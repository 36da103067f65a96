"""poses.io.lightning_pose: Lightning Pose prediction CSVs (DeepLabCut's layout)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from poses import DEFAULT_INDIVIDUAL, InputError, Poses
from poses.io.dlc import save_dlc
from poses.io.lightning_pose import (
    DEFAULT_SCORER,
    is_lightning_pose_file,
    load_lightning_pose,
    save_lightning_pose,
)

from .strategies import poses as poses_st

BODYPARTS = ["paw1LH_top", "paw2LF_top", "nose_top"]


def lp_frame(with_set: bool = True, images: bool = True) -> pd.DataFrame:
    """Predictions built as Lightning Pose's PredictionHandler builds them."""
    cols = pd.MultiIndex.from_product([["heatmap_mhcrnn_tracker"], BODYPARTS,
                                       ["x", "y", "likelihood"]],
                                      names=["scorer", "bodyparts", "coords"])
    rng = np.random.default_rng(7)
    data = rng.uniform(0, 400, (4, len(cols)))
    data[:, 2::3] = rng.random((4, len(BODYPARTS)))
    index = [f"labeled-data/mouse/img{i:03d}.png" for i in range(4)] if images else None
    df = pd.DataFrame(data, columns=cols, index=index)
    if with_set:
        df.loc[:, ("set", "", "")] = ["train", "train", "validation", "test"]
    return df


def assert_same(a: Poses, b: Poses) -> None:
    assert a.keypoints == b.keypoints
    np.testing.assert_array_equal(np.isnan(a.position), np.isnan(b.position))
    np.testing.assert_allclose(a.position, b.position, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(a.confidence, b.confidence, equal_nan=True)


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=2, n_individuals=1))
def test_round_trip(p):
    with tempfile.TemporaryDirectory() as d:
        path = save_lightning_pose(p, Path(d) / "predictions.csv")
        assert is_lightning_pose_file(path)
        q = load_lightning_pose(path)
        assert_same(p, q)
        assert q.individuals == [DEFAULT_INDIVIDUAL]  # LP files hold one unnamed animal
        assert q.source_software == "LightningPose" and q.fps is None and q.units == "px"
        assert q.attrs["scorer"] == DEFAULT_SCORER
        if np.isfinite(p.confidence[0]).any():  # pandas takes an empty first row for names
            df = pd.read_csv(path, header=[0, 1, 2], index_col=0)  # how LP reads its files
            assert list(df.columns.names) == ["scorer", "bodyparts", "coords"]
            np.testing.assert_allclose(df.xs("y", axis=1, level="coords").to_numpy(),
                                       p.position[:, 0, :, 1], atol=1e-6, equal_nan=True)


def test_reads_lp_predictions_with_set_column(tmp_path):
    df = lp_frame()
    path = tmp_path / "predictions.csv"
    df.to_csv(path)
    p = load_lightning_pose(path)
    assert p.keypoints == BODYPARTS and p.individuals == [DEFAULT_INDIVIDUAL]
    assert p.attrs["scorer"] == "heatmap_mhcrnn_tracker"
    assert p.attrs["image_paths"][0] == "labeled-data/mouse/img000.png"
    for k, bp in enumerate(BODYPARTS):
        np.testing.assert_array_equal(p.position[:, 0, k, 0], df[("heatmap_mhcrnn_tracker",
                                                                  bp, "x")])
        np.testing.assert_array_equal(p.confidence[:, 0, k], df[("heatmap_mhcrnn_tracker",
                                                                 bp, "likelihood")])
    out = save_lightning_pose(p, tmp_path / "out.csv")
    back = pd.read_csv(out, header=[0, 1, 2], index_col=0)
    pd.testing.assert_frame_equal(back, df.drop(columns="set", level="scorer"),
                                  check_index_type=False)


def test_video_predictions_keep_frame_numbers(tmp_path):
    df = lp_frame(with_set=False, images=False).iloc[1:]  # frames 1, 2, 3
    path = tmp_path / "video.csv"
    df.to_csv(path)
    p = load_lightning_pose(path)
    np.testing.assert_array_equal(p.frame_index, [1, 2, 3])
    assert "image_paths" not in p.attrs


def test_registry_tells_lightning_pose_from_dlc(tmp_path):
    from poses.io import detect_format, load_poses

    lp = tmp_path / "lp.csv"
    lp_frame().to_csv(lp)
    p = Poses(np.ones((2, 1, 2, 2)), individuals=[DEFAULT_INDIVIDUAL])
    dlc = save_dlc(p, tmp_path / "dlc.csv", scorer="DLC_resnet50_openfieldOct30shuffle1")
    assert is_lightning_pose_file(lp) and not is_lightning_pose_file(dlc)
    assert detect_format(lp).name == "lightning_pose"
    assert detect_format(dlc).name == "dlc"
    assert load_poses(lp).source_software == "LightningPose"
    assert load_poses(dlc).source_software == "DeepLabCut"


def test_scorer_kept_or_defaulted(tmp_path):
    p = Poses(np.ones((2, 1, 1, 2)), attrs={"scorer": "DLC_resnet50"})
    q = load_lightning_pose(save_lightning_pose(p, tmp_path / "a.csv"))
    assert q.attrs["scorer"] == DEFAULT_SCORER
    p = p.replace(attrs={"scorer": "heatmap_ctx_tracker"})
    q = load_lightning_pose(save_lightning_pose(p, tmp_path / "b.csv"))
    assert q.attrs["scorer"] == "heatmap_ctx_tracker"


def test_refuses_what_lp_cannot_hold(tmp_path):
    with pytest.raises(InputError, match="one individual"):
        save_lightning_pose(Poses(np.ones((2, 3, 1, 2))), tmp_path / "a.csv")
    with pytest.raises(InputError, match=".csv"):
        save_lightning_pose(Poses(np.ones((2, 1, 1, 2))), tmp_path / "a.h5")
    with pytest.raises(InputError, match="3D"):
        save_lightning_pose(Poses(np.ones((2, 1, 1, 3))), tmp_path / "a.csv")


@pytest.mark.parametrize("text", ["", "frame,x\n0,1\n",
                                  "scorer,heatmap_tracker,heatmap_tracker,heatmap_tracker\n"
                                  "bodyparts,a,a,a\ncoords,x,y,likelihood\n0,1,2,-0.5\n"])
def test_bad_input_names_the_file(tmp_path, text):
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        load_lightning_pose(path)
    assert str(path) in str(exc.value)
