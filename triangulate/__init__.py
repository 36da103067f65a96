"""tripose triangulation: 2D keypoints from a calibrated rig to 3D skeletons.

>>> from triangulate import triangulate
>>> res = triangulate(rig, points2d, scores, method="ransac")  # doctest: +SKIP
>>> res.points3d.shape  # (n_frames, n_joints, 3) rig units  # doctest: +SKIP
>>> poses = res.to_poses(bodyparts, fps=100)  # the pose data model  # doctest: +SKIP

Files are read and written by :mod:`poses.io`; :func:`triangulate.files.triangulate_files`
is the file-level orchestration behind ``tripose triangulate`` and the pipeline.
"""

from poses.dims import POINTS2D_DIMS, POINTS3D_DIMS, SCORES_DIMS
from poses.skeleton import Skeleton, load_skeleton, save_skeleton

from .api import DEFAULTS, triangulate
from .methods import METHODS
from .result import Triangulation

__all__ = ["triangulate", "Triangulation", "DEFAULTS", "METHODS", "Skeleton", "load_skeleton",
           "save_skeleton", "POINTS2D_DIMS", "POINTS3D_DIMS", "SCORES_DIMS"]
