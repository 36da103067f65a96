"""tripose 3D visualization with PyVista: skeleton pictures, movies, HTML, 2D overlays.

Everything renders off screen (EGL without a display, see :mod:`viz3d._offscreen`); only
:func:`open_window` needs a display. PyVista is imported on first use, so ``import viz3d``
is cheap. Arrays follow tripose's conventions: ``points3d (n_frames, n_joints, 3)`` in rig
units, ``points2d (..., n_joints, 2)`` pixels, NaN = missing. Several animals,
``(n_frames, n_individuals, n_joints, 3)`` or a :class:`poses.Poses`, are drawn together, each
in its colour family (:func:`individual_colors`) with its name above its head.
"""

from ._offscreen import missing_dependencies
from .colors import bodypart_colors, individual_colors
from .combined import combined_video
from .errors import DisplayError
from .html import export_html
from .overlay import overlay_2d_video
from .render import open_window, render_movie, render_png
from .rig_view import board_poses_from_rvecs, render_rig

__all__ = [
    "render_png",
    "render_movie",
    "export_html",
    "render_rig",
    "overlay_2d_video",
    "combined_video",
    "open_window",
    "board_poses_from_rvecs",
    "bodypart_colors",
    "individual_colors",
    "DisplayError",
    "missing_dependencies",
]
