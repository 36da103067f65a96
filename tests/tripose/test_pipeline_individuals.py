"""``tripose run`` with several animals: ``triangulation.individuals`` reaches the
triangulate step, filter and angles work per individual (one table each, an ``individual``
column), render draws them together; one animal keeps today's files."""

from __future__ import annotations

import inspect
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibration.errors import InputError
from poses import Poses, load_poses, save_poses
from tripose.demo import SAMPLE_DATA
from tripose.project import init_project, load_config, run_project, sample_project

N = 16  # frames
NAMES = ["m1", "m2"]


def _two_mice(root: Path, lowpass: bool = True, **overrides) -> Path:
    """A 1-session project whose 2D files (multi-animal DeepLabCut) hold two forelimbs:
    the sample one, and the same motion 60 frames later, 30 mm beside it; a few points are
    missing in every camera (so the 3D has gaps to fill)."""
    from calibration import load_rig
    from synth import load_points3d_csv
    from triangulate import load_skeleton

    rig = load_rig(SAMPLE_DATA / "ground_truth" / "calibration.toml")
    skel = load_skeleton(SAMPLE_DATA / "skeleton.toml")
    p, _ = load_points3d_csv(SAMPLE_DATA / "ground_truth" / "points3d.csv", skel.bodyparts)
    X = np.stack([p[:N], p[60:60 + N] + [0.0, 30.0, 0.0]], axis=1)  # (N, 2, 16, 3)
    px = rig.project(X)  # (n_cams, N, 2, 16, 2)
    px[:, 5:7, 0, 3] = np.nan  # m1's palm, 2 frames
    px[:, 9, 1, 8] = np.nan  # m2's d3_middle, 1 frame
    values = {"filter": {"fill_gaps": 3, "lowpass_hz": 20.0 if lowpass else 0.0}}
    for section, kv in overrides.items():
        values.setdefault(section, {}).update(kv)
    sample_project(root, calibrate=False, render=False, sessions=("A",), overrides=values)
    for c, cam in enumerate(rig.names):
        h5 = root / "A" / "pose-2d-dlc" / f"{cam}.h5"
        h5.unlink()
        conf = np.where(np.isfinite(px[c]).all(-1), 1.0, np.nan)
        save_poses(Poses(px[c], conf, keypoints=list(skel.bodyparts), individuals=NAMES), h5)
    return root


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> Path:
    root = _two_mice(tmp_path_factory.mktemp("two") / "proj")
    summary = run_project(root)
    assert summary["angles"]["ran"] == ["angles:A"]
    return root


def test_pose3d_holds_both_animals_in_one_table(two):
    pose = load_poses(two / "A/pose-3d/A.csv", format="anipose")
    assert pose.individuals == NAMES and pose.position.shape == (N, 2, 16, 3)
    assert np.isnan(pose.position[5:7, 0, 3]).all() and np.isnan(pose.position[9, 1, 8]).all()
    assert sorted(p.name for p in (two / "A/pose-3d").iterdir()) == ["A.csv"]


def test_filter_equals_filtering_each_animal_alone(two):
    from triangulate.postprocess import filter_poses

    raw = load_poses(two / "A/pose-3d/A.csv", format="anipose")
    got = load_poses(two / "A/pose-3d-filtered/A.csv", format="anipose")
    assert got.individuals == NAMES
    assert sorted(p.name for p in (two / "A/pose-3d-filtered").iterdir()) == ["A.csv"]
    for name in NAMES:
        alone = filter_poses(raw.sel(individuals=[name]), fill_gaps=3, lowpass_hz=20.0,
                             fps=100.0)
        np.testing.assert_allclose(got.sel(individuals=[name]).position, alone.position,
                                   atol=1e-5)
    assert np.isfinite(got.position).all()  # the gaps were filled
    assert not np.allclose(got.position, raw.position, equal_nan=True)  # low-pass ran


def test_angles_one_table_with_an_individual_column(two, tmp_path):
    from triangulate import load_skeleton
    from triangulate.angles import save_angles

    skel = load_skeleton(SAMPLE_DATA / "skeleton.toml")
    table = pd.read_csv(two / "A/angles/A.csv")
    assert list(table.columns) == [*skel.angles, "fnum", "individual"]
    assert table["individual"].tolist() == NAMES * N  # frame-major, like pose-3d
    assert table["fnum"].tolist() == list(np.repeat(np.arange(N), 2))
    assert sorted(p.name for p in (two / "A/angles").iterdir()) == ["A.csv"]
    filtered = load_poses(two / "A/pose-3d-filtered/A.csv", format="anipose")
    for name in NAMES:  # each animal's rows are the single-animal table of it alone
        alone = save_angles(tmp_path / f"{name}.csv",
                            filtered.sel(individuals=[name]).position[:, 0],
                            filtered.keypoints, skel.angles)
        mine = table[table["individual"] == name].drop(columns="individual")
        pd.testing.assert_frame_equal(mine.reset_index(drop=True), pd.read_csv(alone))
    assert not np.allclose(*(table[table.individual == n][list(skel.angles)].to_numpy()
                             for n in NAMES))  # two different animals


