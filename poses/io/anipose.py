"""anipose's pose-3d table (CSV), read and written; also the table behind :mod:`.parquet`.

Layout, as anipose writes it: per bodypart the columns ``{bp}_x, {bp}_y, {bp}_z,
{bp}_error, {bp}_ncams, {bp}_score`` (and tripose's ``{bp}_sigma`` when the uncertainty is
known), then ``fnum``; one row per frame. anipose also writes ``M_00 .. M_22`` and
``center_0 .. center_2`` (its alignment of the axes); readers ignore them, as they ignore any
column that is not ``{bp}_{field}`` of a bodypart.

Mapping onto :class:`poses.Poses`: ``{bp}_x/_y/_z`` -> position (the rig's units, which a CSV
does not record: ``units`` and ``fps`` are None unless the caller passes them),
``{bp}_score`` <-> confidence, ``{bp}_error`` <-> ``quality["error"]`` (reprojection error,
pixels), ``{bp}_ncams`` <-> ``quality["ncams"]``, ``{bp}_sigma`` <-> ``quality["sigma"]``,
``fnum`` <-> ``frame_index``. Missing values are empty fields.

Several individuals (or one not named :data:`poses.DEFAULT_INDIVIDUAL`) use the same columns
plus a string column ``individual``, long format: one row per (frame, individual), ordered by
frame then by individual; the reader restores the individuals in order of first appearance
(a missing (frame, individual) row is NaN). One individual named ``"ind1"`` gives exactly the
file tripose always wrote: ``df.to_csv(path, index=False, float_format="%.6f")``, ``ncams`` as
integers, ``error`` empty and ``ncams`` 0 when the poses carry none, so any 3D result stays
loadable by anipose.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..atomic import atomic_path
from ..dims import SPACE_3D
from ..errors import InputError
from ..model import DEFAULT_INDIVIDUAL, Poses
from .cells import neutralize, neutralize_all, restore, restore_all
from .registry import Format, register

__all__ = ["load_anipose", "save_anipose", "from_anipose_dataframe", "to_anipose_dataframe",
           "is_anipose_file", "INDIVIDUAL_COLUMN", "QUALITY_COLUMNS"]

#: Column naming each row's individual in the long (multi-animal) layout.
INDIVIDUAL_COLUMN = "individual"
#: Quality fields with a column of their own, in anipose's column order.
QUALITY_COLUMNS = ("error", "ncams", "sigma")
_EXPECT = "anipose's pose-3d columns {bodypart}_x, {bodypart}_y, {bodypart}_z (then fnum)"


def _bodyparts(columns: Sequence[str], n_space: int) -> list[str]:
    """Bodyparts that have a full ``_x, _y[, _z]`` set of columns, in column order."""
    have = set(columns)
    axes = SPACE_3D[:n_space]
    return [c[:-2] for c in columns if isinstance(c, str) and c.endswith("_x") and len(c) > 2
            and all(f"{c[:-2]}_{a}" in have for a in axes)]


def is_anipose_file(path: str | Path) -> bool:
    """Whether ``path`` is a CSV whose header has ``{bp}_x, _y, _z`` columns (not DeepLabCut's
    ``scorer`` rows). Never raises."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            header = f.readline(1 << 22).strip()
    except (OSError, UnicodeDecodeError):
        return False
    if not header or header.lower().startswith("scorer"):
        return False
    cols = [c.strip().strip('"') for c in header.split(",")]
    return bool(_bodyparts(cols, 3))


def _int_frames(values, where: str, column: str) -> np.ndarray:
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(v) | (v != np.round(v))
    if bad.any():
        raise InputError(f"{where}: column {column!r} must hold whole frame numbers; row "
                         f"{int(np.flatnonzero(bad)[0])} has {values[np.flatnonzero(bad)[0]]!r}")
    return v.astype(np.int64)


def _numeric(df: pd.DataFrame, cols: list[str], where: str) -> np.ndarray:
    try:
        return df[cols].apply(pd.to_numeric, errors="raise").to_numpy(np.float64)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where}: non-numeric values in columns {cols[:3]}...: {exc}; "
                         f"expected numbers (empty = missing)") from None


