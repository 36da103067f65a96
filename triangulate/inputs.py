"""The stacked 2D inputs of a triangulation: every camera's keypoints in the rig's order."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Inputs"]


@dataclass
class Inputs:
    """Every camera's 2D keypoints, stacked in the rig's camera order.

    Attributes
    ----------
    points2d : (n_cams, n_frames, n_individuals * n_keypoints, 2) pixels (float32 unless
        asked otherwise); NaN for missing points and for rig cameras without an input
    scores : (n_cams, n_frames, n_individuals * n_keypoints) in [0, 1]; 0 where missing
    keypoints : list of n_keypoints str
    individuals : list of n_individuals str
    fps : float or None
        The inputs' frame rate when they state one (and agree).
    """

    points2d: np.ndarray
    scores: np.ndarray
    keypoints: list[str]
    individuals: list[str]
    fps: float | None = None
