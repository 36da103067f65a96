"""Several cameras' 2D files at once: ``NAME=PATH`` arguments and :class:`PoseViews`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import InputError
from ..model import PoseViews
from .registry import load_poses

__all__ = ["split_name", "parse_inputs", "load_views"]


def split_name(item: str | Path) -> tuple[str | None, str]:
    """``NAME=PATH`` -> ``(NAME, PATH)``; a plain ``PATH`` -> ``(None, PATH)``.

    An existing path that contains ``=`` stays a path, and so does text whose part before
    ``=`` holds a ``/`` (a folder, not a camera name). Shared by every command that takes
    per-camera inputs (calibration videos, 2D files).
    """
    text = str(item)
    name, sep, rest = text.partition("=")
    if sep and name and "/" not in name and not Path(text).exists():
        return name, rest
    return None, text


def parse_inputs(items: Sequence[str]) -> dict[str, Path]:
    """``NAME=PATH`` or ``PATH`` items (name defaults to the file stem) as a name -> path map.

    A folder's name is its camera name; a file's is its name up to the first dot
    (``cam1.analysis.h5`` -> ``cam1``). Camera names may be numbers (``"10"``).

    Raises
    ------
    InputError
        An empty name or path, or the same camera twice.
    """
    out: dict[str, Path] = {}
    for item in items:
        name, path = split_name(item)
        if name is None:
            p = Path(path)
            name = p.name if p.is_dir() else p.name.split(".")[0]
        if not name or not path:
            raise InputError(f"input {item!r} must be PATH or NAME=PATH")
        if name in out:
            raise InputError(f"camera {name!r} given twice ({out[name]} and {path}); "
                             f"name inputs explicitly as NAME=PATH")
        out[name] = Path(path)
    if not out:
        raise InputError("no 2D input files given")
    return out


def load_views(inputs: Mapping[str, str | Path], format: str | None = None,
               skeleton=None, **options) -> PoseViews:
    """Read every camera's 2D file.

    Parameters
    ----------
    inputs : mapping camera name -> path (see :func:`parse_inputs`)
    format : str, optional
        Format of every file (default: inferred per file).
    skeleton : Skeleton, list of str or str, optional
        Names the keypoints of OpenPose / Pose2Sim JSON folders, which carry none (BODY_25,
        BODY_25B ... differ only by their names and order); other inputs ignore it.
    **options
        Passed to each reader.

    Returns
    -------
    PoseViews
        In the order of ``inputs``.
    """
    views = {}
    for cam, path in inputs.items():
        extra = {"skeleton": skeleton} if skeleton is not None and Path(path).is_dir() else {}
        p = load_poses(path, format=format, **options, **extra)
        if p.is_3d:
            raise InputError(f"camera {cam!r}: {path} holds 3D points; expected 2D keypoints")
        views[cam] = p
    return PoseViews(views)
