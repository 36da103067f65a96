"""The calibration report with its 3D picture: ``calibration.report`` plus a viz3d rig view.

``calibration`` cannot draw with PyVista (dependencies flow ``viz3d -> calibration``), so the
command line and the demo call :func:`write_calibration_report`, which writes the report's
matplotlib pictures and adds ``rig3d.png``: the cameras' frustums with the board poses of the
bundle adjustment, rendered off screen by :func:`viz3d.render_rig`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from calibration.report import write_report
from poses.atomic import write_text_atomic

__all__ = ["write_calibration_report"]

log = logging.getLogger(__name__)


def write_calibration_report(result, out_dir: str | Path, rig3d: bool = True) -> Path:
    """Write ``report.json``, the report's pictures and (``rig3d``) ``rig3d.png``.

    Parameters
    ----------
    result : calibration.api.CalibrationResult
        A finished calibration (its rig, board and board poses are drawn).
    out_dir : folder to write into (created when missing)
    rig3d : also render the rig in 3D with viz3d; a rendering failure (no OpenGL at all)
        is logged and leaves the rest of the report in place.

    Returns
    -------
    Path
        The ``report.json`` file; ``pictures.rig3d`` names the 3D picture when it was made.
    """
    path = write_report(result, out_dir)
    if not rig3d:
        return path
    try:
        import viz3d

        poses = viz3d.board_poses_from_rvecs(result.board_rvecs, result.board_tvecs)
        pic = viz3d.render_rig(result.rig, Path(out_dir) / "rig3d.png",
                               board_poses=poses if len(poses) else None, board=result.board)
    except (ImportError, RuntimeError, OSError) as exc:
        log.warning("calibration report: no 3D rig picture (%s)", exc)
        return path
    report = json.loads(path.read_text())
    report["pictures"]["rig3d"] = Path(pic).name
    return write_text_atomic(path, json.dumps(report, indent=2) + "\n")
