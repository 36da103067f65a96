"""Loading labeled frames: projects, labeled-data folders, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from pose2d.dataset import load_labeled_data, make_split, read_dlc_config, swap_pairs

from .conftest import BODYPARTS, label_frame, make_labeled_folder


def test_labeled_folder(labeled_folder):
    d = load_labeled_data(labeled_folder)
    assert len(d) == 12 and d.bodyparts == BODYPARTS and d.scorer == "Tester"
    assert d.images[0].shape == (80, 96, 3) and d.images[0].dtype == np.uint8
    assert d.points2d.shape == (12, 3, 2)
    assert d.names[0] == "labeled-data/vid1/img000.png"
    # RGB: the snout dot is red
    x, y = np.round(d.points2d[0, 0]).astype(int)
    assert d.images[0][y, x, 0] > 200 and d.images[0][y, x, 2] < 50


def test_project(dlc_project):
    d = load_labeled_data(dlc_project / "config.yaml")
    assert len(d) == 18 and d.bodyparts == BODYPARTS
    cfg = read_dlc_config(dlc_project / "config.yaml")
    assert cfg["bodyparts"] == BODYPARTS and cfg["scorer"] == "Tester"


def test_all_nan_frames_are_skipped_and_counted(tmp_path):
    make_labeled_folder(tmp_path / "v", n=6, nan_rows=(1, 4))
    d = load_labeled_data(tmp_path / "v")
    assert len(d) == 4 and d.n_skipped == 2


def test_unknown_bodypart(dlc_project):
    (dlc_project / "config.yaml").write_text("scorer: Tester\nbodyparts:\n- snout\n- leftear\n")
    with pytest.raises(ValueError, match="rightear"):
        load_labeled_data(dlc_project)


def test_missing_and_unreadable_images(labeled_folder):
    (labeled_folder / "img003.png").unlink()
    with pytest.raises(FileNotFoundError, match="img003.png"):
        load_labeled_data(labeled_folder)
    (labeled_folder / "img003.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="cannot be read"):
        load_labeled_data(labeled_folder)


def test_not_a_dataset(tmp_path):
    with pytest.raises(ValueError, match="expected a DeepLabCut project"):
        load_labeled_data(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_labeled_data(tmp_path / "missing")


def test_empty_labels(tmp_path):
    folder = tmp_path / "v"
    folder.mkdir()
    label_frame(["labeled-data/v/a.png"], np.full((1, 3, 2), np.nan)).to_hdf(
        folder / "CollectedData_T.h5", key="df_with_missing")
    with pytest.raises(ValueError, match="no labeled frames"):
        load_labeled_data(folder)


def test_swap_pairs():
    assert swap_pairs(["snout", "leftear", "rightear", "tailbase"]) == [(1, 2)]
    assert swap_pairs(["paw_l", "paw_r", "nose"]) == [(0, 1)]
    assert swap_pairs(["a", "b"]) == []


def test_split_is_deeplabcut_rounding_and_seeded():
    tr, te = make_split(116, 0.95, 0)
    assert len(tr) == 110 and len(te) == 6 and not set(tr) & set(te)
    assert len(make_split(116, 0.8, 0)[0]) == 93
    np.testing.assert_array_equal(make_split(116, 0.95, 3)[1], make_split(116, 0.95, 3)[1])
    assert not np.array_equal(make_split(116, 0.95, 3)[1], make_split(116, 0.95, 4)[1])
    with pytest.raises(ValueError, match="train fraction"):
        make_split(10, 0.0, 0)


@pytest.mark.realdata
def test_openfield_loads(shared_data):
    root = shared_data / "dlc_openfield" / "openfield-Pranav-2018-10-30"
    d = load_labeled_data(root)
    assert len(d) == 116 and d.bodyparts == ["snout", "leftear", "rightear", "tailbase"]
    assert d.images[0].shape == (480, 640, 3)


def test_labels_are_poses(labeled_folder):
    from poses import DEFAULT_INDIVIDUAL, Poses
    from poses.io.dlc import load_dlc, save_dlc

    d = load_labeled_data(labeled_folder)
    assert isinstance(d.labels, Poses)
    assert d.labels.individuals == [DEFAULT_INDIVIDUAL] and d.labels.keypoints == BODYPARTS
    assert d.labels.attrs["scorer"] == "Tester" and d.labels.attrs["labels"]
    assert d.labels.attrs["image_paths"] == d.names
    np.testing.assert_array_equal(d.points2d, d.labels.position[:, 0])
    sub = d.subset([3, 1])
    assert sub.names == [d.names[3], d.names[1]] and sub.labels.attrs["image_paths"] == sub.names
    np.testing.assert_array_equal(sub.points2d, d.points2d[[3, 1]])
    assert sub.bodyparts == BODYPARTS and sub.scorer == "Tester"
    assert len(d.subset([])) == 0 and d.subset([]).points2d.shape == (0, 3, 2)
    # the labels save as a CollectedData table that reads back the same
    back = load_dlc(save_dlc(sub.labels, labeled_folder.parent / "CollectedData_X.csv"))
    assert back.attrs["labels"] and back.attrs["image_paths"] == sub.names
    np.testing.assert_array_equal(back.position, sub.labels.position)


def test_multi_animal_labels_are_refused(tmp_path):
    import pandas as pd

    from poses import InputError

    folder = tmp_path / "v"
    make_labeled_folder(folder, n=3)
    pts = np.arange(3 * 2 * 3 * 2, dtype=float).reshape(3, 2 * 3 * 2)
    cols = pd.MultiIndex.from_product([["Tester"], ["mouse1", "mouse2"], BODYPARTS, ["x", "y"]],
                                      names=["scorer", "individuals", "bodyparts", "coords"])
    names = [f"labeled-data/v/img{i:03d}.png" for i in range(3)]
    for f in folder.glob("CollectedData_*"):
        f.unlink()
    pd.DataFrame(pts, index=names, columns=cols).to_csv(folder / "CollectedData_Tester.csv")
    with pytest.raises(InputError, match=r"CollectedData_Tester.csv.*multi-animal training "
                                         r"sets are not supported yet"):
        load_labeled_data(folder)
    # one individual in the multi-animal layout is a single-animal training set
    cols1 = pd.MultiIndex.from_product([["Tester"], ["mouse1"], BODYPARTS, ["x", "y"]],
                                       names=["scorer", "individuals", "bodyparts", "coords"])
    pd.DataFrame(pts[:, :6] + 20, index=names, columns=cols1).to_csv(
        folder / "CollectedData_Tester.csv")
    d = load_labeled_data(folder)
    assert len(d) == 3 and d.bodyparts == BODYPARTS
    np.testing.assert_array_equal(d.points2d, pts[:, :6].reshape(3, 3, 2) + 20)
