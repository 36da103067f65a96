"""Benchmark data: the synthetic forelimb scenes of the tests, and cheap large recordings.

``large_recording`` builds long recordings chunk by chunk straight into float32 arrays (no
full float64 copy), so that generating an hour of data does not dominate peak memory.
"""

from __future__ import annotations

import numpy as np

from poses.skeleton import Skeleton
from synth.forelimb import FORELIMB_SKELETON, simulate_reach
from synth.rig import make_rig
from tests.triangulate.synthetic import make_scene

__all__ = ["make_scene", "large_recording", "thresholded", "skeleton20"]

_EXTRA = [("shoulder", "elbow"), ("elbow", "wrist"), ("wrist", "palm"), ("palm", "d3_tip")]


def skeleton20() -> Skeleton:
    """The forelimb skeleton plus 4 midpoint markers (20 joints), midpoints on weak limbs."""
    bp = FORELIMB_SKELETON.bodyparts + [f"mid_{a}_{b}" for a, b in _EXTRA]
    weak = [(a, f"mid_{a}_{b}") for a, b in _EXTRA]
    return Skeleton(bodyparts=bp, limbs=FORELIMB_SKELETON.limbs, weak_limbs=weak)


def _points20(X16: np.ndarray) -> np.ndarray:
    idx = {b: i for i, b in enumerate(FORELIMB_SKELETON.bodyparts)}
    mids = [0.5 * (X16[:, idx[a]] + X16[:, idx[b]]) for a, b in _EXTRA]
    return np.concatenate([X16, np.stack(mids, axis=1)], axis=1)


def large_recording(n_frames: int, n_cams: int = 6, n_joints: int = 20, seed: int = 0,
                    noise_px: float = 1.0, outlier_rate: float = 0.05, block: int = 20000):
    """A long recording: ``(rig, points2d float32, scores float32, truth float32)``.

    Truth is the forelimb reach (16 joints; 20 with midpoint markers; fewer joints take the
    first ones). Detections: Gaussian noise, 5% confident background jumps, 5% dropped.
    """
    rng = np.random.default_rng(seed)
    rig = make_rig(n_cams, seed=seed)
    p = np.empty((n_cams, n_frames, n_joints, 2), np.float32)
    s = np.empty((n_cams, n_frames, n_joints), np.float32)
    truth = np.empty((n_frames, n_joints, 3), np.float32)
    for start in range(0, n_frames, block):
        stop = min(start + block, n_frames)
        X = _points20(simulate_reach(stop - start, rng))[:, :n_joints]
        if n_joints > 20:
            raise ValueError("at most 20 joints")
        truth[start:stop] = X
        q = rig.project(X) + rng.normal(0, noise_px, (n_cams, stop - start, n_joints, 2))
        jump = rng.random(q.shape[:3]) < outlier_rate
        q[jump] += rng.uniform(-150, 150, (int(jump.sum()), 2))
        drop = rng.random(q.shape[:3]) < 0.05
        q[drop] = np.nan
        p[:, start:stop] = q
        s[:, start:stop] = np.where(drop, 0.0, rng.uniform(0.6, 1.0, q.shape[:3]))
    return rig, p, s, truth


def thresholded(points2d: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Detections with low scores set to NaN (what aniposelib is given)."""
    p = np.array(points2d, dtype=np.float64)
    p[scores < threshold] = np.nan
    return p
