"""``tripose triangulate`` with several animals: DeepLabCut multi-animal files with and
without identity, OpenPose JSON folders, the report, and bad input that warns instead of
crashing — checked against the synthetic session's ground truth."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from calibration import CameraRig
from poses import load_poses, save_poses
from poses.io.openpose import save_openpose
from synth.scoring import score_tracks
from synth.social import make_social_session
from tripose.cli import main


@pytest.fixture(scope="module")
def social(tmp_path_factory):
    root = tmp_path_factory.mktemp("social")
    return make_social_session(root / "s", n_animals=3, n_cams=4, n_frames=200, seed=2,
                               render=False)


@pytest.fixture(scope="module")
def social_id(tmp_path_factory):
    root = tmp_path_factory.mktemp("social_id")
    return make_social_session(root / "s", n_animals=3, n_cams=4, n_frames=200, seed=4,
                               identity=True, identity_swap_rate=0.05, render=False)


def _run(session, out, *extra, inputs=None):
    root = session.root
    inputs = inputs or [str(p) for p in sorted((root / "pose2d").glob("*.h5"))]
    return main(["triangulate", "-c", str(root / "ground_truth" / "calibration.toml"),
                 "-o", str(out), *extra, *inputs])


def test_without_identity_one_csv_per_individual_and_a_report(social, tmp_path, capsys):
    code = _run(social, tmp_path / "out.csv", "--report", str(tmp_path / "r.json"))
    printed = capsys.readouterr()
    assert code == 0, printed.err
    names = ["ind1", "ind2", "ind3"]
    summary = [line.strip() for line in printed.out.splitlines() if line.startswith("  ind")]
    assert [line.split(":")[0] for line in summary] == names  # one line per individual
    assert all("of keypoints" in line and "identity confidence" in line for line in summary)
    per = [load_poses(tmp_path / f"out_{n}.csv") for n in names]
    X = np.stack([p.position[:, 0] for p in per], axis=1)
    score = score_tracks(social.points3d, X, social.visible)
    assert score.id_switches == 0 and score.coverage > 0.95 and score.median_error < 2.0
    report = json.loads((tmp_path / "r.json").read_text())
    assert [i["name"] for i in report["individuals"]] == names
    for entry in report["individuals"]:
        assert entry["frames_reconstructed"] == 1.0
        assert 0 < entry["reprojection_error_px"] < 3
        assert 0 < entry["identity_confidence"]["mean"] <= 1
        assert isinstance(entry["suspected_swaps"], list)
    assert report["identity"]["source"] == "geometry"
    assert report["warnings"] == []
    # every frame's identity confidence per individual, beside the report
    per_frame = pd.read_csv(tmp_path / "r_identity.csv")
    assert list(per_frame.columns) == ["frame", *names] and len(per_frame) == 200
    assert ((per_frame[names] >= 0) & (per_frame[names] <= 1)).all().all()
    for entry in report["individuals"]:
        assert entry["identity_confidence"]["mean"] == pytest.approx(
            per_frame[entry["name"]].mean(), abs=1e-3)
    # every format of the data model holds them all in one file, as the CSVs
    assert _run(social, tmp_path / "all.nc") == 0
    both = load_poses(tmp_path / "all.nc")
    assert both.individuals == names
    np.testing.assert_allclose(both.position, X[:, :, :, :], atol=1e-4)


def test_identity_inputs_keep_their_names_and_the_truth(social_id, tmp_path, capsys):
    code = _run(social_id, tmp_path / "out.parquet", "--report", str(tmp_path / "r.json"))
    assert code == 0, capsys.readouterr().err
    out = load_poses(tmp_path / "out.parquet")
    assert out.individuals == ["mouse1", "mouse2", "mouse3"]
    truth = np.stack([load_poses(social_id.root / "ground_truth" / f"points3d_{n}.csv")
                      .position[:, 0] for n in out.individuals], axis=1)
    score = score_tracks(truth, out.position, social_id.visible)
    assert score.id_switches == 0 and score.coverage > 0.95 and score.median_error < 2.0
    assert (score.matched == np.arange(3)).all()  # output mouseK is the true mouseK
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["identity"]["source"] == "labels"
    assert report["identity"]["overruled_label_runs"] > 0  # the 5% swapped labels


def test_sleap_tracks_name_the_individuals(social_id, tmp_path, capsys):
    """SLEAP analysis files with several tracks (identity-labelled, swapped now and then)."""
    inputs = []
    for cam in social_id.rig.names:
        p = load_poses(social_id.root / "pose2d" / f"{cam}.h5")
        path = save_poses(p, tmp_path / f"{cam}.analysis.h5", format="sleap")
        assert load_poses(path).source_software == "SLEAP"
        inputs.append(f"{cam}={path}")
    code = _run(social_id, tmp_path / "out.nc", inputs=inputs)
    assert code == 0, capsys.readouterr().err
    out = load_poses(tmp_path / "out.nc")
    assert out.individuals == ["mouse1", "mouse2", "mouse3"]
    truth = np.stack([load_poses(social_id.root / "ground_truth" / f"points3d_{n}.csv")
                      .position[:, 0] for n in out.individuals], axis=1)
    score = score_tracks(truth, out.position, social_id.visible)
    assert score.id_switches == 0 and (score.matched == np.arange(3)).all()


def test_openpose_folders_in_metres(social, tmp_path, capsys):
    """Pose2Sim's input: JSON folders, several people per frame in arbitrary order with
    false positives, a rig in metres."""
    rig = social.rig
    cams = []
    for cam in rig.cameras:
        c = cam.copy()
        c.tvec = cam.tvec / 1000.0
        cams.append(c)
    CameraRig(cams, units="m").save(tmp_path / "calib_m.toml")
    inputs = []
    for cam in rig.names:
        p = load_poses(social.root / "pose2d" / f"{cam}.h5")
        save_openpose(p, tmp_path / "json" / cam)
        inputs.append(f"{cam}={tmp_path / 'json' / cam}")
    code = main(["triangulate", "-c", str(tmp_path / "calib_m.toml"), "-s",
                 str(social.root / "skeleton.toml"), "-o", str(tmp_path / "out.parquet"),
                 "--individuals", "3", *inputs])
    assert code == 0, capsys.readouterr().err
    out = load_poses(tmp_path / "out.parquet")
    assert out.units == "m" and out.n_individuals == 3
    score = score_tracks(social.points3d / 1000.0, out.position, social.visible,
                         max_distance=0.03)
    assert score.id_switches == 0 and score.coverage > 0.95 and score.median_error < 0.002


def test_more_animals_than_asked_warns_and_keeps_the_others(social, tmp_path, capsys):
    code = _run(social, tmp_path / "out.parquet", "--individuals", "2", "--report",
                str(tmp_path / "r.json"))
    err = capsys.readouterr().err
    assert code == 0, err
    assert "more animals than --individuals 2" in err
    out = load_poses(tmp_path / "out.parquet")
    assert out.n_individuals == 2
    score = score_tracks(social.points3d, out.position, social.visible)
    assert score.median_error < 2.0
    report = json.loads((tmp_path / "r.json").read_text())
    assert any("more animals" in w for w in report["warnings"])


def test_an_individual_in_one_view_and_frames_without_association(social_id, tmp_path,
                                                                   capsys):
    inputs = []
    for c, cam in enumerate(social_id.rig.names):
        p = load_poses(social_id.root / "pose2d" / f"{cam}.h5")
        pos = p.position.copy()
        if c > 0:  # mouse3 labelled in cam0 only
            pos[:, p.individuals.index("mouse3")] = np.nan
        if c > 0:  # frames 50-59: only cam0 sees anything
            pos[50:60] = np.nan
        inputs.append(f"{cam}={save_poses(p.replace(position=pos), tmp_path / f'{cam}.h5')}")
    code = _run(social_id, tmp_path / "out.parquet", "--identity", "yes", "--report",
                str(tmp_path / "r.json"), inputs=inputs)
    err = capsys.readouterr().err
    assert code == 0, err
    report = json.loads((tmp_path / "r.json").read_text())
    warnings = " ".join(report["warnings"])
    assert "frames 50-59" in warnings
    out = load_poses(tmp_path / "out.parquet")
    assert {"mouse1", "mouse2"} <= set(out.individuals)
    assert not np.isfinite(out.position[50:60]).any()
    for name in ("mouse1", "mouse2"):
        truth = load_poses(social_id.root / "ground_truth" / f"points3d_{name}.csv")
        k = out.individuals.index(name)
        err3 = np.linalg.norm(out.position[:, k] - truth.position[:, 0], axis=-1)
        assert np.nanmedian(err3) < 2.0


@pytest.mark.parametrize("args, needle", [
    (["--individuals", "0"], "--individuals must be at least 1"),
    (["--identity", "maybe"], "--identity must be one of"),
])
def test_bad_options_are_one_line(social, tmp_path, capsys, args, needle):
    code = _run(social, tmp_path / "out.csv", *args)
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_nothing_associable_anywhere_is_one_line(social, tmp_path, capsys):
    inputs = []
    for c, cam in enumerate(social.rig.names):
        p = load_poses(social.root / "pose2d" / f"{cam}.h5")
        pos = p.position if c == 0 else np.full_like(p.position, np.nan)
        inputs.append(f"{cam}={save_poses(p.replace(position=pos), tmp_path / f'{cam}.h5')}")
    code = _run(social, tmp_path / "out.csv", inputs=inputs)
    err = capsys.readouterr().err
    assert code == 2 and "no animal could be associated" in err and "Traceback" not in err
    assert not list(tmp_path.glob("out*"))


@pytest.mark.parametrize("kwargs, needle", [
    ({"lowpass_hz": 80.0, "fps": 100.0}, "fps/2 = 50.0"),
    ({"axes": [("x", "nosuch", "snout")]}, "unknown bodypart 'nosuch'"),
    ({"reference_point": "nosuch"}, "unknown bodypart 'nosuch'"),
    ({"axes": [("x", "tail_base", "snout"), ("x", "neck", "snout")]}, "given twice"),
])
def test_post_steps_are_checked_before_association_and_triangulation(social, tmp_path,
                                                                     monkeypatch, kwargs,
                                                                     needle):
    import triangulate.api
    import triangulate.multi
    from poses.errors import InputError
    from triangulate.files import triangulate_files

    def must_not_run(*a, **k):
        raise AssertionError("the expensive work ran before the options were checked")

    monkeypatch.setattr(triangulate.multi, "associate", must_not_run)
    monkeypatch.setattr(triangulate.api, "triangulate", must_not_run)
    inputs = {p.stem: p for p in sorted((social.root / "pose2d").glob("*.h5"))}
    with pytest.raises(InputError, match=needle):
        triangulate_files(social.root / "ground_truth" / "calibration.toml", inputs,
                          tmp_path / "out.parquet", **kwargs)
    assert not list(tmp_path.iterdir())


def test_outputs_never_write_over_inputs_or_each_other(social, tmp_path, capsys):
    h5 = sorted((social.root / "pose2d").glob("*.h5"))
    before = {p: p.read_bytes() for p in h5}
    skel = str(social.root / "skeleton.toml")
    cases = [
        (["-o", str(h5[0])], "-o", "would write over the input"),
        (["-o", str(tmp_path / "o.csv"), "-s", skel, "--angles", str(tmp_path / "o.csv")],
         "--angles", "is the 3D output too"),
        (["-o", str(tmp_path / "o.csv"), "--report", str(tmp_path / "o.csv")], "--report",
         "is another output too"),
        (["-o", str(tmp_path / "o.csv"), "--report", str(h5[1])], "--report",
         "would write over the input"),
        (["-o", str(tmp_path / "r_identity.csv"), "--report", str(tmp_path / "r.json")],
         "--report", "is another output too"),
    ]
    root = social.root
    for args, what, needle in cases:
        code = main(["triangulate", "-c", str(root / "ground_truth" / "calibration.toml"),
                     *args, *map(str, h5)])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith(f"error: {what} ") and needle in err, (args, err)
    assert {p: p.read_bytes() for p in h5} == before
    assert not list(tmp_path.iterdir())
