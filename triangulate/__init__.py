"""tripose triangulation: 2D keypoints from a calibrated rig to 3D skeletons.

>>> from triangulate import triangulate
>>> res = triangulate(rig, points2d, scores, method="ransac")  # doctest: +SKIP
>>> res.points3d.shape  # (n_frames, n_joints, 3) rig units  # doctest: +SKIP
"""

from poses.skeleton import Skeleton, load_skeleton, save_skeleton

from .api import DEFAULTS, Triangulation, triangulate
from .load_3d import Pose3D, load_pose3d
from .points import POINTS2D_DIMS, POINTS3D_DIMS, SCORES_DIMS
from .save_3d import pose3d_from_result, save_pose3d

__all__ = ["triangulate", "Triangulation", "DEFAULTS", "Skeleton", "load_skeleton",
           "save_skeleton", "POINTS2D_DIMS", "POINTS3D_DIMS", "SCORES_DIMS", "Pose3D",
           "load_pose3d", "save_pose3d", "pose3d_from_result"]
