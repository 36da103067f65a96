"""Fixtures for viz3d tests: the synthetic sample session, loaded once.

Off-screen rendering: without a display VTK must use its EGL window; viz3d sets
``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow`` itself before importing pyvista, and we
make the same choice here (with viz3d's own function) so that any test importing pyvista
first gets the same.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from viz3d._offscreen import _configure_offscreen

_configure_offscreen()

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="session")
def sample():
    """rig, points3d (150, 16, 3) mm, skeleton, videos, points2d (4, 150, 16, 2), scores."""
    from calibration import load_rig
    from synth import load_points3d_csv
    from tests.fixtures.io2d import read_2d as from_dlc_file
    from triangulate import load_skeleton

    rig = load_rig(SAMPLE / "ground_truth" / "calibration.toml")
    skeleton = load_skeleton(SAMPLE / "skeleton.toml")
    points3d, bodyparts = load_points3d_csv(SAMPLE / "ground_truth" / "points3d.csv",
                                            skeleton.bodyparts)
    det = [from_dlc_file(SAMPLE / "pose2d" / f"{name}.h5") for name in rig.names]
    return {
        "rig": rig,
        "points3d": points3d,
        "skeleton": skeleton,
        "videos": [SAMPLE / "videos" / f"{name}.mp4" for name in rig.names],
        "points2d": np.stack([d[0] for d in det]),
        "scores": np.stack([d[1] for d in det]),
        "board": SAMPLE / "board.toml",
        "board_corners": SAMPLE / "ground_truth" / "board_corners.npz",
    }