def from_anipose_dataframe(df: pd.DataFrame, where: str = "anipose table", *,
                           units: str | None = None, fps: float | None = None,
                           keypoints: Sequence[str] | None = None, n_space: int = 3,
                           quality: Sequence[str] = QUALITY_COLUMNS,
                           individuals: Sequence[str] | None = None) -> Poses:
    """Poses from an anipose pose-3d table.

    Parameters
    ----------
    df : DataFrame
        Columns ``{bp}_x, {bp}_y[, {bp}_z]`` and optionally ``{bp}_score``, ``{bp}_error``,
        ``{bp}_ncams``, ``{bp}_sigma``, ``fnum``, ``individual``; others are ignored.
    where : str
        Named in error messages (and kept as ``source_file``).
    units, fps : optional
        Metadata the table does not hold.
    keypoints : sequence of str, optional
        Bodyparts to read, in this order (default: every bodypart with full coordinate
        columns, in column order).
    n_space : 2 or 3
        Coordinates per point (2: ``_x, _y`` only).
    quality : sequence of str
        Per-point fields read into ``quality`` when every bodypart has a ``{bp}_{field}``
        column.
    individuals : sequence of str, optional
        Order of the individuals (default: order of first appearance in ``individual``).

    Returns
    -------
    Poses
        ``position (n_frames, n_individuals, n_keypoints, n_space)``.

    Raises
    ------
    InputError
        No coordinate columns, non-numeric values, frame numbers that are not whole, or a
        (frame, individual) pair given twice.
    """
    cols = [str(c) for c in df.columns]
    if keypoints is None:
        bps = _bodyparts(cols, n_space)
        if not bps:
            raise InputError(f"{where}: no {{bodypart}}_x/_y{'/_z' if n_space == 3 else ''} "
                             f"columns; expected {_EXPECT}; got columns {cols[:12]}")
    else:
        bps = [str(k) for k in keypoints]
        lack = [f"{b}_{a}" for b in bps for a in SPACE_3D[:n_space] if f"{b}_{a}" not in cols]
        if lack:
            raise InputError(f"{where}: missing columns {lack[:6]}; expected {_EXPECT}")
    df = df.reset_index(drop=True)
    n_rows, n_kp = len(df), len(bps)
    xyz = _numeric(df, [f"{b}_{a}" for b in bps for a in SPACE_3D[:n_space]], where)
    xyz = xyz.reshape(n_rows, n_kp, n_space)

    def field(name: str) -> np.ndarray | None:
        names = [f"{b}_{name}" for b in bps]
        return _numeric(df, names, where) if all(c in cols for c in names) else None

    fnum = (_int_frames(df["fnum"].to_numpy(), where, "fnum") if "fnum" in cols
            else np.arange(n_rows, dtype=np.int64))
    if INDIVIDUAL_COLUMN in cols:
        ind_col = df[INDIVIDUAL_COLUMN]
        if ind_col.isna().any():
            row = int(np.flatnonzero(ind_col.isna().to_numpy())[0])
            raise InputError(f"{where}: column {INDIVIDUAL_COLUMN!r} is empty in row {row}; "
                             f"every row must name its individual")
        ind_names = ind_col.astype(str).to_numpy()
        inds = (list(dict.fromkeys(ind_names)) if individuals is None
                else [str(i) for i in individuals])
        ii = pd.Index(inds).get_indexer(ind_names)
        if (ii < 0).any():
            raise InputError(f"{where}: individual {ind_names[ii < 0][0]!r} is not one of "
                             f"{inds}")
    else:
        inds = ([DEFAULT_INDIVIDUAL] if individuals is None else [str(i) for i in individuals])
        ii = np.zeros(n_rows, np.int64)
    frames = pd.unique(fnum)
    fi = pd.Index(frames).get_indexer(fnum)
    flat = fi * len(inds) + ii
    if np.unique(flat).size != n_rows:
        _, first, counts = np.unique(flat, return_index=True, return_counts=True)
        row = int(first[np.flatnonzero(counts > 1)[0]])
        raise InputError(f"{where}: frame {fnum[row]} of individual {inds[ii[row]]!r} appears "
                         f"in more than one row; expected one row per (frame, individual)")
    shape = (len(frames), len(inds), n_kp)

    def place(values: np.ndarray) -> np.ndarray:
        out = np.full(shape + values.shape[2:], np.nan)
        out[fi, ii] = values
        return out

    score = field("score")
    qual = {q: place(v) for q in quality if (v := field(q)) is not None}
    return Poses(place(xyz), None if score is None else place(score), keypoints=bps,
                 individuals=inds, fps=fps, units=units, source_file=where,
                 frame_index=np.asarray(frames, np.int64), quality=qual)


