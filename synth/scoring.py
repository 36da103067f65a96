"""Scoring multi-animal 3D tracks against the synthetic ground truth.

Identity switches are counted as in the MOT benchmarks (IDSW): every frame, true animals
are matched to reconstructed individuals (Hungarian on the distance of their centroids,
within ``max_distance``); a switch is a true animal matched to another individual than the
last time it was matched.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["TrackScore", "match_frames", "score_tracks"]


@dataclass
class TrackScore:
    """How well reconstructed individuals follow the true animals.

    Attributes
    ----------
    id_switches : int
        MOT's IDSW over the recording.
    switch_frames : list of (frame, true animal, from individual, to individual)
    median_error : float
        Median 3D distance (rig units) of reconstructed keypoints to the truth (matched).
    keypoint_median_error : (n_keypoints,) per keypoint
    coverage : float
        Fraction of the truly visible keypoints (seen by at least 2 cameras) reconstructed in
        the matched individual.
    matched : (n_frames, n_true) int
        The individual matched to every true animal (-1 none).
    """

    id_switches: int
    switch_frames: list
    median_error: float
    keypoint_median_error: np.ndarray
    coverage: float
    matched: np.ndarray


def _nanmedian(a: np.ndarray, axis: int) -> np.ndarray:
    """``np.nanmedian`` without the warning for all-NaN slices (they give NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(a, axis=axis)


def _centroids(X: np.ndarray) -> np.ndarray:
    return _nanmedian(X, axis=-2)


def match_frames(truth: np.ndarray, estimate: np.ndarray, max_distance: float) -> np.ndarray:
    """Per frame, the estimated individual matched to every true animal.

    Parameters
    ----------
    truth : (n_frames, n_true, n_keypoints, 3)
    estimate : (n_frames, n_est, n_keypoints, 3), NaN where missing
    max_distance : float
        Largest centroid distance of a match (rig units).

    Returns
    -------
    matched : (n_frames, n_true) int, -1 where unmatched
    """
    ct, ce = _centroids(truth), _centroids(estimate)
    d = np.linalg.norm(ct[:, :, None] - ce[:, None], axis=-1)
    d = np.where(np.isfinite(d), d, 1e9)
    out = np.full(d.shape[:2], -1)
    for f in range(len(d)):
        r, c = linear_sum_assignment(d[f])
        ok = d[f, r, c] <= max_distance
        out[f, r[ok]] = c[ok]
    return out


def score_tracks(truth: np.ndarray, estimate: np.ndarray, visible: np.ndarray | None = None,
                 max_distance: float = 30.0) -> TrackScore:
    """Identity switches, 3D error and coverage of reconstructed individuals.

    Parameters
    ----------
    truth : (n_frames, n_true, n_keypoints, 3)
    estimate : (n_frames, n_est, n_keypoints, 3)
    visible : (n_cams, n_frames, n_true, n_keypoints) bool, optional
        Which keypoints each camera truly sees; coverage counts those seen by 2 or more.
    max_distance : float
        Largest centroid distance of a match, rig units.

    Returns
    -------
    TrackScore
    """
    matched = match_frames(truth, estimate, max_distance)
    switches = []
    last = np.full(truth.shape[1], -1)
    for f in range(len(matched)):
        for a, m in enumerate(matched[f]):
            if m < 0:
                continue
            if last[a] >= 0 and m != last[a]:
                switches.append((f, a, int(last[a]), int(m)))
            last[a] = m
    idx = np.maximum(matched, 0)
    est = np.take_along_axis(estimate, idx[:, :, None, None], axis=1)
    est = np.where((matched >= 0)[:, :, None, None], est, np.nan)
    err = np.linalg.norm(est - truth, axis=-1)  # (n_frames, n_true, n_kp)
    per_kp = _nanmedian(err.reshape(-1, err.shape[-1]), axis=0)
    target = np.ones(err.shape, bool) if visible is None else visible.sum(0) >= 2
    coverage = float((np.isfinite(err) & target).sum() / max(target.sum(), 1))
    return TrackScore(id_switches=len(switches), switch_frames=switches,
                      median_error=float(np.nanmedian(err)), keypoint_median_error=per_kp,
                      coverage=coverage, matched=matched)
