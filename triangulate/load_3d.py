"""Read 3D points written by :mod:`triangulate.save_3d` (and anipose's pose-3d CSV).

Every reader returns a :class:`Pose3D`; fields a format does not carry are NaN (``error``,
``score``), 0 (``ncams``) or None (``sigma``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.errors import InputError

__all__ = ["Pose3D", "from_dataframe", "from_csv", "from_parquet", "from_trc", "from_c3d",
           "load_pose3d"]

_FIELDS = ("x", "y", "z", "error", "ncams", "score", "sigma")


@dataclass
class Pose3D:
    """A 3D pose table.

    Attributes
    ----------
    points3d : (n_frames, n_joints, 3) rig units, NaN where missing
    bodyparts : list of n_joints str
    error : (n_frames, n_joints) pixels
    ncams : (n_frames, n_joints) int
    score : (n_frames, n_joints)
    sigma : (n_frames, n_joints) rig units, or None
    fnum : (n_frames,) int, frame numbers
    units : str
    fps : float, Hz
    """

    points3d: np.ndarray
    bodyparts: list[str]
    error: np.ndarray
    ncams: np.ndarray
    score: np.ndarray
    sigma: np.ndarray | None
    fnum: np.ndarray
    units: str = "mm"
    fps: float = 100.0


def _missing(shape, value=np.nan, dtype=np.float64):
    return np.full(shape, value, dtype=dtype)


def from_dataframe(df: pd.DataFrame, where: str = "pose-3d table", units: str = "mm",
                   fps: float = 100.0) -> Pose3D:
    """A :class:`Pose3D` from anipose's pose-3d columns (``{bp}_x`` ... and ``fnum``)."""
    bodyparts = [c[:-2] for c in df.columns if c.endswith("_x")
                 and f"{c[:-2]}_y" in df.columns and f"{c[:-2]}_z" in df.columns]
    if not bodyparts:
        raise InputError(f"{where}: no {{bodypart}}_x/_y/_z columns found; got columns "
                         f"{list(df.columns)[:12]}")
    n = len(df)
    X = np.stack([df[[f"{bp}_x", f"{bp}_y", f"{bp}_z"]].to_numpy(np.float64)
                  for bp in bodyparts], axis=1)

    def col(name, default, dtype=np.float64):
        if all(f"{bp}_{name}" in df.columns for bp in bodyparts):
            return np.stack([df[f"{bp}_{name}"].to_numpy(dtype) for bp in bodyparts], axis=1)
        return default

    has_sigma = all(f"{bp}_sigma" in df.columns for bp in bodyparts)
    fnum = df["fnum"].to_numpy(np.int64) if "fnum" in df.columns else np.arange(n)
    ncams = col("ncams", _missing((n, len(bodyparts)), 0, np.int64), np.float64)
    return Pose3D(points3d=X, bodyparts=bodyparts, error=col("error", _missing(X.shape[:2])),
                  ncams=np.nan_to_num(ncams).astype(np.int64),
                  score=col("score", _missing(X.shape[:2])),
                  sigma=col("sigma", None) if has_sigma else None, fnum=fnum, units=units,
                  fps=fps)


def _exists(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"3D points file not found: {path}")
    return path


def from_csv(path: str | Path, units: str = "mm", fps: float = 100.0) -> Pose3D:
    """Read a pose-3d CSV (ours or anipose's; extra columns such as ``M_00`` are ignored)."""
    path = _exists(path)
    return from_dataframe(pd.read_csv(path), where=str(path), units=units, fps=fps)


def from_parquet(path: str | Path) -> Pose3D:
    """Read a pose-3d parquet file (units and rate from its metadata when present)."""
    path = _exists(path)
    try:
        df = pd.read_parquet(path)
    except ImportError as exc:
        raise InputError(f"reading parquet ({path}) needs pyarrow ({exc})") from None
    return from_dataframe(df, where=str(path), units=df.attrs.get("units", "mm"),
                          fps=float(df.attrs.get("fps", 100.0)))


def from_trc(path: str | Path) -> Pose3D:
    """Read an OpenSim TRC file (positions, units and rate)."""
    path = _exists(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    if len(lines) < 5 or not lines[0].startswith("PathFileType"):
        raise InputError(f"{path}: not a TRC file (expected a PathFileType header line)")
    keys, values = lines[1].split("\t"), lines[2].split("\t")
    header = dict(zip(keys, values, strict=False))
    try:
        fps = float(header["DataRate"])
        n_markers = int(header["NumMarkers"])
    except (KeyError, ValueError):
        raise InputError(f"{path}: TRC header lacks DataRate/NumMarkers: {header}") from None
    names = [n for n in lines[3].split("\t")[2:] if n.strip()][:n_markers]
    rows = [r.split("\t") for r in lines[5:] if r.strip()]
    data = np.full((len(rows), 3 * n_markers), np.nan)
    frames = np.zeros(len(rows), np.int64)
    for i, r in enumerate(rows):
        frames[i] = int(float(r[0])) - 1
        vals = r[2:2 + 3 * n_markers]
        data[i, :len(vals)] = [float(v) if v.strip() else np.nan for v in vals]
    X = data.reshape(len(rows), n_markers, 3)
    shape = X.shape[:2]
    return Pose3D(points3d=X, bodyparts=names, error=_missing(shape),
                  ncams=np.zeros(shape, np.int64), score=_missing(shape), sigma=None,
                  fnum=frames, units=header.get("Units", "mm"), fps=fps)


def from_c3d(path: str | Path) -> Pose3D:
    """Read a C3D file with ezc3d (residual -1 marks missing points; others are the error)."""
    import ezc3d

    path = _exists(path)
    c3d = ezc3d.c3d(str(path))
    point = c3d["parameters"]["POINT"]
    pts = c3d["data"]["points"]
    X = np.transpose(pts[:3], (2, 1, 0)).astype(np.float64)
    res = c3d["data"]["meta_points"]["residuals"][0].T.astype(np.float64)
    X[res < 0] = np.nan
    err = np.where(res < 0, np.nan, res)
    units = point["UNITS"]["value"][0] if point["UNITS"]["value"] else "mm"
    return Pose3D(points3d=X, bodyparts=list(point["LABELS"]["value"]), error=err,
                  ncams=np.zeros(err.shape, np.int64), score=_missing(err.shape), sigma=None,
                  fnum=np.arange(X.shape[0]), units=units, fps=float(point["RATE"]["value"][0]))


_READERS = {".csv": from_csv, ".parquet": from_parquet, ".trc": from_trc, ".c3d": from_c3d}


def load_pose3d(path: str | Path) -> Pose3D:
    """Read a 3D points file, choosing the reader by suffix (csv, parquet, trc, c3d)."""
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"{path}: unknown 3D file suffix {path.suffix!r}; expected one of "
                         f"{list(_READERS)}")
    return reader(path)
