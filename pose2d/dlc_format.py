"""DeepLabCut's single-animal keypoint tables (h5 and csv), read and written.

Coordinate convention: pixels, origin at the centre of the top-left pixel (DeepLabCut's own),
NaN where a keypoint is missing. Columns are a MultiIndex ``(scorer, bodyparts, coords)``;
labels (``CollectedData_<scorer>``) have coords ``x, y``, analysis output ``x, y,
likelihood``. Label rows are indexed by image path, either one string
(``labeled-data/<video>/img0001.png``) or, since DeepLabCut 2.2, a three-level MultiIndex.

Compatible with ``triangulate/save_2d.py`` (h5 key ``df_with_missing``, table format).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from poses.atomic import atomic_path

__all__ = ["DLCTable", "from_dlc_file", "to_dlc_dataframe", "to_dlc_file", "is_dlc_file"]


class DLCTable:
    """Keypoints read from a DeepLabCut table.

    Attributes
    ----------
    points2d : (n_rows, n_joints, 2) float64 pixels, NaN where missing
    scores : (n_rows, n_joints) float64 likelihood, or None for label files
    bodyparts : list of str
    scorer : str
    index : list of str
        Row names (image paths with ``/`` separators for labels, frame numbers otherwise).
    """

    def __init__(self, points2d, scores, bodyparts, scorer, index):
        self.points2d = points2d
        self.scores = scores
        self.bodyparts = list(bodyparts)
        self.scorer = scorer
        self.index = list(index)

    def __repr__(self) -> str:
        return (f"DLCTable(scorer={self.scorer!r}, rows={len(self.index)}, "
                f"bodyparts={self.bodyparts})")


def is_dlc_file(path: str | Path) -> bool:
    """Whether ``path`` looks like a DeepLabCut h5/csv table (by suffix and header)."""
    path = Path(path)
    if path.suffix == ".h5":
        return path.is_file()
    if path.suffix == ".csv" and path.is_file():
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readline().startswith("scorer")
    return False


def _read_frame(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"DeepLabCut table {path} does not exist")
    try:
        if path.suffix == ".h5":
            return pd.read_hdf(path)
        if path.suffix == ".csv":
            with open(path, encoding="utf-8") as f:
                first = f.readline().rstrip("\r\n").split(",")
            n_index = 1  # "scorer" then one empty field per extra index level
            while n_index < len(first) and first[n_index] == "":
                n_index += 1
            return pd.read_csv(path, header=[0, 1, 2], index_col=list(range(n_index)))
    except (OSError, ValueError, KeyError, IndexError) as exc:
        raise ValueError(f"cannot read DeepLabCut table {path}: {exc}; expected the h5 or "
                         f"csv that DeepLabCut writes (columns scorer/bodyparts/coords)") from exc
    raise ValueError(f"{path}: expected a .h5 or .csv DeepLabCut table, got {path.suffix!r}")


def from_dlc_file(path: str | Path) -> DLCTable:
    """Read a DeepLabCut single-animal table (labels or analysis output).

    Parameters
    ----------
    path : str or Path
        ``.h5`` or ``.csv``.

    Returns
    -------
    DLCTable
    """
    path = Path(path)
    df = _read_frame(path)
    cols = df.columns
    if not isinstance(cols, pd.MultiIndex) or cols.nlevels < 3:
        raise ValueError(f"{path}: expected columns (scorer, bodyparts, coords), got "
                         f"{cols.nlevels} level(s); is this a DeepLabCut file?")
    if cols.nlevels == 4:
        raise ValueError(f"{path}: multi-animal DeepLabCut tables (an 'individuals' level) "
                         f"are not supported; export a single-animal table")
    scorer = str(cols.get_level_values(0)[0])
    bodyparts = list(dict.fromkeys(cols.get_level_values(1)))
    coords = list(dict.fromkeys(cols.get_level_values(2)))
    if "x" not in coords or "y" not in coords:
        raise ValueError(f"{path}: expected coords x and y, got {coords}")
    sub = df[scorer] if scorer in cols.get_level_values(0) else df
    n, j = len(df), len(bodyparts)
    xy = np.full((n, j, 2), np.nan)
    scores = np.full((n, j), np.nan) if "likelihood" in coords else None
    for k, bp in enumerate(bodyparts):
        xy[:, k, 0] = pd.to_numeric(sub[(bp, "x")], errors="coerce").to_numpy(np.float64)
        xy[:, k, 1] = pd.to_numeric(sub[(bp, "y")], errors="coerce").to_numpy(np.float64)
        if scores is not None:
            scores[:, k] = pd.to_numeric(sub[(bp, "likelihood")],
                                         errors="coerce").to_numpy(np.float64)
    if isinstance(df.index, pd.MultiIndex):
        index = ["/".join(str(v) for v in row) for row in df.index]
    else:
        index = [str(v).replace("\\", "/") for v in df.index]
    return DLCTable(xy, scores, bodyparts, scorer, index)


def to_dlc_dataframe(points2d: np.ndarray, scores: np.ndarray, bodyparts: Sequence[str],
                     scorer: str = "tripose") -> pd.DataFrame:
    """Keypoints as DeepLabCut's analysis DataFrame.

    Parameters
    ----------
    points2d : (n_frames, n_joints, 2) pixels
    scores : (n_frames, n_joints) in [0, 1]
    bodyparts : sequence of n_joints str
    scorer : str

    Returns
    -------
    DataFrame
        Columns MultiIndex ``(scorer, bodyparts, coords)`` with coords ``x, y, likelihood``;
        one row per frame (index 0..n_frames-1).
    """
    p = np.asarray(points2d, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    n_frames, n_joints = p.shape[:2]
    if p.shape != (n_frames, n_joints, 2) or s.shape != (n_frames, n_joints):
        raise ValueError(f"expected points2d (n_frames, n_joints, 2) and scores "
                         f"(n_frames, n_joints), got {p.shape} and {s.shape}")
    if len(bodyparts) != n_joints:
        raise ValueError(f"{len(bodyparts)} bodyparts for {n_joints} joints")
    data = np.concatenate([p, s[..., None]], axis=-1).reshape(n_frames, n_joints * 3)
    columns = pd.MultiIndex.from_product(
        [[scorer], list(bodyparts), ["x", "y", "likelihood"]],
        names=["scorer", "bodyparts", "coords"],
    )
    return pd.DataFrame(data, columns=columns)


def to_dlc_file(path: str | Path, points2d: np.ndarray, scores: np.ndarray,
                bodyparts: Sequence[str], scorer: str = "tripose", csv: bool = True) -> Path:
    """Write DeepLabCut's h5 (key ``df_with_missing``) atomically, and a csv beside it.

    Parameters
    ----------
    path : str or Path
        The ``.h5`` file.
    points2d : (n_frames, n_joints, 2) pixels (NaN where missing)
    scores : (n_frames, n_joints) in [0, 1]
    bodyparts : sequence of str
    scorer : str
    csv : bool
        Also write ``path.with_suffix(".csv")``.

    Returns
    -------
    Path
    """
    df = to_dlc_dataframe(points2d, scores, bodyparts, scorer)
    path = Path(path)
    with atomic_path(path) as tmp:
        df.to_hdf(tmp, key="df_with_missing", mode="w", format="table")
    if csv:
        with atomic_path(path.with_suffix(".csv")) as tmp:
            df.to_csv(tmp)
    return path
