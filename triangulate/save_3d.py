"""Write 3D points: anipose pose-3d CSV, OpenSim TRC, C3D (ezc3d) and parquet (pyarrow).

Every writer takes a :class:`~triangulate.load_3d.Pose3D` (see :func:`pose3d_from_result`),
writes beside the target and renames (atomic), and refuses nothing it cannot represent
silently: TRC and C3D carry positions only (plus C3D residuals = reprojection error).

CSV / parquet columns (anipose's pose-3d layout): ``{bp}_x, {bp}_y, {bp}_z, {bp}_error,
{bp}_ncams, {bp}_score`` (``{bp}_sigma`` when uncertainty is known) per bodypart, then
``fnum``. Units are the calibration's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from calibration.errors import InputError
from poses.atomic import atomic_path

from .load_3d import Pose3D

__all__ = ["FORMATS", "to_dataframe", "to_csv", "to_parquet", "to_trc", "to_c3d", "save_pose3d",
           "pose3d_from_result"]

#: Output formats and their file suffixes.
FORMATS = {"csv": ".csv", "trc": ".trc", "c3d": ".c3d", "parquet": ".parquet"}


def pose3d_from_result(result, bodyparts, fps: float = 100.0) -> Pose3D:
    """A :class:`Pose3D` from a :class:`~triangulate.api.Triangulation`.

    Parameters
    ----------
    result : Triangulation
    bodyparts : sequence of n_joints str
    fps : float
        Frame rate, Hz (TRC and C3D store it).
    """
    bodyparts = [str(b) for b in bodyparts]
    if len(bodyparts) != result.n_joints:
        raise InputError(f"{len(bodyparts)} bodypart names for {result.n_joints} joints")
    return Pose3D(points3d=result.points3d, bodyparts=bodyparts,
                  error=result.reprojection_error, ncams=result.n_cams, score=result.score,
                  sigma=result.uncertainty, fnum=np.arange(result.n_frames),
                  units=result.units, fps=float(fps))


def to_dataframe(pose: Pose3D) -> pd.DataFrame:
    """anipose pose-3d table: one row per frame.

    Returns
    -------
    DataFrame
        Columns ``{bp}_x .. {bp}_score[, {bp}_sigma]`` per bodypart, then ``fnum``.
    """
    cols: dict[str, np.ndarray] = {}
    for j, bp in enumerate(pose.bodyparts):
        for k, axis in enumerate("xyz"):
            cols[f"{bp}_{axis}"] = pose.points3d[:, j, k]
        cols[f"{bp}_error"] = pose.error[:, j]
        cols[f"{bp}_ncams"] = pose.ncams[:, j]
        cols[f"{bp}_score"] = pose.score[:, j]
        if pose.sigma is not None:
            cols[f"{bp}_sigma"] = pose.sigma[:, j]
    cols["fnum"] = pose.fnum
    return pd.DataFrame(cols)


def to_csv(path: str | Path, pose: Pose3D) -> Path:
    """Write anipose's pose-3d CSV atomically (NaN as empty fields)."""
    path = Path(path)
    df = to_dataframe(pose)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6f")
    return path


def to_parquet(path: str | Path, pose: Pose3D) -> Path:
    """Write the pose-3d table as parquet (needs pyarrow or fastparquet), atomically."""
    path = Path(path)
    df = to_dataframe(pose)
    df.attrs = {"units": pose.units, "fps": pose.fps}
    try:
        with atomic_path(path) as tmp:
            df.to_parquet(tmp, index=False)
    except ImportError as exc:
        raise InputError(f"writing parquet ({path}) needs pyarrow: pip install pyarrow "
                         f"({exc})") from None
    return path


def to_trc(path: str | Path, pose: Pose3D) -> Path:
    """Write an OpenSim TRC file (tab separated, units and rate in the header).

    Missing points are empty fields. Frames are numbered from 1, times from
    ``fnum[0] / fps``.
    """
    path = Path(path)
    n_frames, n_joints, _ = pose.points3d.shape
    rate = f"{pose.fps:g}"
    lines = [
        f"PathFileType\t4\t(X/Y/Z)\t{path.name}",
        "DataRate\tCameraRate\tNumFrames\tNumMarkers\tUnits\tOrigDataRate\t"
        "OrigDataStartFrame\tOrigNumFrames",
        f"{rate}\t{rate}\t{n_frames}\t{n_joints}\t{pose.units}\t{rate}\t1\t{n_frames}",
        "Frame#\tTime\t" + "\t".join(f"{bp}\t\t" for bp in pose.bodyparts).rstrip("\t"),
        "\t\t" + "\t".join(f"X{j + 1}\tY{j + 1}\tZ{j + 1}" for j in range(n_joints)),
        "",
    ]
    flat = pose.points3d.reshape(n_frames, n_joints * 3)
    text = np.where(np.isfinite(flat), np.char.mod("%.6f", np.nan_to_num(flat)), "")
    times = (np.asarray(pose.fnum) - pose.fnum[0]) / pose.fps if n_frames else []
    for i in range(n_frames):
        lines.append(f"{i + 1}\t{times[i]:.6f}\t" + "\t".join(text[i]))
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def to_c3d(path: str | Path, pose: Pose3D) -> Path:
    """Write a C3D file with ezc3d: points, labels, rate, units; residuals are the
    reprojection errors (-1 marks a missing point, as C3D requires)."""
    import ezc3d

    path = Path(path)
    n_frames, n_joints, _ = pose.points3d.shape
    c3d = ezc3d.c3d()
    point = c3d["parameters"]["POINT"]
    point["RATE"]["value"] = [float(pose.fps)]
    point["LABELS"]["value"] = tuple(pose.bodyparts)
    point["UNITS"]["value"] = [pose.units]
    pts = np.ones((4, n_joints, n_frames))
    pts[:3] = np.transpose(pose.points3d, (2, 1, 0))
    missing = ~np.isfinite(pts[:3]).all(0)
    pts[:3, missing] = 0.0
    res = np.where(np.isfinite(pose.error), pose.error, 0.0).T[None].astype(np.float64)
    res[0, missing] = -1.0
    c3d["data"]["points"] = pts
    c3d["data"]["meta_points"]["residuals"] = res
    with atomic_path(path) as tmp:
        c3d.write(str(tmp))
    return path


_WRITERS = {"csv": to_csv, "trc": to_trc, "c3d": to_c3d, "parquet": to_parquet}


def save_pose3d(path: str | Path, pose: Pose3D, format: str | None = None) -> Path:
    """Write ``pose`` in ``format`` (default: from the suffix, else csv).

    Parameters
    ----------
    path : str or Path
    pose : Pose3D
    format : {"csv", "trc", "c3d", "parquet"}, optional
    """
    path = Path(path)
    if format is None:
        format = next((k for k, v in FORMATS.items() if v == path.suffix.lower()), "csv")
    if format not in _WRITERS:
        raise InputError(f"unknown 3D output format {format!r}; choose one of {list(_WRITERS)}")
    return _WRITERS[format](path, pose)
