"""OpenSim TRC marker files (tab separated text), read and written.

Layout, as tripose always wrote it (and OpenSim reads): a ``PathFileType 4 (X/Y/Z) name``
line; a line of header keys (``DataRate CameraRate NumFrames NumMarkers Units OrigDataRate
OrigDataStartFrame OrigNumFrames``) and one of their values; the marker names, each followed
by two empty cells, after ``Frame# Time``; ``X1 Y1 Z1 X2 ...``; an empty line; then one row
per frame: the frame number (1-based), the time in seconds and ``%.6f`` coordinates, missing
points as empty fields.

Mapping onto :class:`poses.Poses`: 3D positions in ``Units``; ``DataRate`` is ``fps``;
``frame_index`` is ``Frame# - 1`` and the time ``frame_index / fps``. TRC has no confidence
(reading gives the default: 1 where a point is present) and no quality. Markers of one
individual are the keypoint names (its own name is not stored; it reads back as
:data:`poses.DEFAULT_INDIVIDUAL`); several individuals give ``{individual}:{keypoint}``
markers (the convention of Vicon's subjects), split back into individuals and keypoints when
every marker has exactly one ``:`` and together they fill the individuals x keypoints grid in
that order.

Writing needs a frame rate and units (TRC requires both; nothing is guessed) and refuses 2D
poses and names holding ``:``, tabs or line breaks.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_path
from ..errors import InputError
from ..model import DEFAULT_INDIVIDUAL, Poses
from .cells import neutralize, restore
from .registry import Format, register

__all__ = ["load_trc", "save_trc", "is_trc_file", "marker_labels", "split_labels",
           "check_marker_names", "rate_text", "require_markers"]

_HEADER_KEYS = ("DataRate", "CameraRate", "NumFrames", "NumMarkers", "Units", "OrigDataRate",
                "OrigDataStartFrame", "OrigNumFrames")


# ------------------------------------------------------------------ shared with C3D
def check_marker_names(poses: Poses, where: str, forbidden: str = ":") -> None:
    """Refuse individual or keypoint names holding a character of ``forbidden``."""
    for what, names in (("keypoint", poses.keypoints), ("individual", poses.individuals)):
        bad = [n for n in names if any(c in n for c in forbidden)]
        if bad:
            shown = ", ".join(repr(c) for c in forbidden)
            raise InputError(f"{where}: {what} names must not contain {shown} (markers are "
                             f"named individual:keypoint); rename {bad[:4]}")


def marker_labels(poses: Poses) -> list[str]:
    """Marker names, individual-major: keypoints for one individual, else
    ``{individual}:{keypoint}``."""
    if poses.n_individuals == 1:
        return list(poses.keypoints)
    return [f"{i}:{k}" for i in poses.individuals for k in poses.keypoints]


def split_labels(labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(individuals, keypoints)`` from marker names.

    ``{individual}:{keypoint}`` names that fill the individuals x keypoints grid,
    individual-major, are split; any other list is one individual
    (:data:`poses.DEFAULT_INDIVIDUAL`) with the names as keypoints.
    """
    labels = [str(s) for s in labels]
    parts = [s.split(":") for s in labels]
    if labels and all(len(p) == 2 and p[0] and p[1] for p in parts):
        inds = list(dict.fromkeys(p[0] for p in parts))
        kps = list(dict.fromkeys(p[1] for p in parts))
        if [f"{i}:{k}" for i in inds for k in kps] == labels:
            return inds, kps
    return [DEFAULT_INDIVIDUAL], labels


def rate_text(fps: float) -> str:
    """``fps`` as ``%g`` (tripose's format) when that is exact, else in full."""
    short = f"{fps:g}"
    return short if float(short) == fps else repr(float(fps))


def require_markers(poses: Poses, path: Path, fmt: str) -> None:
    """Refuse what a marker format (TRC, C3D) cannot hold: 2D poses, no fps, no units."""
    where = f"{path} ({fmt})"
    if not poses.is_3d:
        raise InputError(f"{where}: {fmt} holds 3D markers; these poses are 2D")
    if poses.fps is None:
        raise InputError(f"{where}: {fmt} needs a frame rate and these poses have none; "
                         f"pass fps / --fps")
    if not poses.units:
        raise InputError(f"{where}: {fmt} needs the units of the 3D points and these poses "
                         f"have none; pass units / --units (e.g. mm)")


# ---------------------------------------------------------------------------- TRC
def is_trc_file(path: str | Path) -> bool:
    """Whether ``path`` starts with TRC's ``PathFileType`` line. Never raises."""
    try:
        with open(path, "rb") as f:
            return f.read(12) == b"PathFileType"
    except OSError:
        return False


