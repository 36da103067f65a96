"""Axis alignment from named points (anipose's ``axes`` and ``reference_point``).

``axes`` is one or two ``(axis, from_point, to_point)``: the first axis points exactly from
the median position of ``from_point`` to that of ``to_point``; the second is made orthogonal
to it; the third completes a right-handed frame. ``reference_point`` becomes the origin (its
median position).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from calibration.errors import InputError

__all__ = ["alignment_transform", "align_points", "check_alignment"]

_NEXT = {"x": ("y", "z"), "y": ("z", "x"), "z": ("x", "y")}


def _check_name(bodyparts: Sequence[str], name: str) -> None:
    if name not in bodyparts:
        raise InputError(f"alignment names unknown bodypart {name!r}; bodyparts: "
                         f"{list(bodyparts)}")


def check_alignment(bodyparts: Sequence[str], axes: Sequence[Sequence[str]] | None = None,
                    reference_point: str | None = None) -> None:
    """Refuse alignment options that cannot work with these bodyparts (before any data).

    Raises
    ------
    InputError
        More than two axes, a malformed entry, an axis given twice, or an unknown bodypart.
    """
    if axes:
        if len(axes) > 2:
            raise InputError(f"axes takes one or two (axis, from, to) entries, got {len(axes)}")
        seen = set()
        for entry in axes:
            if len(entry) != 3 or entry[0] not in _NEXT:
                raise InputError(f"axes entry {list(entry)} must be (x|y|z, from_point, "
                                 f"to_point)")
            if entry[0] in seen:
                raise InputError(f"axis {entry[0]!r} given twice in axes")
            seen.add(entry[0])
            _check_name(bodyparts, entry[1])
            _check_name(bodyparts, entry[2])
    if reference_point is not None:
        _check_name(bodyparts, reference_point)


def _median_point(points3d: np.ndarray, bodyparts: Sequence[str], name: str) -> np.ndarray:
    _check_name(bodyparts, name)
    p = points3d[:, list(bodyparts).index(name)]
    p = p[np.isfinite(p).all(-1)]
    if not len(p):
        raise InputError(f"alignment point {name!r} is never triangulated")
    return np.median(p, axis=0)


def alignment_transform(points3d: np.ndarray, bodyparts: Sequence[str],
                        axes: Sequence[Sequence[str]] | None = None,
                        reference_point: str | None = None):
    """Rotation and origin of the aligned frame.

    Parameters
    ----------
    points3d : (n_frames, n_joints, 3) rig units
    bodyparts : sequence of n_joints str
    axes : sequence of (axis, from_point, to_point), 1 or 2 of them, axis in x/y/z
    reference_point : str, optional

    Returns
    -------
    M : (3, 3)
        Rows are the new x, y, z axes in old coordinates.
    origin : (3,) rig units
    """
    check_alignment(bodyparts, axes, reference_point)
    M = np.eye(3)
    if axes:
        vecs = {}
        for entry in axes:
            vecs[entry[0]] = (_median_point(points3d, bodyparts, entry[2])
                              - _median_point(points3d, bodyparts, entry[1]))
        names = list(vecs)
        first = vecs[names[0]] / np.linalg.norm(vecs[names[0]])
        frame = {names[0]: first}
        if len(names) == 2:
            v = vecs[names[1]] - (vecs[names[1]] @ first) * first
            if np.linalg.norm(v) < 1e-9:
                raise InputError(f"axes {names} are parallel; give two different directions")
            frame[names[1]] = v / np.linalg.norm(v)
        else:  # one axis: complete with the old axis least aligned with it
            helper = np.eye(3)[np.argmin(np.abs(first))]
            other = _NEXT[names[0]][0]
            v = helper - (helper @ first) * first
            frame[other] = v / np.linalg.norm(v)
        for a in "xyz":
            if a not in frame:
                b, c = _NEXT[a]
                frame[a] = np.cross(frame[b], frame[c])
        M = np.stack([frame["x"], frame["y"], frame["z"]])
    origin = (np.zeros(3) if reference_point is None
              else _median_point(points3d, bodyparts, reference_point))
    return M, origin


def align_points(points3d: np.ndarray, bodyparts: Sequence[str],
                 axes: Sequence[Sequence[str]] | None = None,
                 reference_point: str | None = None) -> np.ndarray:
    """Points expressed in the aligned frame (see :func:`alignment_transform`).

    Returns
    -------
    aligned : (n_frames, n_joints, 3) rig units
    """
    M, origin = alignment_transform(points3d, bodyparts, axes, reference_point)
    return (np.asarray(points3d, dtype=np.float64) - origin) @ M.T
