"""Fixtures of the triangulation tests: seeded synthetic scenes (see ``synthetic.py``)."""

from __future__ import annotations

import pytest

from .synthetic import make_scene


@pytest.fixture(scope="session")
def scene():
    """400 frames, 4 cameras, 1 px noise, 10% occlusions, ~7% confident outliers."""
    return make_scene(n_frames=400, n_cams=4, seed=3)


@pytest.fixture(scope="session")
def small_scene():
    """60 frames, 4 cameras."""
    return make_scene(n_frames=60, n_cams=4, seed=5)
