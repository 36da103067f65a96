"""One self-contained HTML file of a skeleton frame (vtk.js inlined, opens offline)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from calibration.errors import InputError
from calibration.rig import CameraRig
from poses.atomic import write_text_atomic
from poses.skeleton import Skeleton

from .render import build_scene, scene_points
from .validate import check_frame, check_suffix

__all__ = ["export_html", "check_self_contained"]

# <script src=...>, <link href=...>, url(...) or @import pointing at the network
_REMOTE = re.compile(
    r"""(<script[^>]+src\s*=\s*["']?(https?:)?//|<link[^>]+href\s*=\s*["']?(https?:)?//|"""
    r"""url\(\s*["']?(https?:)?//|@import\s+["']?(https?:)?//)""",
    re.IGNORECASE,
)


def check_self_contained(html: str) -> None:
    """Raise RuntimeError if ``html`` loads a script, style or font from the network."""
    m = _REMOTE.search(html)
    if m:
        raise RuntimeError(f"exported HTML refers to a remote resource: {m.group(0)!r}")


def _scene_html(plotter) -> str:
    """The plotter's scene as HTML text (trame-pyvista's exporter, vtk.js inlined)."""
    try:
        component = plotter.trame
    except AttributeError:
        component = None
    try:
        if component is not None:
            buf = component.export_html(None)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                buf = plotter.export_html(None)
    except ImportError as exc:
        raise InputError(
            "export_html needs trame, trame-vtk and trame-pyvista; install them with "
            f"`pip install trame trame-vtk trame-pyvista` ({exc})") from None
    return buf.getvalue() if hasattr(buf, "getvalue") else str(buf)


def export_html(points3d, skeleton: Skeleton | None, path: str | Path,
                frame: int = 0, rig: CameraRig | None = None, floor: bool = True) -> Path:
    """Write one frame of the 3D skeleton as an interactive, self-contained HTML file.

    The file embeds vtk.js and the scene (joints, limbs, floor, frustums) and needs no
    network or server: open it from disk in any WebGL browser to rotate and zoom. The frame
    label and camera names (2D overlays) are not part of the HTML scene; individuals' names
    are, as flat 3D letters above their heads facing the starting view.

    Parameters
    ----------
    points3d : (n_frames, n_joints, 3) float, rig units; NaN = missing
        Or several individuals, as in :func:`viz3d.render_png`.
    skeleton : triangulate.Skeleton or None
    path : str or Path
        ``.html``; written atomically (about 1 MB, mostly vtk.js).
    frame : int
    rig : calibration.CameraRig, optional
        Adds the camera frustums (the HTML view starts framed on the skeleton).
    floor : bool

    Returns
    -------
    Path
    """
    path = check_suffix(path, (".html", ".htm"))
    p, cast, skeleton = scene_points(points3d, skeleton)
    frame = check_frame(frame, p.shape[0])
    scene = build_scene(p, skeleton, rig, floor, trail=0, size=(960, 720), frame_label=False,
                        cast=cast, name_labels="mesh")
    try:
        scene.show_frame(frame)
        html = _scene_html(scene.plotter)
    finally:
        scene.plotter.close()
    check_self_contained(html)
    return write_text_atomic(path, html)