def to_anipose_dataframe(poses: Poses, *, anipose_defaults: bool = True) -> pd.DataFrame:
    """The anipose pose-3d table of ``poses`` (2D poses: ``_x, _y`` columns only).

    Parameters
    ----------
    poses : Poses
    anipose_defaults : bool
        As anipose and tripose always wrote it (for CSV): ``{bp}_error`` (NaN when unknown)
        and ``{bp}_ncams`` (integers, 0 when unknown) for 3D poses even when ``quality``
        lacks them. False (parquet): exactly the quality fields present, as floats, every
        one of them (not only ``error, ncams, sigma``).

    Returns
    -------
    DataFrame
        Per keypoint ``x, y[, z], [error, ncams,] score[, sigma, other quality]``, then
        ``fnum``; plus ``individual`` (long format, one row per frame and individual,
        frame-major) unless there is one individual named ``"ind1"``.
    """
    n_frames, n_ind, n_kp, n_space = poses.position.shape
    n_rows = n_frames * n_ind
    pos = poses.position.reshape(n_rows, n_kp, n_space)
    conf = poses.confidence.reshape(n_rows, n_kp)
    qual = {k: v.reshape(n_rows, n_kp) for k, v in poses.quality.items()}
    if anipose_defaults and poses.is_3d:
        err = qual.get("error", np.full((n_rows, n_kp), np.nan))
        ncams = np.nan_to_num(qual.get("ncams", np.zeros((n_rows, n_kp))), nan=0.0)
        before = {"error": err, "ncams": ncams.astype(np.int64)}
        after = {k: qual[k] for k in ("sigma",) if k in qual}
    elif anipose_defaults:
        before, after = {}, {k: qual[k] for k in ("sigma",) if k in qual}
    else:
        before = {k: qual[k] for k in ("error", "ncams") if k in qual}
        after = {k: v for k, v in qual.items() if k not in before}
    pairs: list[tuple[str, np.ndarray]] = []
    for j, bp in enumerate(poses.keypoints):
        pairs += [(f"{bp}_{axis}", pos[:, j, k]) for k, axis in enumerate(SPACE_3D[:n_space])]
        pairs += [(f"{bp}_{name}", arr[:, j]) for name, arr in before.items()]
        pairs.append((f"{bp}_score", conf[:, j]))
        pairs += [(f"{bp}_{name}", arr[:, j]) for name, arr in after.items()]
    pairs.append(("fnum", np.repeat(poses.frame_index, n_ind)))
    if n_ind != 1 or poses.individuals[0] != DEFAULT_INDIVIDUAL:
        pairs.append((INDIVIDUAL_COLUMN,
                      np.tile(np.asarray(poses.individuals, dtype=object), n_frames)))
    cols = dict(pairs)
    if len(cols) != len(pairs):
        dup = sorted({n for n, _ in pairs if sum(m == n for m, _ in pairs) > 1})
        raise InputError(f"{poses.source_file or 'poses'}: keypoint or quality names give the "
                         f"same column twice ({dup[:4]}); rename them")
    return pd.DataFrame(cols)


def load_anipose(path: str | Path, units: str | None = None, fps: float | None = None) -> Poses:
    """Read anipose's pose-3d CSV (ours or anipose's own).

    Parameters
    ----------
    path : str or Path
    units : str, optional
        The 3D units (a CSV does not record them; default None = unknown).
    fps : float, optional
        Frame rate in Hz (default None = unknown).

    Returns
    -------
    Poses
        3D, ``source_file`` = ``path``.

    Raises
    ------
    FileNotFoundError
        No such file.
    InputError
        Not a CSV with ``{bp}_x, _y, _z`` columns, or malformed values.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"anipose 3D CSV not found: {path}")
    try:
        df = pd.read_csv(path, dtype={INDIVIDUAL_COLUMN: str}, low_memory=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as exc:
        raise InputError(f"{path}: cannot read as CSV ({str(exc).splitlines()[0]}); expected "
                         f"{_EXPECT}") from None
    df.columns = restore_all(df.columns)
    if INDIVIDUAL_COLUMN in df.columns:
        df[INDIVIDUAL_COLUMN] = df[INDIVIDUAL_COLUMN].map(restore, na_action="ignore")
    return from_anipose_dataframe(df, where=str(path), units=units, fps=fps)


def save_anipose(poses: Poses, path: str | Path) -> Path:
    """Write anipose's pose-3d CSV atomically (``%.6f``, missing values as empty fields).

    Parameters
    ----------
    poses : Poses
        3D poses (2D ones are refused: anipose's table is 3D).
    path : str or Path

    Returns
    -------
    Path written.

    Raises
    ------
    InputError
        2D poses, or keypoint names whose columns would collide.
    """
    path = Path(path)
    if not poses.is_3d:
        raise InputError(f"{path}: anipose's pose-3d CSV holds 3D points; these poses "
                         f"({poses.source_file or 'poses'}) are 2D (write DeepLabCut instead)")
    df = to_anipose_dataframe(poses)
    df.columns = neutralize_all(df.columns)  # no formulas in a spreadsheet's header
    if INDIVIDUAL_COLUMN in df.columns:
        df[INDIVIDUAL_COLUMN] = df[INDIVIDUAL_COLUMN].map(neutralize)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6f")
    return path


register(Format(
    name="anipose", suffixes=(".csv",),
    description="anipose pose-3d CSV ({bodypart}_x/_y/_z/_error/_ncams/_score, fnum)",
    load=load_anipose, save=save_anipose, sniff=is_anipose_file, priority=0))
