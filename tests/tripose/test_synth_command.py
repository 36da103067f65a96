"""`tripose synth`: the command over :func:`synth.make_session`, its options and usage errors."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from synth import make_session
from tripose.cli import main

GT_FILES = ["calibration.toml", "points3d.csv", "board_corners.npz", "detections.npz"]


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_command_writes_what_make_session_writes(tmp_path):
    cli = tmp_path / "cli"
    assert main(["synth", str(cli), "--cameras", "2", "--frames", "6",
                 "--calibration-frames", "3", "--size", "160x120", "--seed", "5",
                 "--noise-px", "0.5", "--outlier-rate", "0.1", "--crf", "20"]) == 0
    api = make_session(tmp_path / "api", n_cams=2, n_frames=6, n_calibration_frames=3,
                       size=(160, 120), seed=5, noise_px=0.5, outlier_rate=0.1, crf=20).root
    for name in GT_FILES:
        assert digest(cli / "ground_truth" / name) == digest(api / "ground_truth" / name)
    for name in ("board.toml", "skeleton.toml", "session.json"):
        assert (cli / name).read_text() == (api / name).read_text()
    for sub in ("calibration", "videos"):
        assert sorted(p.name for p in (cli / sub).iterdir()) == ["cam0.mp4", "cam1.mp4"]


@pytest.mark.parametrize(
    "args, match",
    [
        (["--cameras", "1"], "--cameras must be between 2 and 16"),
        (["--cameras", "17"], "--cameras must be between 2 and 16"),
        (["--frames", "0"], "--frames must be at least 1"),
        (["--size", "640by480"], "--size must look like"),
        (["--outlier-rate", "1.5"], "--outlier-rate"),
    ],
)
def test_impossible_options_fail_clearly(tmp_path, args, match):
    proc = subprocess.run([sys.executable, "-m", "tripose", "synth", str(tmp_path / "x"),
                           *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert match in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "x").exists()


def test_cli_help_and_version():
    proc = subprocess.run([sys.executable, "-m", "tripose", "--help"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "synth" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "tripose", "--version"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("tripose ")


def test_usage_errors_without_traceback():
    for args in (["synth"], ["--bogus"], ["calibrate", "a.mp4"]):
        proc = subprocess.run([sys.executable, "-m", "tripose", *args], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 2, args
        assert "Traceback" not in proc.stderr and "Error" in proc.stderr


def test_animals_writes_truth_per_individual_and_multi_animal_detections(tmp_path):
    import json

    import cv2
    import numpy as np

    from calibration import load_rig
    from poses import load_poses

    out = tmp_path / "mice"
    assert main(["synth", str(out), "--animals", "2", "--cameras", "2", "--frames", "4",
                 "--calibration-frames", "2", "--size", "160x120", "--identity"]) == 0
    manifest = json.loads((out / "session.json").read_text())
    assert manifest["animals"] == 2 and manifest["identity"] is True
    rig = load_rig(out / "ground_truth" / "calibration.toml")
    truth = [load_poses(out / "ground_truth" / f"points3d_mouse{k}.csv") for k in (1, 2)]
    gt2d = load_poses(out / "ground_truth" / "pose2d" / "cam0.h5")
    assert gt2d.individuals == ["mouse1", "mouse2"]
    for k, t in enumerate(truth):  # the 2D truth is the projection of the 3D truth
        proj = rig.project(t.position[:, 0])[0]
        seen = np.isfinite(gt2d.position[:, k, :, 0])
        np.testing.assert_allclose(gt2d.position[:, k][seen], proj[seen], atol=1e-6)
    det = load_poses(out / "pose2d" / "cam1.h5")
    assert det.individuals[:2] == ["mouse1", "mouse2"] and det.n_individuals == 4
    for sub in ("calibration", "videos"):
        cap = cv2.VideoCapture(str(out / sub / "cam0.mp4"))
        assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 160
        cap.release()
    # without videos: truth and detections only
    assert main(["synth", str(tmp_path / "fast"), "--animals", "3", "--cameras", "2",
                 "--frames", "3", "--no-videos"]) == 0
    assert not (tmp_path / "fast" / "videos").exists()
    assert (tmp_path / "fast" / "ground_truth" / "points3d_mouse3.csv").exists()


@pytest.mark.parametrize("args, match", [
    (["--animals", "0"], "--animals must be between 1 and 12"),
    (["--animals", "13"], "--animals must be between 1 and 12"),
    (["--animals", "2", "--false-positives", "1.5"], "--false-positives must be within"),
])
def test_animals_bad_options(tmp_path, capsys, args, match):
    assert main(["synth", str(tmp_path / "x"), *args]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
