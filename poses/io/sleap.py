"""SLEAP analysis HDF5 files (``sleap-convert --format analysis``), read and written.

Coordinate convention: pixels as SLEAP writes them (see :class:`poses.Poses`), x to the
right, y down, NaN where a node is missing; values pass through unchanged.

SLEAP builds MATLAB-ordered arrays and stores every one transposed, so on disk:

================== ======================================= ==============================
dataset            shape on disk                           dtype
================== ======================================= ==============================
tracks             (n_tracks, 2, n_nodes, n_frames)        float64, NaN = missing
track_occupancy    (n_frames, n_tracks)                    uint8
point_scores       (n_tracks, n_nodes, n_frames)           float64, NaN = no score
instance_scores    (n_tracks, n_frames)                    float64
tracking_scores    (n_tracks, n_frames)                    float64
track_names        (n_tracks,)                             fixed-length bytes
node_names         (n_nodes,)                              fixed-length bytes
edge_names         (n_edges, 2)                            fixed-length bytes
edge_inds          (n_edges, 2)                            int
labels_path,       scalar                                  variable-length str
video_path,
provenance (JSON)
video_ind          scalar                                  int
================== ======================================= ==============================

The five arrays are gzip-compressed (level 9). Columns are video frames from 0.

Mapping onto :class:`poses.Poses`: every track is an individual (named by ``track_names``;
empty or absent names become ``track_<i>``, a repeated name gets ``_<i>`` appended), nodes
are keypoints. Points of unoccupied (frame, track) cells are NaN. Confidence is
``point_scores`` clipped to [0, 1] (SLEAP's scores may exceed 1); NaN where the point is
missing (as everywhere in :class:`poses.Poses`); 1 where a point exists but has no score
(user-labelled instances, like DeepLabCut labels); the default (1 where present) when the
file has no ``point_scores``. ``attrs`` keeps ``edges``, ``video_path``, ``labels_path``,
``video_ind`` and ``provenance``; fps is read from a root attribute ``fps`` when present
(SLEAP writes none) and written there when known. Written files have SLEAP's keys, shapes
and dtypes; ``instance_scores`` and ``tracking_scores`` are NaN (unknown, as SLEAP writes
them for user-labelled instances) and ``labels_path`` is ``"None"`` unless the poses carry
one (SLEAP writes ``str(None)`` too).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import InputError
from ..model import Poses
from .registry import Format, register

__all__ = ["load_sleap", "save_sleap", "is_sleap_file"]

_EXPECT = "a SLEAP analysis HDF5 file (sleap-convert --format analysis)"
_GZIP = {"compression": "gzip", "compression_opts": 9}


def is_sleap_file(path: str | Path) -> bool:
    """Whether ``path`` is a SLEAP analysis ``.h5``/``.hdf5`` (a ``tracks`` dataset and
    ``track_occupancy`` or ``node_names``). Never raises."""
    path = Path(path)
    try:
        import h5py

        if path.suffix.lower() not in (".h5", ".hdf5") or not path.is_file() \
                or not h5py.is_hdf5(path):
            return False
        with h5py.File(path, "r") as f:
            return isinstance(f.get("tracks"), h5py.Dataset) and (
                "track_occupancy" in f or "node_names" in f)
    except Exception:  # unreadable: not SLEAP
        return False


def _strings(f, key: str) -> list[str]:
    """A dataset of strings (bytes or str, any shape) as a flat list; [] when absent."""
    if key not in f:
        return []
    arr = np.asarray(f[key][()])
    if arr.size == 0 or arr.dtype.kind not in "SUO":
        return []
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
            for v in arr.ravel()]


def _bytes(names: list[str]) -> np.ndarray:
    """Fixed-length UTF-8 bytes, as SLEAP's ``np.string_`` lists are stored."""
    enc = [n.encode() for n in names]
    return np.array(enc, dtype=f"S{max([len(e) for e in enc] + [1])}")


def _fps(value) -> float | None:
    try:
        fps = float(np.asarray(value).ravel()[0])
    except (TypeError, ValueError, IndexError):
        return None
    return fps if np.isfinite(fps) and fps > 0 else None


