"""Read 2D keypoints: DeepLabCut single-animal h5/csv (also tripose's own 2D files, which use
that format), SLEAP analysis h5 and OpenPose / Pose2Sim JSON folders.

Every reader returns ``(points2d, scores, bodyparts)`` with ``points2d (n_frames, n_joints, 2)``
pixels (NaN where missing), ``scores (n_frames, n_joints)`` in [0, 1] and the bodypart names.
Coordinates are passed through as the tool wrote them (DeepLabCut, SLEAP and OpenPose all put
the origin at the top-left of the image). :func:`load_2d` picks the reader from the path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from calibration.errors import InputError

__all__ = ["from_dlc_file", "from_dlc_dataframe", "from_sleap_file", "from_openpose_folder",
           "load_2d", "is_sleap_file", "OPENPOSE_BODY25"]

#: OpenPose BODY_25 keypoint names (used when a JSON folder holds 25 keypoints per person).
OPENPOSE_BODY25 = [
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
    "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
]


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


def _read_h5_nodes(path: Path, names: tuple[str, ...]) -> dict:
    """Arrays of the named root nodes of an HDF5 file (pytables; missing names are absent)."""
    import warnings

    import tables

    out = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SLEAP's variable-length strings
            with tables.open_file(str(path), "r") as f:
                for name in names:
                    if f"/{name}" in f:
                        out[name] = f.get_node(f"/{name}").read()
    except (OSError, tables.HDF5ExtError) as exc:
        raise InputError(f"cannot read HDF5 file {path}: {exc}") from None
    return out


def is_sleap_file(path: str | Path) -> bool:
    """Whether ``path`` is a SLEAP analysis h5 (has ``tracks`` and ``node_names``)."""
    path = Path(path)
    if path.suffix.lower() not in (".h5", ".hdf5") or not path.is_file():
        return False
    try:
        import tables

        with tables.open_file(str(path), "r") as f:
            return "/tracks" in f and "/node_names" in f
    except Exception:  # not HDF5 at all: not SLEAP either
        return False


def from_sleap_file(path: str | Path, track: int | None = None):
    """Read a SLEAP analysis h5 (``sleap-convert --format analysis``).

    Parameters
    ----------
    path : str or Path
    track : int, optional
        Track to read; default the one with the most labelled points.

    Returns
    -------
    points2d : (n_frames, n_joints, 2) pixels
    scores : (n_frames, n_joints)
        ``point_scores`` (1 for user-labelled files without them); 0 where missing.
    bodyparts : list of str
        ``node_names``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"SLEAP analysis file not found: {path}")
    d = _read_h5_nodes(path, ("tracks", "point_scores", "node_names"))
    for key in ("tracks", "node_names"):
        if key not in d:
            raise InputError(f"{path}: not a SLEAP analysis file (no {key!r} dataset)")
    tracks = np.asarray(d["tracks"], dtype=np.float64)  # (n_tracks, 2, n_nodes, n_frames)
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in d["node_names"]]
    if tracks.ndim != 4 or tracks.shape[1] != 2 or tracks.shape[2] != len(names):
        raise InputError(f"{path}: tracks must have shape (n_tracks, 2, n_nodes={len(names)}, "
                         f"n_frames), got {tracks.shape}")
    if track is None:
        track = int(np.argmax(np.isfinite(tracks[:, 0]).sum(axis=(1, 2))))
    if not 0 <= track < tracks.shape[0]:
        raise InputError(f"{path}: track {track} out of range; the file has "
                         f"{tracks.shape[0]} track(s)")
    pts = np.transpose(tracks[track], (2, 1, 0))  # (n_frames, n_nodes, 2)
    if "point_scores" in d:
        sc = np.asarray(d["point_scores"], dtype=np.float64)[track].T
    else:
        sc = np.ones(pts.shape[:2])
    finite = np.isfinite(pts).all(-1)
    sc = np.where(finite, np.clip(np.nan_to_num(sc, nan=0.0), 0.0, 1.0), 0.0)
    return pts, sc, names


