"""poses.io.dlc: DeepLabCut h5/csv, single- and multi-animal, labels and analysis output."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from poses import DEFAULT_INDIVIDUAL, InputError, Poses
from poses.io.dlc import (
    SINGLE,
    from_dlc_dataframe,
    is_dlc_file,
    load_dlc,
    save_dlc,
    to_dlc_dataframe,
)

from .strategies import poses as poses_st

LEVELS3 = ["scorer", "bodyparts", "coords"]
LEVELS4 = ["scorer", "individuals", "bodyparts", "coords"]
OPENFIELD = Path("dlc_openfield/openfield-Pranav-2018-10-30/labeled-data/m4s1")
SLEAP_REAL = Path("sleap_anipose_minimal/back/minimal_back_proofread.analysis.h5")


def assert_same(a: Poses, b: Poses) -> None:
    assert a.keypoints == b.keypoints
    assert a.individuals == b.individuals
    assert a.position.shape == b.position.shape
    np.testing.assert_array_equal(np.isnan(a.position), np.isnan(b.position))
    np.testing.assert_allclose(a.position, b.position, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(a.confidence, b.confidence, atol=1e-9, equal_nan=True)
    np.testing.assert_array_equal(a.frame_index, b.frame_index)


# ----------------------------------------------------------------------- round trips
@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=2, n_individuals=1, default_individuals=True))
def test_round_trip_single_animal(p):
    with tempfile.TemporaryDirectory() as d:
        h5 = save_dlc(p, Path(d) / "a.h5", csv=True)
        for path in (h5, h5.with_suffix(".csv")):
            q = load_dlc(path)
            assert_same(p, q)
            assert q.individuals == [DEFAULT_INDIVIDUAL]
            assert q.source_software == "DeepLabCut" and q.units == "px" and q.fps is None
            assert q.source_file == str(path) and q.attrs["multianimal"] is False
        df = pd.read_hdf(h5)
        assert list(df.columns.names) == LEVELS3
        assert list(dict.fromkeys(df.columns.get_level_values("coords"))) == [
            "x", "y", "likelihood"]


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=2, n_individuals=3))
def test_round_trip_three_animals_read_by_plain_pandas(p):
    with tempfile.TemporaryDirectory() as d:
        h5 = save_dlc(p, Path(d) / "a.h5", csv=True, scorer="DLC_resnet50_test")
        csv = h5.with_suffix(".csv")
        for path in (h5, csv):
            q = load_dlc(path)
            assert_same(p, q)
            assert q.attrs["scorer"] == "DLC_resnet50_test"
        frames = [pd.read_hdf(h5)]
        if np.isfinite(p.confidence[0]).any():  # pandas takes an empty first row for names
            frames.append(pd.read_csv(csv, header=[0, 1, 2, 3], index_col=0))
        for df in frames:
            assert list(df.columns.names) == LEVELS4
            assert list(dict.fromkeys(df.columns.get_level_values("individuals"))) == \
                p.individuals
            # DeepLabCut's column order: individuals, then bodyparts, then x, y, likelihood
            x = df.xs("x", axis=1, level="coords").to_numpy()
            np.testing.assert_allclose(x, p.position[..., 0].reshape(p.n_frames, -1),
                                       atol=1e-6, equal_nan=True)
            lk = df.xs("likelihood", axis=1, level="coords").to_numpy()
            np.testing.assert_allclose(lk, p.confidence.reshape(p.n_frames, -1),
                                       equal_nan=True)


@settings(max_examples=25, deadline=None)
@given(p=poses_st(n_space=2, n_individuals=1))
def test_one_named_individual_keeps_its_name(p):
    with tempfile.TemporaryDirectory() as d:
        path = save_dlc(p, Path(d) / "a.csv")
        q = load_dlc(path)
        assert_same(p, q)
        assert list(pd.read_csv(path, header=[0, 1, 2, 3], index_col=0).columns.names) == LEVELS4


def test_frame_numbers_round_trip(tmp_path):
    p = Poses(np.arange(12.0).reshape(3, 1, 2, 2), frame_index=[10, 11, 15],
              individuals=[DEFAULT_INDIVIDUAL])
    for name in ("a.h5", "a.csv"):
        q = load_dlc(save_dlc(p, tmp_path / name))
        np.testing.assert_array_equal(q.frame_index, [10, 11, 15])
        assert "image_paths" not in q.attrs


# ------------------------------------------------------------ DeepLabCut's own layouts
def dlc_multianimal_frame(labels: bool = False) -> pd.DataFrame:
    """A frame built the way DeepLabCut 2.2+ builds one, with unique bodyparts."""
    coords = ["x", "y"] if labels else ["x", "y", "likelihood"]
    cols = pd.MultiIndex.from_product([["Alex"], ["mus1", "mus2"], ["nose", "tail"], coords])
    cols = cols.append(pd.MultiIndex.from_product([["Alex"], ["single"], ["corner"], coords]))
    cols = cols.set_names(LEVELS4)
    rng = np.random.default_rng(3)
    data = rng.uniform(0, 640, (5, len(cols)))
    if not labels:
        data[:, 2::3] = rng.random((5, len(cols) // 3))
    data[1, :len(coords)] = np.nan  # mus1's nose missing in frame 1
    return pd.DataFrame(data, columns=cols)


def test_single_individual_mapping_and_layout_round_trip(tmp_path):
    df = dlc_multianimal_frame()
    src = tmp_path / "videoDLC_resnet50_el.h5"
    df.to_hdf(src, key="df_with_missing", mode="w", format="table")
    p = load_dlc(src)
    assert p.individuals == ["mus1", "mus2", SINGLE]
    assert p.keypoints == ["nose", "tail", "corner"]
    assert p.attrs["unique_bodyparts"] == ["corner"]
    # real individuals lack the unique bodypart, "single" lacks the multi-animal ones
    assert np.isnan(p.position[:, :2, 2]).all() and np.isnan(p.confidence[:, :2, 2]).all()
    assert np.isnan(p.position[:, 2, :2]).all()
    np.testing.assert_array_equal(p.position[:, 2, 2, 0], df[("Alex", "single", "corner", "x")])
    np.testing.assert_array_equal(p.position[:, 1, 1, 1], df[("Alex", "mus2", "tail", "y")])
    np.testing.assert_array_equal(p.confidence[:, 0, 1],
                                  df[("Alex", "mus1", "tail", "likelihood")])
    assert np.isnan(p.position[1, 0, 0]).all()
    out = save_dlc(p, tmp_path / "out.h5", csv=True)
    back = pd.read_hdf(out)
    assert back.columns.equals(df.columns) and list(back.columns.names) == LEVELS4
    pd.testing.assert_frame_equal(back, df)
    csv = pd.read_csv(out.with_suffix(".csv"), header=[0, 1, 2, 3], index_col=0)
    assert csv.columns.equals(df.columns)
    np.testing.assert_allclose(csv.to_numpy(), df.to_numpy(), equal_nan=True)


def test_unique_bodyparts_must_not_drop_values(tmp_path):
    p = from_dlc_dataframe(dlc_multianimal_frame())
    pos = p.position.copy()
    pos[0, 0, 2] = (1.0, 2.0)  # mus1 now has a "corner": DLC's layout cannot hold it
    with pytest.raises(InputError, match="corner"):
        save_dlc(p.replace(position=pos), tmp_path / "x.h5")


@pytest.mark.parametrize("levels", [1, 3])
def test_label_file_csv_round_trips_byte_for_byte(tmp_path, levels):
    cols = pd.MultiIndex.from_product([["Pranav"], ["snout", "tailbase"], ["x", "y"]],
                                      names=LEVELS3)
    parts = [("labeled-data", "m4s1", f"img{i:04d}.png") for i in range(4)]
    index = pd.MultiIndex.from_tuples(parts) if levels == 3 else \
        pd.Index(["/".join(t) for t in parts])
    data = np.array([[21.521, 265.428, 87.11, 152.69799999999998]] * 4) + np.arange(4)[:, None]
    data[2, 2:] = np.nan
    src = tmp_path / "CollectedData_Pranav.csv"
    pd.DataFrame(data, index=index, columns=cols).to_csv(src)  # as DeepLabCut writes it
    p = load_dlc(src)
    assert p.attrs["labels"] is True and p.attrs["index_levels"] == levels
    assert p.attrs["image_paths"] == ["/".join(t) for t in parts]
    np.testing.assert_array_equal(p.confidence[2, 0], [1.0, np.nan])  # default for labels
    out = save_dlc(p, tmp_path / "out" / "CollectedData_Pranav.h5", csv=True)
    assert out.with_suffix(".csv").read_bytes() == src.read_bytes()
    again = save_dlc(load_dlc(out), tmp_path / "again.csv")
    assert again.read_bytes() == src.read_bytes()
    assert isinstance(pd.read_hdf(out).index, pd.MultiIndex) == (levels == 3)
    assert is_dlc_file(out) and is_dlc_file(src)


def test_writes_what_the_older_tripose_writer_wrote(tmp_path):
    from tests.fixtures.legacy.inputs import HERE, dlc_case

    c = dlc_case()  # tests/fixtures/legacy/old_dlc.*: written before the pose data model
    old = HERE / "old_dlc.h5"
    p = Poses.from_numpy(c["points2d"], c["scores"], keypoints=c["bodyparts"])
    new = save_dlc(p, tmp_path / "new.h5", csv=True)
    assert new.with_suffix(".csv").read_bytes() == old.with_suffix(".csv").read_bytes()
    pd.testing.assert_frame_equal(pd.read_hdf(new), pd.read_hdf(old))
    with pd.HDFStore(new, "r") as store:
        assert store.keys() == ["/df_with_missing"]
        assert store.get_storer("df_with_missing").is_table
    assert (new.stat().st_mode & 0o777) == (old.stat().st_mode & 0o777)


def test_dataframe_helpers_agree_with_files():
    df = dlc_multianimal_frame(labels=True)
    p = from_dlc_dataframe(df, where="mem")
    assert p.attrs["labels"] is True
    assert p.source_file is None
    pd.testing.assert_frame_equal(to_dlc_dataframe(p), df)


def test_3d_is_refused(tmp_path):
    p = Poses(np.zeros((2, 1, 1, 3)))
    with pytest.raises(InputError, match="3D"):
        save_dlc(p, tmp_path / "x.h5")


# ------------------------------------------------------------------- real data
@pytest.mark.realdata
@pytest.mark.parametrize("name", ["CollectedData_Pranav.csv", "CollectedData_Pranav.h5"])
def test_real_openfield_labels(shared_data, name):
    path = shared_data / OPENFIELD / name
    p = load_dlc(path)
    truth = pd.read_csv(path.with_suffix(".csv"), header=[0, 1, 2], index_col=0)
    assert p.keypoints == ["snout", "leftear", "rightear", "tailbase"]
    assert p.individuals == [DEFAULT_INDIVIDUAL] and p.n_frames == 116 == len(truth)
    assert p.attrs["scorer"] == "Pranav" and p.attrs["labels"] is True
    assert p.attrs["image_paths"] == list(truth.index)
    for k, bp in enumerate(p.keypoints):
        np.testing.assert_array_equal(p.position[:, 0, k, 0], truth[("Pranav", bp, "x")])
        np.testing.assert_array_equal(p.position[:, 0, k, 1], truth[("Pranav", bp, "y")])
    np.testing.assert_array_equal(p.confidence, np.where(np.isnan(p.position[..., 0]),
                                                         np.nan, 1.0))


@pytest.mark.realdata
def test_real_openfield_csv_rewrites_identically(shared_data, tmp_path):
    src = shared_data / OPENFIELD / "CollectedData_Pranav.csv"
    assert save_dlc(load_dlc(src), tmp_path / "x.csv").read_bytes() == src.read_bytes()


@pytest.mark.realdata
def test_sniffers_on_real_files(shared_data):
    assert is_dlc_file(shared_data / OPENFIELD / "CollectedData_Pranav.h5")
    assert is_dlc_file(shared_data / OPENFIELD / "CollectedData_Pranav.csv")
    assert not is_dlc_file(shared_data / SLEAP_REAL)


def test_registry_picks_dlc(tmp_path):
    from poses.io import detect_format, load_poses

    p = from_dlc_dataframe(dlc_multianimal_frame())
    h5 = save_dlc(p, tmp_path / "a.h5", csv=True)
    assert detect_format(h5).name == "dlc"
    assert detect_format(h5.with_suffix(".csv")).name == "dlc"
    assert_same(load_poses(h5), p)
    assert_same(load_poses(h5.with_suffix(".csv")), p)


# --------------------------------------------------------------------- bad input
def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


BAD_FILES = {
    "not_hdf5.h5": "scorer,S\nthis is text\n",
    "empty.h5": "",
    "empty.csv": "",
    "wrong_header.csv": "frame,x,y\n0,1,2\n",
    "no_individuals.csv": "scorer\nindividuals\nbodyparts\ncoords\n0\n1\n",
    "colliding.csv": "scorer,S,S,S,S\nbodyparts,a,a,a,a\ncoords,x,y,x,y\n0,1,2,3,4\n",
    "likelihood.csv": "scorer,S,S,S\nbodyparts,a,a,a\ncoords,x,y,likelihood\n0,1,2,1.5\n",
    "garbage.csv": "scorer,S,S\nbodyparts,a,a\ncoords,x,y\n0,1,2\n1,oops,3\n",
    "only_x.csv": "scorer,S\nbodyparts,a\ncoords,x\n0,1\n",
    "binary.csv": "",
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_input_names_the_file(tmp_path, name):
    path = write(tmp_path / name, BAD_FILES[name])
    if name == "binary.csv":
        path.write_bytes(b"\xff\xfe\x00\x81scorer")
    with pytest.raises(InputError) as exc:
        load_dlc(path)
    assert str(path) in str(exc.value)
    assert "\n" not in str(exc.value)


def test_individuals_level_without_individuals_h5(tmp_path):
    cols = pd.MultiIndex.from_tuples([], names=LEVELS4)
    path = tmp_path / "empty_ma.h5"
    pd.DataFrame(np.zeros((2, 0)), columns=cols).to_hdf(path, key="df_with_missing", mode="w")
    with pytest.raises(InputError, match="no individuals") as exc:
        load_dlc(path)
    assert str(path) in str(exc.value)


@pytest.mark.realdata
def test_sleap_file_is_not_a_dlc_table(shared_data):
    path = shared_data / SLEAP_REAL
    with pytest.raises(InputError) as exc:
        load_dlc(path)
    assert str(path) in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_dlc(tmp_path / "nope.h5")


def test_multianimal_label_file_round_trips_byte_for_byte(tmp_path):
    df = dlc_multianimal_frame(labels=True)
    df.index = pd.MultiIndex.from_tuples(
        [("labeled-data", "arena", f"img{i:03d}.png") for i in range(len(df))])
    src = tmp_path / "CollectedData_Alex.csv"
    df.to_csv(src)
    p = load_dlc(src)
    assert p.individuals == ["mus1", "mus2", SINGLE] and p.attrs["index_levels"] == 3
    assert p.attrs["labels"] is True and p.attrs["unique_bodyparts"] == ["corner"]
    out = save_dlc(p, tmp_path / "out" / "CollectedData_Alex.h5", csv=True)
    assert out.with_suffix(".csv").read_bytes() == src.read_bytes()
    pd.testing.assert_frame_equal(pd.read_hdf(out), df)
