"""Joint angles from 3D points and the skeleton's ``angles`` (vertex in the middle)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from calibration.errors import InputError
from poses.atomic import atomic_path
from poses.io.anipose import INDIVIDUAL_COLUMN
from poses.io.cells import neutralize, neutralize_all

__all__ = ["joint_angles", "save_angles"]


def joint_angles(points3d: np.ndarray, bodyparts: Sequence[str],
                 angles: Mapping[str, Sequence[str]]) -> dict[str, np.ndarray]:
    """Angle ``a-b-c`` at vertex ``b`` for every named angle.

    Parameters
    ----------
    points3d : (n_frames, n_joints, 3) rig units
    bodyparts : sequence of n_joints str
    angles : mapping name -> (a, b, c)

    Returns
    -------
    dict name -> (n_frames,) degrees in [0, 180]; NaN where a point is missing
    """
    bp = list(bodyparts)
    out = {}
    for name, triple in angles.items():
        missing = [p for p in triple if p not in bp]
        if missing:
            raise InputError(f"angle {name!r} names unknown bodypart(s) {missing}; "
                             f"bodyparts: {bp}")
        a, b, c = (points3d[:, bp.index(p)] for p in triple)
        u, v = a - b, c - b
        cos = np.sum(u * v, -1) / (np.linalg.norm(u, axis=-1) * np.linalg.norm(v, axis=-1))
        out[name] = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    return out


def save_angles(path: str | Path, points3d: np.ndarray, bodyparts: Sequence[str],
                angles: Mapping[str, Sequence[str]],
                individuals: Sequence[str] | None = None) -> Path:
    """Write joint angles (degrees) as CSV, one column per angle plus ``fnum``, atomically.

    Parameters
    ----------
    path : str or Path
    points3d : (n_frames, n_joints, 3) rig units, or with ``individuals``
        ``(n_frames, n_individuals, n_joints, 3)``
    bodyparts : sequence of n_joints str
    angles : mapping name -> (a, b, c)
    individuals : sequence of n_individuals str, optional
        Several individuals in one table: one row per frame and individual, frame-major
        (the layout of the pose-3d CSV), and an ``individual`` column naming each row's.

    Raises
    ------
    InputError
        An angle named like the ``individual`` column (with ``individuals``).
    """
    path = Path(path)
    X = np.asarray(points3d)
    n_frames = len(X)
    if individuals is not None:
        if INDIVIDUAL_COLUMN in angles:
            raise InputError(f"skeleton [angles]: an angle is named {INDIVIDUAL_COLUMN!r}, "
                             f"the column naming each row's individual; rename it")
        X = X.reshape(n_frames * len(individuals), *X.shape[2:])  # frame-major rows
    df = pd.DataFrame(joint_angles(X, bodyparts, angles))
    df.columns = neutralize_all(df.columns)  # no formulas in a spreadsheet's header
    if individuals is None:
        df["fnum"] = np.arange(n_frames)
    else:
        df["fnum"] = np.repeat(np.arange(n_frames), len(individuals))
        df[INDIVIDUAL_COLUMN] = np.tile([neutralize(str(n)) for n in individuals], n_frames)
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, float_format="%.4f")
    return path
