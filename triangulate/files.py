"""File-level triangulation: 2D files of named cameras + calibration (+ skeleton) to a 3D file.

This is the one call behind ``tripose triangulate``: it reads and matches inputs to the
calibration's cameras, triangulates, applies the optional post steps and writes atomically.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from calibration.errors import InputError

from .load_2d import load_2d
from .validators import check_skeleton_bodyparts, match_cameras

__all__ = ["parse_inputs", "load_inputs", "triangulate_files"]

log = logging.getLogger(__name__)


def parse_inputs(items: Sequence[str]) -> dict[str, Path]:
    """``NAME=PATH`` or ``PATH`` items (name defaults to the file stem) as a name -> path map.

    Raises
    ------
    InputError
        An empty name or path, or the same camera twice.
    """
    out: dict[str, Path] = {}
    for item in items:
        name, sep, path = str(item).partition("=")
        if not sep:
            path = name
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


def load_inputs(inputs: Mapping[str, Path], camera_names: Sequence[str],
                truncate: bool = False, truncate_hint: str = "pass --truncate"):
    """Read every camera's 2D file and stack them in the rig's order.

    Parameters
    ----------
    inputs : mapping camera name -> path
    camera_names : rig cameras in order
    truncate : bool
        Cut every camera to the shortest frame count (with a warning) instead of refusing.
    truncate_hint : str
        How the caller's user asks for ``truncate`` (the refusal's message says it).

    Returns
    -------
    points2d : (n_cams, n_frames, n_joints, 2) float32 pixels; NaN for rig cameras without
        an input
    scores : (n_cams, n_frames, n_joints) float32
    bodyparts : list of str
    """
    order = match_cameras(list(inputs), camera_names, where="2D inputs")
    names = list(inputs)
    data = {}
    for name, path in inputs.items():
        data[name] = load_2d(path)
    ref = names[0]
    bodyparts = data[ref][2]
    for name in names[1:]:
        bp = data[name][2]
        if set(bp) != set(bodyparts):
            raise InputError(f"bodyparts differ between cameras: {ref!r} ({inputs[ref]}) has "
                             f"{bodyparts}, {name!r} ({inputs[name]}) has {bp}")
    counts = {n: data[n][0].shape[0] for n in names}
    n_frames = min(counts.values())
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{n}: {c}" for n, c in counts.items())
        if not truncate:
            raise InputError(f"frame counts differ between cameras ({detail}); synchronize the "
                             f"videos or {truncate_hint} to cut all to the shortest ({n_frames})")
        log.warning("TRUNCATING every camera to %d frames: frame counts differ (%s)",
                    n_frames, detail)
    n_cams, n_joints = len(camera_names), len(bodyparts)
    points2d = np.full((n_cams, n_frames, n_joints, 2), np.nan, np.float32)
    scores = np.zeros((n_cams, n_frames, n_joints), np.float32)
    for c, k in enumerate(order):
        if k < 0:
            log.warning("camera %r of the calibration has no 2D input; it is left out",
                        camera_names[c])
            continue
        pts, sc, bp = data[names[k]]
        perm = [bp.index(b) for b in bodyparts]
        points2d[c] = pts[:n_frames, perm]
        scores[c] = sc[:n_frames, perm]
    return points2d, scores, bodyparts


def triangulate_files(calibration: str | Path, inputs: Mapping[str, Path], out: str | Path,
                      skeleton: str | Path | None = None, method: str = "ransac",
                      format: str | None = None, truncate: bool = False, fps: float = 100.0,
                      fill_gaps: int = 0, lowpass_hz: float | None = None,
                      axes: Sequence[tuple[str, str, str]] | None = None,
                      reference_point: str | None = None, angles_out: str | Path | None = None,
                      **options):
    """Triangulate 2D files and write the 3D result.

    Parameters
    ----------
    calibration : path of an anipose / sleap-anipose / Pose2Sim calibration TOML
    inputs : mapping camera name -> 2D file (see :func:`triangulate.load_2d.load_2d`)
    out : output path
    skeleton : path of a skeleton TOML (limbs for optim, angles), optional
    method : {"dlt", "ransac", "optim"}
    format : {"csv", "trc", "c3d", "parquet"}, optional (default from ``out``'s suffix)
    truncate : bool
        Cut cameras to the shortest recording instead of refusing.
    fps : float
        Frame rate, Hz (TRC/C3D headers and the low-pass filter).
    fill_gaps : int
        Interpolate 3D gaps up to this many frames.
    lowpass_hz : float, optional
        Zero-phase Butterworth cutoff, Hz.
    axes, reference_point :
        Axis alignment (see :func:`triangulate.align.align_points`).
    angles_out : path, optional
        Write the skeleton's joint angles (degrees) there as CSV.
    **options
        Passed to :func:`triangulate.triangulate`.

    Returns
    -------
    result : Triangulation
    path : Path written
    """
    from calibration.load_rig import load_rig
    from poses.skeleton import load_skeleton

    from .api import triangulate
    from .filters import fill_gaps as _fill
    from .filters import lowpass
    from .save_3d import pose3d_from_result, save_pose3d

    rig = load_rig(calibration)
    skel = load_skeleton(skeleton) if skeleton is not None else None
    points2d, scores, bodyparts = load_inputs(inputs, rig.names, truncate=truncate)
    if skel is not None:
        check_skeleton_bodyparts(skel, bodyparts, where=f"skeleton file {skeleton}")
    if method == "optim":
        options.setdefault("skeleton", _skeleton_for(skel, bodyparts))
    result = triangulate(rig, points2d, scores, method=method, **options)
    if fill_gaps:
        result.points3d = _fill(result.points3d, fill_gaps)
    if lowpass_hz:
        result.points3d = lowpass(result.points3d, lowpass_hz, fps)
    if axes or reference_point:
        from .align import align_points

        result.points3d = align_points(result.points3d, bodyparts, axes=axes,
                                       reference_point=reference_point)
    pose = pose3d_from_result(result, bodyparts, fps=fps)
    path = save_pose3d(out, pose, format=format)
    if angles_out is not None:
        if skel is None or not skel.angles:
            raise InputError("joint angles need a skeleton with [angles]; pass --skeleton")
        from .angles import save_angles

        save_angles(angles_out, result.points3d, bodyparts, skel.angles)
    return result, path


def _skeleton_for(skel, bodyparts):
    """The skeleton re-indexed on the data's bodyparts (limbs by name), or None."""
    return None if skel is None else skel.on_bodyparts(bodyparts)
