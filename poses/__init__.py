"""tripose's ground floor: the pose data model, its file formats, skeletons and the shared
error and file-writing helpers. Imports numpy, pandas and file libraries only; every stage
package (calibration, pose2d, triangulate, viz3d, tripose) stands on it.

>>> from poses import Poses, load_poses
>>> p = load_poses("cam1.h5")     # doctest: +SKIP
>>> p.position.shape              # (n_frames, n_individuals, n_keypoints, 2) px  # doctest: +SKIP
"""

from .dims import CONFIDENCE_DIMS, DIMS, VIEW_DIMS
from .errors import InputError
from .io import load_poses, load_views, parse_inputs, save_poses
from .model import DEFAULT_INDIVIDUAL, Poses, PoseViews, default_individuals
from .skeleton import Skeleton, load_skeleton, save_skeleton, skeleton_from_dict

__all__ = ["Poses", "PoseViews", "InputError", "DIMS", "CONFIDENCE_DIMS", "VIEW_DIMS",
           "load_poses", "save_poses", "load_views", "parse_inputs", "Skeleton",
           "load_skeleton", "save_skeleton", "skeleton_from_dict", "DEFAULT_INDIVIDUAL",
           "default_individuals"]
