"""Synthetic triangulation data: a forelimb reaching in a ring rig, with realistic detections.

Shared by the triangulation tests and ``benchmarks/triangulate``. Truth comes from
:func:`synth.forelimb.simulate_reach` (16 joints, 15 rigid limbs, mm); detections from
:func:`synth.detections.simulate_detections` (pixel noise, low-score occlusions,
confident outliers in bursts: swaps with a neighbouring digit and background jumps).
Occlusions are random bursts per camera and joint (no ray casting: fast and seedable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calibration import CameraRig
from poses.skeleton import Skeleton
from synth.detections import burst_mask, simulate_detections
from synth.forelimb import FORELIMB_SKELETON, SEGMENT_LENGTHS, simulate_reach
from synth.rig import make_rig

__all__ = ["Scene", "make_scene", "burst_mask"]


@dataclass
class Scene:
    """A rig, true 3D points and detector output.

    Attributes
    ----------
    rig : CameraRig (mm)
    truth : (n_frames, n_joints, 3) mm
    points2d : (n_cams, n_frames, n_joints, 2) pixels
    scores : (n_cams, n_frames, n_joints) in [0, 1]
    outlier : (n_cams, n_frames, n_joints) bool, confident outliers
    occluded : (n_cams, n_frames, n_joints) bool
    skeleton : Skeleton
    limb_lengths : (n_limbs,) mm, true lengths of ``skeleton.limbs``
    """

    rig: CameraRig
    truth: np.ndarray
    points2d: np.ndarray
    scores: np.ndarray
    outlier: np.ndarray
    occluded: np.ndarray
    skeleton: Skeleton
    limb_lengths: np.ndarray


def make_scene(n_frames: int = 300, n_cams: int = 4, seed: int = 0, noise_px: float = 1.0,
               outlier_rate: float = 0.07, occlusion_rate: float = 0.1,
               size: tuple[int, int] = (640, 480)) -> Scene:
    """A seeded synthetic scene.

    Parameters
    ----------
    n_frames : int
        Frames at 100 fps.
    n_cams : int
        2 to 16 cameras of :func:`synth.rig.make_rig`.
    seed : int
    noise_px : float
        Detector noise, pixels (10% of points get twice that).
    outlier_rate : float
        Fraction of visible detections turned into confident outliers.
    occlusion_rate : float
        Fraction of detections occluded (low score, wide error).
    size : (width, height) pixels

    Returns
    -------
    Scene
    """
    rng = np.random.default_rng(seed)
    rig = make_rig(n_cams, size=size, seed=seed)
    truth = simulate_reach(n_frames, rng)
    truth2d = rig.project(truth)
    occluded = burst_mask(rng, truth2d.shape[:3], occlusion_rate)
    det = simulate_detections(truth2d, ~occluded, size, rng, FORELIMB_SKELETON.bodyparts,
                              noise_px=noise_px, outlier_rate=outlier_rate)
    lengths = np.array([SEGMENT_LENGTHS[limb] for limb in FORELIMB_SKELETON.limbs])
    return Scene(rig=rig, truth=truth, points2d=det.points2d, scores=det.scores,
                 outlier=det.outlier, occluded=det.occluded | det.outside,
                 skeleton=FORELIMB_SKELETON, limb_lengths=lengths)


def errors_3d(points3d: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Euclidean 3D errors (mm) of the triangulated points, NaN where not triangulated."""
    return np.linalg.norm(points3d - truth, axis=-1)
