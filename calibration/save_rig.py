"""Write calibration TOML files in anipose's format (read by anipose, sleap-anipose, Pose2Sim)."""

from __future__ import annotations

from pathlib import Path

import toml

from poses.atomic import write_text_atomic

from .rig import CameraRig

__all__ = ["save_rig", "to_anipose_toml", "to_calibration_dict"]


def to_calibration_dict(rig: CameraRig) -> dict:
    """The rig as anipose's calibration dictionary (``cam_0`` ... tables plus ``metadata``)."""
    out: dict = {}
    for i, cam in enumerate(rig.cameras):
        table = {
            "name": cam.name,
            "size": [int(cam.size[0]), int(cam.size[1])],
            "matrix": cam.matrix.tolist(),
            "distortions": cam.dist.tolist(),
            "rotation": cam.rvec.tolist(),
            "translation": cam.tvec.tolist(),
        }
        if cam.fisheye:
            table["fisheye"] = True
        out[f"cam_{i}"] = table
    meta = {k: v for k, v in rig.metadata.items() if v is not None}
    meta["units"] = rig.units
    out["metadata"] = meta
    return out


def to_anipose_toml(rig: CameraRig, path: str | Path) -> Path:
    """Write ``rig`` to ``path`` as anipose's calibration.toml, atomically.

    Parameters
    ----------
    rig : CameraRig
    path : str or Path

    Returns
    -------
    Path
        The written file.
    """
    return write_text_atomic(path, toml.dumps(to_calibration_dict(rig)))


save_rig = to_anipose_toml
