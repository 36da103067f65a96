"""Write 2D keypoints in DeepLabCut's single-animal format (h5 and csv)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from poses.atomic import atomic_path

__all__ = ["to_dlc_file", "to_dlc_dataframe"]


def to_dlc_dataframe(points2d: np.ndarray, scores: np.ndarray, bodyparts: Sequence[str],
                     scorer: str = "tripose") -> pd.DataFrame:
    """Keypoints as DeepLabCut's DataFrame.

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
                bodyparts: Sequence[str], scorer: str = "tripose", csv: bool = False) -> Path:
    """Write DeepLabCut's h5 (key ``df_with_missing``), atomically; optionally a csv beside it.

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
