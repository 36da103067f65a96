"""Simulated 2D detector output: ground truth degraded the way DeepLabCut output is.

Visible keypoints get pixel noise and high likelihood; occluded ones a wider error and low
likelihood; keypoints outside the image a clipped guess with near-zero likelihood; and a
fraction of visible ones become *confident outliers* in short bursts: swapped with a
neighbouring digit, or a jump to the background.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["SimulatedDetections", "simulate_detections", "neighbour_swaps", "burst_mask"]


@dataclass
class SimulatedDetections:
    """Detector output and what was done to it.

    Attributes
    ----------
    points2d : (n_cams, n_frames, n_joints, 2) pixels
    scores : (n_cams, n_frames, n_joints) in [0, 1]
    outlier : (n_cams, n_frames, n_joints) bool
        Confident outliers (swaps and jumps).
    occluded : (n_cams, n_frames, n_joints) bool
        In the image but hidden behind another body part.
    outside : (n_cams, n_frames, n_joints) bool
        Projected outside the image.
    """

    points2d: np.ndarray
    scores: np.ndarray
    outlier: np.ndarray
    occluded: np.ndarray
    outside: np.ndarray


def neighbour_swaps(bodyparts: Sequence[str]) -> np.ndarray:
    """For each joint, a joint it is easily confused with (its neighbouring digit), or itself.

    Parameters
    ----------
    bodyparts : sequence of str
        Names like ``d2_tip``; digits ``dN_*`` are paired with ``d(N+1)_*`` or ``d(N-1)_*``.

    Returns
    -------
    partner : (n_joints,) int
    """
    index = {b: i for i, b in enumerate(bodyparts)}
    partner = np.arange(len(bodyparts))
    for i, b in enumerate(bodyparts):
        if len(b) > 2 and b[0] == "d" and b[1].isdigit() and "_" in b:
            n, rest = int(b[1]), b.split("_", 1)[1]
            for m in (n + 1, n - 1):
                j = index.get(f"d{m}_{rest}")
                if j is not None:
                    partner[i] = j
                    break
    return partner


def burst_mask(rng: np.random.Generator, shape: tuple[int, int, int], rate: float,
               max_len: int = 5) -> np.ndarray:
    """Boolean mask over (cams, frames, joints) with about ``rate`` True in runs of 1-max_len.

    Parameters
    ----------
    rng : numpy Generator
    shape : (n_cams, n_frames, n_joints)
    rate : float
        Expected fraction of True.
    max_len : int
        Longest run, frames.

    Returns
    -------
    mask : (n_cams, n_frames, n_joints) bool
    """
    n_cams, n_frames, n_joints = shape
    mean_len = (1 + max_len) / 2
    starts = rng.random(shape) < rate / mean_len
    lengths = rng.integers(1, max_len + 1, size=shape)
    mask = np.zeros(shape, bool)
    # spread each start over its run length, vectorized over run offsets
    for k in range(min(max_len, n_frames)):  # a run cannot outlast the recording
        shifted = starts & (lengths > k)
        if k:
            shifted = np.concatenate([np.zeros((n_cams, k, n_joints), bool),
                                      shifted[:, :-k]], axis=1)
        mask |= shifted
    return mask


def simulate_detections(
    truth2d: np.ndarray,
    visible: np.ndarray,
    image_size: tuple[int, int],
    rng: np.random.Generator,
    bodyparts: Sequence[str],
    noise_px: float = 1.0,
    outlier_rate: float = 0.05,
) -> SimulatedDetections:
    """Degrade exact projections into realistic detector output.

    Parameters
    ----------
    truth2d : (n_cams, n_frames, n_joints, 2) pixels
        Exact projections (finite everywhere, also outside the image).
    visible : (n_cams, n_frames, n_joints) bool
        In the image and not occluded.
    image_size : (width, height) pixels
    rng : numpy Generator
    bodyparts : sequence of n_joints str
        Used to pick swap partners (neighbouring digits).
    noise_px : float
        Standard deviation of the pixel noise on visible points (10% get twice that).
    outlier_rate : float
        Fraction of visible points turned into confident outliers.

    Returns
    -------
    SimulatedDetections
    """
    t = np.asarray(truth2d, dtype=np.float64)
    vis = np.asarray(visible, bool)
    n_cams, n_frames, n_joints = vis.shape
    w, h = image_size
    with np.errstate(invalid="ignore"):
        inside = ((t[..., 0] >= 0) & (t[..., 0] <= w - 1) & (t[..., 1] >= 0)
                  & (t[..., 1] <= h - 1))
    occluded = inside & ~vis
    outside = ~inside

    sigma = np.where(rng.random(vis.shape) < 0.1, 2.0, 1.0) * noise_px
    pts = t + rng.normal(0.0, 1.0, t.shape) * sigma[..., None]
    scores = np.clip(rng.beta(12, 1.2, vis.shape), 0, 1)

    # occluded: the network guesses near the right place with low confidence
    occ_pts = t + rng.normal(0.0, 4.0 * max(noise_px, 0.5), t.shape)
    pts = np.where(occluded[..., None], occ_pts, pts)
    scores = np.where(occluded, rng.uniform(0.02, 0.45, vis.shape), scores)

    # outside the image: a guess at the border, near-zero confidence
    clipped = np.stack([np.clip(t[..., 0], 0, w - 1), np.clip(t[..., 1], 0, h - 1)], -1)
    pts = np.where(outside[..., None], clipped + rng.normal(0, 3.0, t.shape), pts)
    scores = np.where(outside, rng.uniform(0.0, 0.1, vis.shape), scores)

    # confident outliers in short bursts: swaps with a neighbouring digit or background jumps
    outlier = burst_mask(rng, vis.shape, outlier_rate) & vis
    partner = neighbour_swaps(bodyparts)
    swapped = t[:, :, partner] + rng.normal(0.0, noise_px, t.shape)
    can_swap = (partner != np.arange(n_joints))[None, None, :]
    kind_swap = (rng.random(vis.shape) < 0.5) & can_swap
    angle = rng.uniform(0, 2 * np.pi, vis.shape)
    radius = rng.uniform(25.0, 0.35 * min(w, h), vis.shape)
    jump = t + np.stack([np.cos(angle), np.sin(angle)], -1) * radius[..., None]
    jump = np.stack([np.clip(jump[..., 0], 0, w - 1), np.clip(jump[..., 1], 0, h - 1)], -1)
    bad = np.where(kind_swap[..., None], swapped, jump)
    pts = np.where(outlier[..., None], bad, pts)
    scores = np.where(outlier, rng.uniform(0.6, 0.98, vis.shape), scores)
    return SimulatedDetections(points2d=pts, scores=scores, outlier=outlier, occluded=occluded,
                               outside=outside)
