"""tripose calibration: the camera model, rigs, boards and their file formats.

>>> from calibration import CameraRig
>>> rig = CameraRig.load("calibration.toml")  # doctest: +SKIP
>>> rig.project(points3d).shape  # (n_cams, ..., 2) pixels  # doctest: +SKIP
"""

from .board import Board
from .camera import Camera
from .errors import CalibrationError, InputError
from .interop import from_aniposelib, to_aniposelib
from .load_board import load_board, save_board
from .load_rig import from_anipose_toml, from_pose2sim_toml, load_rig
from .rig import CameraRig
from .rotation import matrix_to_rodrigues, rodrigues_to_matrix
from .save_rig import save_rig, to_anipose_toml

__all__ = [
    "Board",
    "Camera",
    "CameraRig",
    "CalibrationError",
    "InputError",
    "from_aniposelib",
    "to_aniposelib",
    "load_board",
    "save_board",
    "load_rig",
    "save_rig",
    "from_anipose_toml",
    "from_pose2sim_toml",
    "to_anipose_toml",
    "rodrigues_to_matrix",
    "matrix_to_rodrigues",
]

__all__ += ["calibrate", "CalibrationResult"]


def __getattr__(name: str):
    # the solver stack (OpenCV, joblib, scipy.sparse) loads only when calibrating
    if name in ("calibrate", "CalibrationResult"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'calibration' has no attribute {name!r}")