def _scalar(f, key: str):
    if key not in f:
        return None
    v = f[key][()]
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v.item() if isinstance(v, np.generic) else v


def _track_names(names: list[str], n_tracks: int) -> list[str]:
    if len(names) != n_tracks:
        names = [""] * n_tracks
    out = [n if n else f"track_{i}" for i, n in enumerate(names)]
    return [n if out.index(n) == i else f"{n}_{i}" for i, n in enumerate(out)]


def _numbers(f, key: str, path: Path) -> np.ndarray:
    """Dataset ``key`` as float64; an InputError naming it when it holds no numbers."""
    try:
        return np.asarray(f[key][()], dtype=np.float64)
    except (TypeError, ValueError, OSError) as exc:
        raise InputError(f"{path}: dataset {key!r} does not hold numbers ({exc}); expected "
                         f"{_EXPECT}") from None


def _read(f, path: Path) -> Poses:
    where = str(path)
    if "tracks" not in f:
        raise InputError(f"{path}: no 'tracks' dataset; expected {_EXPECT}")
    tracks = _numbers(f, "tracks", path)
    if tracks.ndim != 4 or tracks.shape[1] != 2:
        raise InputError(f"{path}: 'tracks' has shape {tracks.shape}; expected (n_tracks, 2, "
                         f"n_nodes, n_frames) as SLEAP writes it")
    n_tracks, _, n_nodes, n_frames = tracks.shape
    if n_tracks == 0:
        raise InputError(f"{path}: holds no tracks (no instances); expected {_EXPECT}")
    pos = tracks.transpose(3, 0, 2, 1).copy()  # (n_frames, n_tracks, n_nodes, 2)
    if "track_occupancy" in f:
        occ = np.asarray(f["track_occupancy"][()])
        if occ.shape != (n_frames, n_tracks):
            raise InputError(f"{path}: 'track_occupancy' has shape {occ.shape}; expected "
                             f"(n_frames, n_tracks) = {(n_frames, n_tracks)}")
        pos[occ == 0] = np.nan
    nodes = _strings(f, "node_names") or [f"node_{j}" for j in range(n_nodes)]
    if len(nodes) != n_nodes:
        raise InputError(f"{path}: {len(nodes)} node_names for {n_nodes} nodes in 'tracks'")
    conf = None
    if "point_scores" in f:
        scores = _numbers(f, "point_scores", path)
        if scores.shape != (n_tracks, n_nodes, n_frames):
            raise InputError(f"{path}: 'point_scores' has shape {scores.shape}; expected "
                             f"(n_tracks, n_nodes, n_frames) = {(n_tracks, n_nodes, n_frames)}")
        present = np.isfinite(pos).all(-1)
        conf = np.clip(scores.transpose(2, 0, 1), 0.0, 1.0)
        conf = np.where(present, np.where(np.isnan(conf), 1.0, conf), np.nan)
    pos[~np.isfinite(pos).all(-1)] = np.nan
    attrs: dict = {}
    edges = _strings(f, "edge_names")
    if edges and len(edges) % 2 == 0:
        attrs["edges"] = [tuple(edges[i:i + 2]) for i in range(0, len(edges), 2)]
    for key in ("video_path", "labels_path", "video_ind"):
        v = _scalar(f, key)
        if v is not None:
            attrs[key] = v
    prov = _scalar(f, "provenance")
    if prov is not None:
        try:
            attrs["provenance"] = json.loads(prov)
        except (TypeError, ValueError):
            attrs["provenance"] = prov
    return Poses(pos, conf, keypoints=nodes,
                 individuals=_track_names(_strings(f, "track_names"), n_tracks),
                 fps=_fps(f.attrs.get("fps")), units="px",
                 source_file=where, source_software="SLEAP", attrs=attrs)


