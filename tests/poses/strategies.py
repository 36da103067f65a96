"""Hypothesis strategies for :class:`poses.Poses`, shared by every format's round-trip test."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from poses import Poses

NAME = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,7}", fullmatch=True)


def names(n: int):
    """``n`` distinct plain names (letters, digits, underscores)."""
    return st.lists(NAME, min_size=n, max_size=n, unique=True)


@st.composite
def poses(draw, n_space: int = 2, n_individuals: int = 1, max_frames: int = 6,
          max_keypoints: int = 4, confidence: bool = True, default_individuals: bool = False,
          scale: float = 1000.0):
    """Random poses: finite values in [-scale, scale], some NaN (missing) points.

    Parameters
    ----------
    n_space : 2 or 3
    n_individuals : int
    confidence : bool
        Random confidence in [0, 1] (NaN where the point is missing); else the default.
    default_individuals : bool
        Name the individuals ``ind1 ...`` (formats that cannot store names).
    """
    n_frames = draw(st.integers(1, max_frames))
    n_kp = draw(st.integers(1, max_keypoints))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-scale, scale, (n_frames, n_individuals, n_kp, n_space))
    missing = rng.random((n_frames, n_individuals, n_kp)) < 0.2
    pos[missing] = np.nan
    conf = None
    if confidence:
        conf = rng.random((n_frames, n_individuals, n_kp))
        conf[missing] = np.nan
    inds = None if default_individuals else draw(names(n_individuals))
    return Poses(pos, conf, keypoints=draw(names(n_kp)), individuals=inds)
