"""Dimension names of the pose arrays, in one place (tests and every package import them).

Axis order everywhere in tripose: ``(frames, individuals, keypoints, space)`` for positions
and ``(frames, individuals, keypoints)`` for confidence; a multi-view stack puts
``cameras`` first. The ``movement`` package orders its arrays differently; its names are
here too so that :mod:`poses.io.movement` converts by name, not by guesswork.
"""

from __future__ import annotations

__all__ = ["POINTS2D_DIMS", "SCORES_DIMS", "POINTS3D_DIMS", "DIMS", "CONFIDENCE_DIMS",
           "VIEW_DIMS", "VIEW_CONFIDENCE_DIMS", "SPACE_2D",
           "SPACE_3D", "MOVEMENT_POSITION_DIMS", "MOVEMENT_CONFIDENCE_DIMS",
           "QUALITY_FIELDS"]

#: Axes of ``Poses.position``: (n_frames, n_individuals, n_keypoints, n_space).
DIMS = ("frames", "individuals", "keypoints", "space")
#: Axes of ``Poses.confidence`` and of every ``Poses.quality`` array.
CONFIDENCE_DIMS = ("frames", "individuals", "keypoints")
#: Axes of a stacked multi-view position array (``PoseViews.stack``).
VIEW_DIMS = ("cameras", *DIMS)
#: Axes of a stacked multi-view confidence array.
VIEW_CONFIDENCE_DIMS = ("cameras", *CONFIDENCE_DIMS)
#: Coordinate names of the space axis.
SPACE_2D = ("x", "y")
SPACE_3D = ("x", "y", "z")
#: movement's ``position`` and ``confidence`` dimensions (its ``poses`` datasets).
MOVEMENT_POSITION_DIMS = ("time", "space", "keypoints", "individuals")
MOVEMENT_CONFIDENCE_DIMS = ("time", "keypoints", "individuals")
#: Per-point quality arrays a 3D result may carry, with their units:
#: ``error`` mean reprojection error (pixels), ``ncams`` views used (count),
#: ``sigma`` standard deviation of the point (the position's units).
QUALITY_FIELDS = {"error": "px", "ncams": "count", "sigma": "units"}

# The solvers' arrays (triangulate, calibration): one individual's joints, or several
# individuals folded into the joint axis.
#: Axes of 2D keypoints: (n_cams, n_frames, n_joints, 2) pixels.
POINTS2D_DIMS = ("cameras", "frames", "joints", "xy")
#: Axes of 2D scores: (n_cams, n_frames, n_joints) in [0, 1].
SCORES_DIMS = ("cameras", "frames", "joints")
#: Axes of 3D keypoints: (n_frames, n_joints, 3) rig units.
POINTS3D_DIMS = ("frames", "joints", "xyz")
