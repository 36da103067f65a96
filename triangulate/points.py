"""Axis names and shape conventions shared by the 2D and 3D arrays."""

from __future__ import annotations

#: Axes of 2D keypoints: (n_cams, n_frames, n_joints, 2) pixels.
POINTS2D_DIMS = ("cameras", "frames", "joints", "xy")
#: Axes of 2D scores: (n_cams, n_frames, n_joints) in [0, 1].
SCORES_DIMS = ("cameras", "frames", "joints")
#: Axes of 3D keypoints: (n_frames, n_joints, 3) rig units.
POINTS3D_DIMS = ("frames", "joints", "xyz")

__all__ = ["POINTS2D_DIMS", "SCORES_DIMS", "POINTS3D_DIMS"]