def from_openpose_folder(folder: str | Path, person: str = "persist", key: str | None = None):
    """Read a folder of OpenPose / Pose2Sim JSON files (one per frame, sorted by name).

    Parameters
    ----------
    folder : str or Path
    person : {"persist", "first"}
        ``first``: the first person of every frame; ``persist``: the first person of the
        first frame that has one, then in each frame the person nearest the previous choice.
    key : str, optional
        Keypoint array to read; default ``pose_keypoints_2d``.

    Returns
    -------
    points2d : (n_frames, n_joints, 2) pixels (NaN where confidence is 0)
    scores : (n_frames, n_joints)
    bodyparts : list of str
        BODY_25 names for 25 keypoints, else ``kp0``, ``kp1``, ...
    """
    import json

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"OpenPose JSON folder not found: {folder}")
    if person not in ("persist", "first"):
        raise InputError(f"person must be 'persist' or 'first', got {person!r}")
    files = sorted(folder.glob("*.json"))
    if not files:
        raise InputError(f"{folder}: no *.json files (expected one OpenPose JSON per frame)")
    key = key or "pose_keypoints_2d"
    frames = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: invalid JSON: {exc}") from None
        people = data.get("people", []) if isinstance(data, dict) else []
        arrs = []
        for p in people:
            kp = np.asarray(p.get(key, []), dtype=np.float64)
            if kp.size % 3:
                raise InputError(f"{path}: {key} must hold x, y, c triples, got {kp.size} values")
            arrs.append(kp.reshape(-1, 3))
        frames.append(arrs)
    n_joints = max((a.shape[0] for arrs in frames for a in arrs), default=0)
    if n_joints == 0:
        raise InputError(f"{folder}: no person with {key} in any of {len(files)} JSON files")
    out = np.full((len(files), n_joints, 3), np.nan)
    out[..., 2] = 0.0
    prev = None
    for i, arrs in enumerate(frames):
        arrs = [a for a in arrs if a.shape[0] == n_joints]
        if not arrs:
            continue
        pick = 0
        if person == "persist" and prev is not None and len(arrs) > 1:
            dist = []
            for a in arrs:
                both = (a[:, 2] > 0) & (prev[:, 2] > 0)
                dist.append(np.mean(np.linalg.norm(a[both, :2] - prev[both, :2], axis=1))
                            if both.any() else np.inf)
            pick = int(np.argmin(dist))
        out[i] = arrs[pick]
        prev = arrs[pick]
    pts = out[..., :2].copy()
    sc = np.clip(out[..., 2], 0.0, 1.0)
    pts[sc <= 0] = np.nan
    names = OPENPOSE_BODY25 if n_joints == 25 else [f"kp{j}" for j in range(n_joints)]
    return pts, sc, list(names)


def load_2d(path: str | Path):
    """Read 2D keypoints, choosing the reader from the path.

    A folder is read as OpenPose / Pose2Sim JSON; ``.csv`` as DeepLabCut; ``.h5`` as SLEAP
    analysis when it has ``tracks`` and ``node_names``, else DeepLabCut (also tripose's own).

    Returns
    -------
    points2d : (n_frames, n_joints, 2) pixels
    scores : (n_frames, n_joints)
    bodyparts : list of str
    """
    path = Path(path)
    if path.is_dir():
        return from_openpose_folder(path)
    if not path.exists():
        raise FileNotFoundError(f"2D keypoint file not found: {path}")
    suffix = path.suffix.lower()
    if suffix in (".h5", ".hdf5") and is_sleap_file(path):
        return from_sleap_file(path)
    if suffix in (".h5", ".hdf5", ".csv"):
        return from_dlc_file(path)
    raise InputError(f"{path}: unknown 2D format {suffix!r}; expected a DeepLabCut .h5/.csv, "
                     f"a SLEAP analysis .h5 or a folder of OpenPose JSON files")
