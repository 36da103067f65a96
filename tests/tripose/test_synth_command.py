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