def save_trc(poses: Poses, path: str | Path) -> Path:
    """Write an OpenSim TRC file atomically.

    Parameters
    ----------
    poses : Poses
        3D, with ``fps`` (Hz) and ``units``.
    path : str or Path

    Returns
    -------
    Path written.

    Raises
    ------
    InputError
        2D poses, no fps or units, or names with ``:``, tabs or line breaks.
    """
    path = Path(path)
    require_markers(poses, path, "TRC")
    check_marker_names(poses, str(path), forbidden=":\t\n\r")
    labels = marker_labels(poses)
    n_frames, n_markers = poses.n_frames, len(labels)
    rate = rate_text(poses.fps)
    first = int(poses.frame_index[0]) + 1 if n_frames else 1
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "\t".join(_HEADER_KEYS),
        f"{rate}\t{rate}\t{n_frames}\t{n_markers}\t{poses.units}\t{rate}\t{first}\t{n_frames}",
        "Frame#\tTime\t" + "\t".join(f"{neutralize(m)}\t\t" for m in labels).rstrip("\t"),
        "\t\t" + "\t".join(f"X{j + 1}\tY{j + 1}\tZ{j + 1}" for j in range(n_markers)),
        "",
    ]
    table = pd.DataFrame(poses.position.reshape(n_frames, n_markers * 3))
    table.insert(0, "time", poses.frame_index / poses.fps)
    table.insert(0, "frame", poses.frame_index + 1)
    body = table.to_csv(sep="\t", header=False, index=False, float_format="%.6f",
                        lineterminator="\n")
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n" + body, encoding="utf-8")
    return path


def load_trc(path: str | Path) -> Poses:
    """Read an OpenSim TRC file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Poses
        3D; ``fps`` from ``DataRate``, ``units`` from ``Units`` (None when absent),
        default confidence, individuals split from ``individual:keypoint`` markers.

    Raises
    ------
    FileNotFoundError
        No such file.
    InputError
        No ``PathFileType`` line, no valid ``DataRate`` or ``NumMarkers``, or rows that are
        not numbers.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"TRC file not found: {path}")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a TRC text file ({exc})") from None
    if len(lines) < 5 or not lines[0].startswith("PathFileType"):
        raise InputError(f"{path}: not a TRC file; expected a 'PathFileType' first line, then "
                         f"header keys, their values, marker names and X1/Y1/Z1 lines")
    header = dict(zip((k.strip() for k in lines[1].split("\t")),
                      (v.strip() for v in lines[2].split("\t")), strict=False))
    try:
        fps = float(header["DataRate"])
        n_markers = int(header["NumMarkers"])
    except (KeyError, ValueError):
        raise InputError(f"{path}: TRC header needs DataRate (Hz) and NumMarkers, got "
                         f"{header}") from None
    if not np.isfinite(fps) or fps <= 0 or n_markers < 1:
        raise InputError(f"{path}: TRC DataRate must be a positive rate and NumMarkers at least "
                         f"1, got DataRate={header['DataRate']!r}, NumMarkers={n_markers}")
    names = [restore(n.strip()) for n in lines[3].split("\t")[2:] if n.strip()]
    if len(names) < n_markers:
        raise InputError(f"{path}: TRC header says NumMarkers={n_markers} but names "
                         f"{len(names)} marker(s) on line 4")
    names = names[:n_markers]
    width = 2 + 3 * n_markers
    rows = "\n".join(r for r in lines[5:] if r.strip())
    if rows:
        try:
            data = pd.read_csv(io.StringIO(rows), sep="\t", header=None, dtype=np.float64,
                               names=range(max(width, rows.split("\n")[0].count("\t") + 1)))
        except (ValueError, pd.errors.ParserError) as exc:
            raise InputError(f"{path}: TRC rows must hold numbers (empty = missing): "
                             f"{str(exc).splitlines()[0]}") from None
        values = data.to_numpy()[:, :width]
    else:
        values = np.empty((0, width))
    frame = values[:, 0]
    if not np.all(np.isfinite(frame) & (frame == np.round(frame))):
        raise InputError(f"{path}: TRC column Frame# must hold whole frame numbers")
    inds, kps = split_labels(names)
    n_frames = len(values)
    pos = values[:, 2:].reshape(n_frames, len(inds), len(kps), 3)
    return Poses(pos, keypoints=kps, individuals=inds, fps=fps,
                 units=header.get("Units") or None, source_file=str(path),
                 frame_index=frame.astype(np.int64) - 1)


register(Format(
    name="trc", suffixes=(".trc",), description="OpenSim TRC markers (3D, needs fps and units)",
    load=load_trc, save=save_trc, sniff=is_trc_file, priority=0))
