"""Checks at the boundary of triangulation: shapes, values, option ranges, name matching.

Every check raises :class:`calibration.errors.InputError` naming the field (and camera) at
fault, what was expected and what was got. Checks run per chunk of frames where the arrays
may be large (see :func:`check_chunk`), so validation never copies a whole recording.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from calibration.errors import InputError

__all__ = [
    "check_points2d",
    "check_scores",
    "check_chunk",
    "check_choice",
    "check_range",
    "match_cameras",
    "check_skeleton_bodyparts",
]


def check_choice(value: str, choices: Sequence[str], field: str) -> str:
    """``value`` if it is one of ``choices``, else an InputError listing them."""
    if value not in choices:
        raise InputError(f"{field} must be one of {list(choices)}, got {value!r}")
    return value


def check_range(value, field: str, low: float | None = None, high: float | None = None,
                low_open: bool = False, integer: bool = False):
    """``value`` if it is a finite number within ``[low, high]`` (or ``(low, high]``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{field} must be a number, got {value!r}") from None
    if not np.isfinite(v):
        raise InputError(f"{field} must be finite, got {value!r}")
    if integer and v != int(v):
        raise InputError(f"{field} must be a whole number, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise InputError(f"{field} must be {'>' if low_open else '>='} {low}, got {value!r}")
    if high is not None and v > high:
        raise InputError(f"{field} must be <= {high}, got {value!r}")
    return int(v) if integer else v


def check_points2d(points2d, n_cams: int, camera_names: Sequence[str] | None = None):
    """Check the shape of 2D keypoints (values are checked per chunk).

    Parameters
    ----------
    points2d : array_like (n_cams, n_frames, n_joints, 2) pixels
    n_cams : int
        Cameras of the rig.
    camera_names : sequence of str, optional
        For the message.

    Returns
    -------
    points2d : ndarray
        Float32 and float64 input is kept as is (no copy); other dtypes become float64.
    """
    p = np.asarray(points2d)
    if p.dtype not in (np.float32, np.float64):
        try:
            p = p.astype(np.float64)
        except (TypeError, ValueError):
            raise InputError(f"points2d must hold numbers, got dtype {p.dtype}") from None
    if p.ndim != 4 or p.shape[-1] != 2:
        raise InputError(
            f"points2d must have shape (n_cams, n_frames, n_joints, 2) pixels, got {p.shape}"
        )
    if p.shape[0] != n_cams:
        names = f" {list(camera_names)}" if camera_names is not None else ""
        raise InputError(
            f"points2d has {p.shape[0]} camera(s) on axis 0 but the rig has {n_cams}{names}; "
            f"give one (n_frames, n_joints, 2) array per camera in the rig's order"
        )
    return p


def check_scores(scores, shape: tuple[int, int, int]):
    """Check the shape of scores; ``None`` gives ``None`` (all views weigh 1).

    Parameters
    ----------
    scores : array_like (n_cams, n_frames, n_joints) in [0, 1], or None
    shape : (n_cams, n_frames, n_joints)
    """
    if scores is None:
        return None
    s = np.asarray(scores)
    if s.dtype not in (np.float32, np.float64):
        s = s.astype(np.float64)
    if s.shape != tuple(shape):
        raise InputError(f"scores must have shape (n_cams, n_frames, n_joints) = {tuple(shape)} "
                         f"matching points2d, got {s.shape}")
    return s


def check_chunk(points2d: np.ndarray, scores: np.ndarray | None,
                camera_names: Sequence[str], start: int = 0,
                nonfinite: str = "missing") -> None:
    """Value checks on one chunk of frames.

    Parameters
    ----------
    points2d : (n_cams, n_chunk, n_joints, 2) pixels
    scores : (n_cams, n_chunk, n_joints) or None
    camera_names : sequence of n_cams str
    start : int
        Index of the chunk's first frame, for messages.
    nonfinite : {"missing", "error"}
        ``inf`` coordinates are treated as missing (like NaN) or refused.

    Raises
    ------
    InputError
        Scores outside [0, 1] (NaN scores are missing) or ``inf`` with ``nonfinite="error"``,
        naming the camera, frame and joint of the first offender.
    """
    if nonfinite == "error":
        bad = np.isinf(points2d).any(-1)
        if bad.any():
            c, f, j = (int(v[0]) for v in np.nonzero(bad))
            raise InputError(f"points2d of camera {camera_names[c]!r} is infinite at frame "
                             f"{start + f}, joint {j}; use NaN for missing points")
    if scores is not None:
        with np.errstate(invalid="ignore"):
            bad = (scores < 0) | (scores > 1)
        if bad.any():
            c, f, j = (int(v[0]) for v in np.nonzero(bad))
            raise InputError(
                f"scores of camera {camera_names[c]!r} must be within [0, 1], got "
                f"{float(scores[c, f, j])} at frame {start + f}, joint {j}"
            )


def match_cameras(input_names: Sequence[str], rig_names: Sequence[str],
                  where: str = "inputs") -> list[int]:
    """Positions in ``input_names`` of each rig camera, checking both sets agree.

    Parameters
    ----------
    input_names : sequence of str
        Camera names of the 2D inputs (e.g. file stems).
    rig_names : sequence of str
        Cameras of the calibration, in rig order.
    where : str
        What the inputs are, for messages.

    Returns
    -------
    order : list of int
        ``order[i]`` is the input for rig camera ``i``.

    Raises
    ------
    InputError
        Unknown, repeated or missing cameras, listing both sets.
    """
    inputs = list(input_names)
    dup = sorted({n for n in inputs if inputs.count(n) > 1})
    if dup:
        raise InputError(f"{where}: camera name(s) {dup} given more than once")
    unknown = [n for n in inputs if n not in rig_names]
    if unknown:
        raise InputError(
            f"{where}: camera name(s) {unknown} are not in the calibration; calibration "
            f"cameras: {list(rig_names)}, inputs: {inputs} (name inputs as NAME=PATH)"
        )
    missing = [n for n in rig_names if n not in inputs]
    if missing and len(inputs) < 2:
        raise InputError(f"{where}: need 2D points from at least 2 cameras, got {inputs}")
    return [inputs.index(n) if n in inputs else -1 for n in rig_names]


def check_skeleton_bodyparts(skeleton, bodyparts: Sequence[str], where: str = "skeleton"):
    """Check every bodypart the skeleton's limbs and angles name exists in the 2D data.

    Bodyparts listed by the skeleton but used by no limb or angle may be absent.

    Raises
    ------
    InputError
        Listing the unknown names and the data's bodyparts.
    """
    names: set[str] = set()
    for a, b in list(skeleton.limbs) + list(skeleton.weak_limbs):
        names.update((a, b))
    for triple in skeleton.angles.values():
        names.update(triple)
    unknown = sorted(names - set(bodyparts))
    if unknown:
        raise InputError(f"{where} names bodypart(s) {unknown} that the 2D data lacks; "
                         f"bodyparts in the data: {list(bodyparts)}")
