"""Checks at viz3d's boundary; each raises :class:`poses.errors.InputError`.

Messages name the argument or file at fault, say what was expected and what was got, and how
to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from calibration.rig import CameraRig
from poses import DEFAULT_INDIVIDUAL, Poses, default_individuals
from poses.errors import InputError
from poses.skeleton import Skeleton

__all__ = [
    "check_points3d",
    "check_points2d",
    "check_scores",
    "individual_names",
    "check_skeleton",
    "check_rig",
    "check_frame",
    "check_frames",
    "check_range_fps",
    "check_size",
    "check_suffix",
    "camera_index",
    "IMAGE_SUFFIXES",
    "VIDEO_SUFFIXES",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")


def individual_names(data, n_individuals: int) -> tuple[list[str], bool]:
    """The names of the individuals of ``data`` and whether to write them in pictures.

    A :class:`poses.Poses` gives its own names; an array gives ``ind1 ... indN``. Names are
    written unless there is one individual named :data:`poses.DEFAULT_INDIVIDUAL` (or an
    array without an individuals axis): single-animal pictures carry no label.

    Returns
    -------
    names : list of n_individuals str
    labelled : bool
    """
    if isinstance(data, Poses):
        names = list(data.individuals)
    else:
        names = default_individuals(n_individuals)
    return names, not (len(names) == 1 and names[0] == DEFAULT_INDIVIDUAL)


def check_points3d(points3d, name: str = "points3d") -> np.ndarray:
    """``(n_frames, n_individuals, n_joints, 3)`` float64 with inf turned into NaN.

    Accepts ``(n_joints, 3)`` (one frame, one individual), ``(n_frames, n_joints, 3)`` (one
    individual), ``(n_frames, n_individuals, n_joints, 3)``, or a 3D :class:`poses.Poses`
    (any number of individuals).
    """
    if isinstance(points3d, Poses):
        if not points3d.is_3d:
            raise InputError(f"{name}: expected 3D poses, got 2D keypoints")
        points3d = points3d.position
    try:
        p = np.array(points3d, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a numeric array (n_frames, n_joints, 3): {exc}") from None
    if p.ndim == 2 and p.shape[-1] == 3:
        p = p[None]
    if p.ndim == 3:
        p = p[:, None]
    if p.ndim != 4 or p.shape[-1] != 3 or 0 in p.shape:
        raise InputError(
            f"{name} must have shape (n_frames, n_joints, 3) or (n_frames, n_individuals, "
            f"n_joints, 3) in rig units, got {np.shape(points3d)}")
    p[~np.isfinite(p)] = np.nan
    return p


def check_points2d(points2d, name: str, n_frames: int | None = None,
                   n_joints: int | None = None, leading: tuple[int, ...] = (),
                   n_individuals: int | None = None) -> np.ndarray:
    """``(*leading, n_frames, n_individuals, n_joints, 2)`` float64 pixels, inf turned into
    NaN.

    Accepts ``(*leading, n_frames, n_joints, 2)`` (one individual), the same with an
    individuals axis before the joints, or a 2D :class:`poses.Poses` (no camera axis).
    ``n_individuals``, when given, is the number the array must hold.
    """
    if isinstance(points2d, Poses):
        if points2d.is_3d:
            raise InputError(f"{name}: expected 2D keypoints, got 3D poses")
        points2d = points2d.position
    try:
        p = np.array(points2d, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be a numeric array of pixels: {exc}") from None
    lead = "".join(f"{d}, " for d in leading)
    want = f"({lead}n_frames, n_joints, 2) or ({lead}n_frames, n_individuals, n_joints, 2)"
    k = len(leading)
    if p.ndim not in (3 + k, 4 + k) or p.shape[-1] != 2 or p.shape[:k] != leading:
        raise InputError(f"{name} must have shape {want} in pixels, got {p.shape}")
    if p.ndim == 3 + k:
        p = np.expand_dims(p, -3)
    if n_frames is not None and p.shape[-4] < n_frames:
        raise InputError(f"{name} has {p.shape[-4]} frames but {n_frames} are drawn; give "
                         f"at least {n_frames} frames")
    if n_individuals is not None and p.shape[-3] != n_individuals:
        raise InputError(f"{name} holds {p.shape[-3]} individuals, expected {n_individuals} "
                         f"(as many as the points drawn with it, in the same order)")
    if n_joints is not None and p.shape[-2] != n_joints:
        raise InputError(f"{name} has {p.shape[-2]} joints, expected {n_joints} (one per "
                         "bodypart of the skeleton, in its order)")
    p[~np.isfinite(p)] = np.nan
    return p


def check_scores(scores, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Detection scores of ``shape`` ``(*leading, n_frames, n_individuals, n_joints)``; the
    individuals axis may be left out when it is 1. At least ``n_frames`` frames."""
    sc = np.array(scores, dtype=float)
    *lead, n_frames, n_ind, n_joints = shape
    if sc.ndim == len(shape) - 1 and n_ind == 1:
        sc = np.expand_dims(sc, -2)
    dims = ", ".join(["n_cams"] * len(lead) + ["n_frames", "n_individuals", "n_joints"])
    if (sc.ndim != len(shape) or tuple(sc.shape[:len(lead)]) != tuple(lead)
            or sc.shape[-3] < n_frames or sc.shape[-2:] != (n_ind, n_joints)):
        raise InputError(f"{name} must have shape ({dims}) = {tuple(shape)} (the "
                         f"individuals axis may be left out for one), got {np.shape(scores)}")
    return sc


