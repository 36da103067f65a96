"""Every pose file format, one module each, all returning and taking :class:`poses.Poses`.

>>> from poses.io import load_poses, save_poses
>>> poses = load_poses("cam1.h5")          # doctest: +SKIP  (format from suffix and content)
>>> save_poses(poses, "cam1.nwb")          # doctest: +SKIP

Formats (``FORMATS``): DeepLabCut h5/csv (single and multi-animal), Lightning Pose CSV,
SLEAP analysis h5, OpenPose / Pose2Sim JSON folders, anipose 3D CSV, TRC, C3D, parquet,
movement netCDF and NWB (ndx-pose).
"""

from .inputs import load_views, parse_inputs
from .registry import (
           FORMATS,
           Format,
           detect_format,
           formats_table,
           get_format,
           load_poses,
           save_poses,
)

__all__ = ["load_poses", "save_poses", "load_views", "parse_inputs", "FORMATS", "Format",
           "detect_format", "get_format", "formats_table"]
