"""tripose triangulation: 2D keypoints from a calibrated rig to 3D skeletons."""

from .points import POINTS2D_DIMS, POINTS3D_DIMS, SCORES_DIMS
from .skeleton import Skeleton, load_skeleton, save_skeleton

__all__ = ["Skeleton", "load_skeleton", "save_skeleton", "POINTS2D_DIMS", "POINTS3D_DIMS",
           "SCORES_DIMS"]