def check_skeleton(skeleton, n_joints: int, name: str = "points3d") -> Skeleton | None:
    """``skeleton`` if it is None or a Skeleton with ``n_joints`` bodyparts."""
    if skeleton is None:
        return None
    if not isinstance(skeleton, Skeleton):
        raise InputError(
            f"skeleton must be a triangulate.Skeleton (see triangulate.load_skeleton) or None, "
            f"got {type(skeleton).__name__}")
    if skeleton.n_joints != n_joints:
        raise InputError(
            f"{name} has {n_joints} joints but the skeleton has {skeleton.n_joints} bodyparts "
            f"{skeleton.bodyparts}; give one point per bodypart, in the skeleton's order")
    return skeleton


def check_rig(rig, required: bool = False) -> CameraRig | None:
    """``rig`` if it is a CameraRig (or None when not ``required``)."""
    if rig is None and not required:
        return None
    if not isinstance(rig, CameraRig):
        raise InputError(
            f"rig must be a calibration.CameraRig (see calibration.load_rig), "
            f"got {type(rig).__name__}")
    return rig


def camera_index(rig: CameraRig | None, camera, name: str = "camera_view") -> int:
    """Position in ``rig`` of a camera given by name or index."""
    if rig is None:
        raise InputError(f"{name}={camera!r} needs a rig; pass rig=calibration.load_rig(...)")
    if isinstance(camera, str):
        if camera not in rig.names:
            raise InputError(f"{name}: no camera named {camera!r}; cameras: {rig.names}")
        return rig.names.index(camera)
    if isinstance(camera, (int, np.integer)) and -rig.n_cams <= int(camera) < rig.n_cams:
        return int(camera) % rig.n_cams
    raise InputError(f"{name} must be a camera name {rig.names} or an index below "
                     f"{rig.n_cams}, got {camera!r}")


def check_frame(frame, n_frames: int, name: str = "frame") -> int:
    """A frame index within ``[0, n_frames)`` (negative counts from the end)."""
    if not isinstance(frame, (int, np.integer)) or not -n_frames <= int(frame) < n_frames:
        raise InputError(f"{name} must be a whole number in [0, {n_frames}), got {frame!r}")
    return int(frame) % n_frames


def check_frames(frames, n_frames: int) -> np.ndarray:
    """Frame indices (None means all), each within ``[0, n_frames)``."""
    if frames is None:
        return np.arange(n_frames)
    f = np.asarray(frames)
    if f.ndim != 1 or f.size == 0 or not np.issubdtype(f.dtype, np.integer):
        raise InputError(f"frames must be a non-empty 1D list of frame indices, got {frames!r}")
    bad = f[(f < 0) | (f >= n_frames)]
    if bad.size:
        raise InputError(f"frames {bad[:5].tolist()} are outside [0, {n_frames}) (points3d "
                         f"has {n_frames} frames)")
    return f.astype(int)


def check_size(size, name: str = "size", even: bool = False) -> tuple[int, int]:
    """``(width, height)`` in whole pixels >= 16; rounded down to even for videos."""
    try:
        w, h = (int(v) for v in size)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be (width, height) in pixels, got {size!r}") from None
    if w < 16 or h < 16:
        raise InputError(f"{name} must be at least 16 x 16 pixels, got {size!r}")
    if even:
        w, h = w - w % 2, h - h % 2
    return w, h


def check_suffix(path, suffixes: Sequence[str], name: str = "path") -> Path:
    """``path`` as a Path whose suffix is one of ``suffixes``."""
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise InputError(f"{name} {str(p)!r} must end in one of {list(suffixes)}, "
                         f"got {p.suffix or 'no suffix'!r}")
    return p


def check_range_fps(fps) -> float:
    """A frame rate > 0 and finite."""
    try:
        v = float(fps)
    except (TypeError, ValueError):
        raise InputError(f"fps must be a number of frames per second, got {fps!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"fps must be > 0, got {fps!r}")
    return v
