"""Read 2D keypoints: DeepLabCut single-animal h5/csv.

Every reader returns ``(points2d, scores, bodyparts)`` with ``points2d (n_frames, n_joints, 2)``
pixels (NaN where missing), ``scores (n_frames, n_joints)`` in [0, 1] and the bodypart names.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from calibration.errors import InputError

__all__ = ["from_dlc_file", "from_dlc_dataframe"]


def from_dlc_dataframe(df: pd.DataFrame, where: str = "DeepLabCut data"):
    """Keypoints from DeepLabCut's DataFrame (single animal, first scorer).

    Returns
    -------
    points2d : (n_frames, n_joints, 2) pixels
    scores : (n_frames, n_joints)
    bodyparts : list of str
    """
    cols = df.columns
    if not isinstance(cols, pd.MultiIndex) or cols.nlevels not in (3, 4):
        raise InputError(f"{where}: expected DeepLabCut columns (scorer, bodyparts, coords), "
                         f"got {cols.nlevels if isinstance(cols, pd.MultiIndex) else 1} level(s)")
    if cols.nlevels == 4:
        raise InputError(f"{where}: multi-animal DeepLabCut files (with an 'individuals' level) "
                         f"are not supported; export a single animal")
    scorer = cols.get_level_values(0)[0]
    sub = df[scorer]
    bodyparts = list(dict.fromkeys(sub.columns.get_level_values(0)))
    coords = set(sub.columns.get_level_values(1))
    if not {"x", "y"} <= coords:
        raise InputError(f"{where}: coords level must hold x, y (and likelihood), got {coords}")
    x = sub.xs("x", axis=1, level=1)[bodyparts].to_numpy(dtype=np.float64)
    y = sub.xs("y", axis=1, level=1)[bodyparts].to_numpy(dtype=np.float64)
    if "likelihood" in coords:
        s = sub.xs("likelihood", axis=1, level=1)[bodyparts].to_numpy(dtype=np.float64)
    else:  # labeled data carries no likelihood
        s = np.where(np.isfinite(x) & np.isfinite(y), 1.0, 0.0)
    return np.stack([x, y], axis=-1), s, bodyparts


def from_dlc_file(path: str | Path):
    """Read a DeepLabCut h5 or csv file (single animal).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    points2d : (n_frames, n_joints, 2) pixels
    scores : (n_frames, n_joints)
    bodyparts : list of str
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"2D keypoint file not found: {path}")
    try:
        if path.suffix.lower() == ".csv":
            df = pd.read_csv(path, header=[0, 1, 2], index_col=0)
        else:
            df = pd.read_hdf(path)
    except (OSError, ValueError, KeyError, ImportError) as exc:
        raise InputError(f"cannot read DeepLabCut file {path}: {exc}") from None
    return from_dlc_dataframe(df, where=str(path))
