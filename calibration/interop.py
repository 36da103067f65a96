"""Conversion to and from aniposelib's ``CameraGroup`` (imported lazily)."""

from __future__ import annotations

from .camera import Camera
from .rig import CameraRig

__all__ = ["to_aniposelib", "from_aniposelib"]


def to_aniposelib(rig: CameraRig):
    """An ``aniposelib.cameras.CameraGroup`` with the same cameras in the same order.

    Parameters
    ----------
    rig : CameraRig

    Returns
    -------
    aniposelib.cameras.CameraGroup
    """
    from aniposelib.cameras import Camera as ACamera
    from aniposelib.cameras import CameraGroup, FisheyeCamera

    cams = []
    for c in rig.cameras:
        cls = FisheyeCamera if c.fisheye else ACamera
        cams.append(cls(matrix=c.matrix.copy(), dist=c.dist.copy(), size=list(c.size),
                        rvec=c.rvec.copy(), tvec=c.tvec.copy(), name=c.name))
    return CameraGroup(cams, metadata=dict(rig.metadata))


def from_aniposelib(group, units: str = "mm") -> CameraRig:
    """A rig from an ``aniposelib.cameras.CameraGroup``.

    Parameters
    ----------
    group : aniposelib.cameras.CameraGroup
    units : str
        aniposelib does not store units; give the calibration board's.

    Returns
    -------
    CameraRig
    """
    cams = []
    for i, ac in enumerate(group.cameras):
        d = ac.get_dict()
        size = d["size"] if d["size"] is not None else (0, 0)
        cams.append(Camera(name=d["name"] if d["name"] not in (None, "None") else f"cam_{i}",
                           size=size, matrix=d["matrix"], dist=d["distortions"],
                           rvec=d["rotation"], tvec=d["translation"],
                           fisheye=bool(d.get("fisheye", False))))
    return CameraRig(cams, units=units, metadata=dict(getattr(group, "metadata", {}) or {}))