def test_one_animal_keeps_todays_angles_table(tmp_path):
    """The sample project (one animal): angles without an individual column, as before."""
    root = tmp_path / "one"
    sample_project(root, calibrate=False, render=False, sessions=("A",))
    run_project(root)
    table = pd.read_csv(root / "A/angles/A.csv")
    assert "individual" not in table.columns and table.columns[-1] == "fnum"
    assert len(table) == 150


def test_render_draws_all_animals_together(tmp_path, monkeypatch):
    calls: list = []
    mod = types.ModuleType("viz3d")

    def render_movie(points3d, skeleton, path, fps=30.0, rig=None):
        calls.append(("movie", points3d))
        Path(path).write_bytes(b"movie")

    def export_html(points3d, skeleton, path, rig=None):
        calls.append(("html", points3d))
        Path(path).write_text("<html></html>")

    mod.render_movie, mod.export_html = render_movie, export_html
    monkeypatch.setitem(sys.modules, "viz3d", mod)
    root = _two_mice(tmp_path / "p", render={"enabled": True})
    assert run_project(root)["render"]["ran"] == ["render:A"]
    (kind, movie), (_, html) = calls
    assert kind == "movie" and isinstance(movie, Poses) and movie.individuals == NAMES
    assert movie.position.shape == (N, 2, 16, 3) and html.individuals == NAMES
    assert (root / "A/videos-3d/A.mp4").read_bytes() == b"movie"


@pytest.mark.slow
def test_render_two_animals_with_viz3d(tmp_path):
    """The real viz3d: one movie and one HTML scene of both animals."""
    viz3d = pytest.importorskip("viz3d")
    root = _two_mice(tmp_path / "r", lowpass=False, render={"enabled": True})
    try:
        summary = run_project(root)
    except Exception as exc:  # no off-screen OpenGL on this machine
        if type(exc).__name__ == "DisplayError":
            pytest.skip(str(exc))
        raise
    assert summary["render"]["ran"] == ["render:A"] and viz3d
    assert (root / "A/videos-3d/A.mp4").stat().st_size > 1000
    assert "<html" in (root / "A/videos-3d/A.html").read_text()[:2000].lower()


# --- triangulation.individuals ---------------------------------------------------------
def test_config_key_is_optional_validated_and_in_the_template(tmp_path):
    cfg = init_project(tmp_path / "p")
    text = cfg.read_text()
    assert "# individuals = 2" in text  # unset: commented out
    assert load_config(cfg)["triangulation"]["individuals"] is None
    cfg = init_project(tmp_path / "q", individuals=3)
    assert "\nindividuals = 3\n" in cfg.read_text()
    assert load_config(cfg)["triangulation"]["individuals"] == 3
    with pytest.raises(InputError, match=r"triangulation\.individuals must be >= 1, got 0"):
        init_project(tmp_path / "r", individuals=0)
    assert not (tmp_path / "r" / "config.toml").exists()


def test_init_command_writes_individuals(tmp_path, capsys):
    from tripose.cli import main

    main(["init", str(tmp_path / "p"), "--individuals", "2"])
    assert load_config(tmp_path / "p")["triangulation"]["individuals"] == 2


def test_individuals_reach_the_triangulate_step_only_when_set(tmp_path, monkeypatch):
    import triangulate.files as files

    real, seen = files.triangulate_files, []
    assert "individuals" in inspect.signature(real).parameters

    def spy(*args, **kwargs):
        seen.append(kwargs.get("individuals", "absent"))
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "triangulate_files", spy)
    root = _two_mice(tmp_path / "p")
    assert run_project(root, steps="triangulate")["triangulate"]["ran"] == ["triangulate:A"]
    assert seen == ["absent"]  # unset: not passed (as many as the 2D files name)
    before = (root / "A/.tripose/triangulate.json").read_text()
    assert run_project(root, steps="triangulate")["triangulate"]["ran"] == []
    text = (root / "config.toml").read_text().replace("# individuals = 2", "individuals = 2")
    (root / "config.toml").write_text(text)
    assert run_project(root, steps="triangulate")["triangulate"]["ran"] == ["triangulate:A"]
    assert seen == ["absent", 2]  # set: passed on, and a new fingerprint re-ran the step
    assert (root / "A/.tripose/triangulate.json").read_text() != before
    assert load_poses(root / "A/pose-3d/A.csv", format="anipose").individuals == NAMES


def test_identity_key_reaches_the_triangulate_step(tmp_path):
    root = _two_mice(tmp_path / "p", triangulation={"identity": "no"})
    assert run_project(root, steps="triangulate")["triangulate"]["ran"] == ["triangulate:A"]
    # names not taken as identities: the animals are named in order of first appearance
    assert load_poses(root / "A/pose-3d/A.csv", format="anipose").individuals == [
        "ind1", "ind2"]
    with pytest.raises(InputError, match=r"triangulation\.identity"):
        _two_mice(tmp_path / "q", triangulation={"identity": "maybe"})