def load_sleap(path: str | Path) -> Poses:
    """Read a SLEAP analysis HDF5 file; every track becomes an individual.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Poses
        ``position (n_frames, n_tracks, n_nodes, 2)`` px (NaN where missing or the track is
        unoccupied), ``confidence (n_frames, n_tracks, n_nodes)`` from ``point_scores`` (see
        the module docstring), frames 0 .. n_frames - 1.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    InputError
        Not HDF5, no ``tracks``, or shapes that disagree.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"SLEAP analysis file not found: {path}")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty file; expected {_EXPECT}")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{path}: not an HDF5 file ({msg}); expected {_EXPECT}") from None
    with f:
        return _read(f, path)


def save_sleap(poses: Poses, path: str | Path) -> Path:
    """Write ``poses`` as a SLEAP analysis HDF5 file (every individual a track), atomically.

    Parameters
    ----------
    poses : Poses
        2D. Frame ``frame_index[i]`` goes to column ``frame_index[i]``; frames in between
        (and before the first) are written unoccupied, as SLEAP writes every video frame.
        ``attrs["edges"]`` (pairs of keypoint names) give ``edge_names``/``edge_inds``.
    path : str or Path
        ``.h5``/``.hdf5``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        3D poses, or negative or repeated frame numbers.
    """
    import h5py

    path = Path(path)
    if not isinstance(poses, Poses):
        raise InputError(f"{path}: expected Poses, got {type(poses).__name__}")
    if poses.is_3d:
        raise InputError(f"{path}: SLEAP analysis files hold 2D keypoints; these poses are 3D")
    fi = poses.frame_index
    if fi.size and (fi.min() < 0 or np.unique(fi).size != fi.size):
        raise InputError(f"{path}: frame_index must be distinct frame numbers >= 0 to be "
                         f"written as SLEAP's frame columns")
    n_out = int(fi.max()) + 1 if fi.size else 0
    shape = (n_out, poses.n_individuals, poses.n_keypoints)
    pos = np.full((*shape, 2), np.nan)
    conf = np.full(shape, np.nan)
    pos[fi] = poses.position
    conf[fi] = poses.confidence
    occupancy = np.isfinite(pos).all(-1).any(-1).astype(np.uint8)  # (n_frames, n_tracks)
    edges = [(str(e[0]), str(e[1])) for e in poses.attrs.get("edges") or []
             if len(e) == 2 and e[0] in poses.keypoints and e[1] in poses.keypoints]
    edge_inds = np.array([[poses.keypoints.index(a), poses.keypoints.index(b)]
                          for a, b in edges], dtype=np.int64).reshape(-1, 2)
    missing = np.full((poses.n_individuals, n_out), np.nan)
    arrays = {  # already in SLEAP's on-disk (transposed) order
        "tracks": pos.transpose(1, 3, 2, 0),
        "track_occupancy": occupancy,
        "point_scores": conf.transpose(1, 2, 0),
        "instance_scores": missing,
        "tracking_scores": missing,
    }
    plain = {
        "track_names": _bytes(poses.individuals),
        "node_names": _bytes(poses.keypoints),
        "edge_names": _bytes([n for e in edges for n in e]).reshape(-1, 2),
        "edge_inds": edge_inds,
    }
    prov = poses.attrs.get("provenance", {})
    strings = {"labels_path": str(poses.attrs.get("labels_path")),
               "video_path": str(poses.attrs.get("video_path", "")),
               "provenance": prov if isinstance(prov, str) else json.dumps(prov, default=str)}
    try:
        video_ind = np.int64(poses.attrs.get("video_ind", 0))
    except (TypeError, ValueError, OverflowError):
        video_ind = np.int64(0)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            for key, val in arrays.items():
                f.create_dataset(key, data=np.ascontiguousarray(val), **_GZIP)
            for key, val in plain.items():
                f.create_dataset(key, data=val)
            for key, val in strings.items():
                f.create_dataset(key, data=val, dtype=h5py.string_dtype())
            f.create_dataset("video_ind", data=video_ind)
            if poses.fps is not None:
                f.attrs["fps"] = poses.fps
    return path


register(Format(
    name="sleap", suffixes=(".h5", ".hdf5"),
    description="SLEAP analysis HDF5 (sleap-convert --format analysis)",
    load=load_sleap, save=save_sleap, sniff=is_sleap_file, priority=2))
