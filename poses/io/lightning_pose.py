"""Lightning Pose prediction CSVs, read and written.

Coordinate convention: pixels of the original frames, origin at the centre of the top-left
pixel, x to the right, y down (DeepLabCut's, which Lightning Pose follows); values pass
through unchanged.

Lightning Pose writes DeepLabCut's single-animal csv layout: header rows ``scorer``,
``bodyparts``, ``coords`` (``x, y, likelihood``), the scorer naming the model
(``heatmap_tracker``, ``heatmap_mhcrnn_tracker`` ...), rows indexed by frame number (videos) or
image path (labeled frames). Predictions on labeled frames add a column ``set``
(train / validation / test / unused), which is not a keypoint and is ignored. Reading and
writing reuse :mod:`poses.io.dlc`; see it for the ``attrs`` kept.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..model import Poses
from .dlc import (
    from_dlc_dataframe,
    read_csv_head,
    read_dlc_table,
    to_dlc_dataframe,
    write_dlc_table,
)
from .registry import Format, register

__all__ = ["load_lightning_pose", "save_lightning_pose", "is_lightning_pose_file",
           "is_lightning_pose_scorer", "DEFAULT_SCORER"]

#: Scorer written when the poses carry no Lightning Pose scorer (LP's default model).
DEFAULT_SCORER = "heatmap_tracker"


def is_lightning_pose_scorer(scorer: str) -> bool:
    """Whether a DeepLabCut-layout scorer names a Lightning Pose model."""
    s = str(scorer).lower()
    return "heatmap" in s or "tracker" in s


def is_lightning_pose_file(path: str | Path) -> bool:
    """Whether ``path`` is a ``.csv`` in DeepLabCut's layout whose scorer is a Lightning Pose
    model's (contains ``heatmap`` or ``tracker``). Never raises."""
    path = Path(path)
    try:
        if path.suffix.lower() != ".csv" or not path.is_file():
            return False
        head = read_csv_head(path, 1)
    except Exception:  # unreadable: not ours
        return False
    if not head or not head[0] or head[0][0] != "scorer":
        return False
    scorer = next((c for c in head[0][1:] if c), "")
    return is_lightning_pose_scorer(scorer)


def load_lightning_pose(path: str | Path) -> Poses:
    """Read a Lightning Pose predictions csv.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Poses
        One individual (:data:`poses.DEFAULT_INDIVIDUAL`), ``position (n_frames, 1,
        n_keypoints, 2)`` px, ``confidence`` the likelihood; ``source_software``
        ``"LightningPose"``, fps None.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    InputError
        Not a DeepLabCut-layout csv, or values that are not numbers / likelihoods.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise InputError(f"{path}: Lightning Pose predictions are .csv files, got "
                         f"{path.suffix!r}")
    return from_dlc_dataframe(read_dlc_table(path), where=str(path), source_file=str(path),
                              source_software="LightningPose")


def save_lightning_pose(poses: Poses, path: str | Path, scorer: str | None = None) -> Path:
    """Write one individual's poses as a Lightning Pose predictions csv, atomically.

    Parameters
    ----------
    poses : Poses
        2D, one individual (any name).
    path : str or Path
        ``.csv``.
    scorer : str, optional
        Default ``poses.attrs["scorer"]`` when it is a Lightning Pose model's, else
        :data:`DEFAULT_SCORER` (so that the file is recognised as Lightning Pose's).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        Several individuals, 3D poses, or another suffix.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise InputError(f"{path}: Lightning Pose predictions are .csv files, got "
                         f"{path.suffix!r}")
    if isinstance(poses, Poses) and poses.n_individuals != 1:
        raise InputError(f"{path}: Lightning Pose files hold one individual; got "
                         f"{poses.n_individuals} ({poses.individuals}); select one with "
                         f"poses.sel(individuals=...)")
    if scorer is None and isinstance(poses, Poses):
        scorer = poses.attrs.get("scorer")
        if not scorer or not is_lightning_pose_scorer(scorer):
            scorer = DEFAULT_SCORER
    df = to_dlc_dataframe(poses, scorer, labels=False, multianimal=False, where=str(path))
    return write_dlc_table(df, path)


register(Format(
    name="lightning_pose", suffixes=(".csv",),
    description="Lightning Pose predictions csv (DeepLabCut layout, one animal)",
    load=load_lightning_pose, save=save_lightning_pose, sniff=is_lightning_pose_file,
    priority=1))
