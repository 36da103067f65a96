"""Frames to label: k-means over a video (DeepLabCut's ``kmeans``) and outliers of an analysis.

Both write ``img<frame>.png`` into a labeled-data folder (existing images are kept, never
overwritten) and return the frame numbers.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from poses.atomic import atomic_path, check_output_folder, make_folder, write_text_atomic
from poses.errors import InputError
from poses.io.dlc import load_dlc

__all__ = ["pick_frames", "extract_frames", "extract_outliers", "outlier_scores", "write_frames",
           "frame_image_name"]

log = logging.getLogger(__name__)

#: Frames read forward (decoded and dropped) rather than seeking to a frame this close.
_GRAB_AHEAD = 120


def _open(video: Path):
    if not Path(video).is_file():
        raise FileNotFoundError(f"video {video} does not exist")
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise ValueError(f"cannot open video {video}")
    return cap


def frame_image_name(frame: int, n_frames: int) -> str:
    """The image name of a video frame: ``img<frame>.png``, zero-padded.

    Parameters
    ----------
    frame : int
        Frame number (0-based).
    n_frames : int
        Frames of the video (or the most of several views, so that every view names the
        same instant alike): the padding is ``max(4, digits of n_frames)``.

    Returns
    -------
    str
        E.g. ``img0042.png``.
    """
    width = max(4, len(str(max(int(n_frames), 1))))
    return f"img{int(frame):0{width}d}.png"


def write_frames(video: str | Path, frames: list[int], out_dir: str | Path,
                 n_frames: int | None = None) -> list[Path]:
    """Write video frames as ``out_dir/img<frame>.png``; existing images are kept.

    Parameters
    ----------
    video : str or Path
    frames : list of int
        Frame numbers (0-based).
    out_dir : str or Path
        Created when missing.
    n_frames : int, optional
        Basis of the zero padding (see :func:`frame_image_name`); default the video's
        frame count.

    Returns
    -------
    list of Path
        The images written (sorted by frame); images already there are left untouched and
        not listed.

    Raises
    ------
    ValueError
        A frame cannot be decoded (the images written so far stay).
    """
    video, out_dir = Path(video), Path(out_dir)
    make_folder(out_dir, "labeled-data folder (-o)")
    cap = _open(video)
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if n_frames is None else int(n_frames)
    written = []
    pos = 0  # the frame the next read returns
    for f in sorted(set(frames)):
        path = out_dir / frame_image_name(f, n)
        if path.exists():
            log.info("keeping existing %s", path)
            continue
        if not 0 <= f - pos <= _GRAB_AHEAD:  # seeking decodes from a keyframe: grab nearby
            cap.set(cv2.CAP_PROP_POS_FRAMES, f)
            pos = f
        ok = all(cap.grab() for _ in range(f - pos))
        ok, img = cap.read() if ok else (False, None)
        pos = f + 1
        if not ok:
            cap.release()
            raise ValueError(f"{video}: cannot decode frame {f}; {len(written)} frame(s) "
                             f"written to {out_dir} so far")
        with atomic_path(path) as tmp:
            if not cv2.imwrite(str(tmp), img):
                cap.release()
                raise InputError(f"cannot write {path} (is the disk full?); {len(written)} "
                                 f"frame(s) written to {out_dir} so far")
        written.append(path)
    cap.release()
    return written


def _frame_features(video: Path, step: int, limit: int | None,
                    resize_width: int) -> dict[int, np.ndarray]:
    """Downsampled grey frames of ``video``: every ``step``-th frame below ``limit`` (all
    frames when None), streamed."""
    cap = _open(video)
    out, i = {}, 0
    while limit is None or i < limit:
        if not cap.grab():
            break
        if i % step == 0:
            _, img = cap.retrieve()
            g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            h = max(1, round(g.shape[0] * resize_width / g.shape[1]))
            out[i] = cv2.resize(g, (resize_width, h), interpolation=cv2.INTER_AREA).ravel()
        i += 1
    cap.release()
    return out


def pick_frames(videos: list[str | Path], n: int = 20, seed: int = 0,
                max_candidates: int = 1000, resize_width: int = 30) -> list[int]:
    """Pick ``n`` diverse frame numbers: k-means on downsampled grey frames, one per cluster.

    Several videos (the cameras of one synchronized session) are clustered on their frames
    side by side, so one frame number is picked for all of them.

    Parameters
    ----------
    videos : list of paths
        One video, or every camera's (the shortest bounds the frame numbers).
    n : int
    seed : int
    max_candidates : int
        Frames read (evenly spaced) for clustering.
    resize_width : int
        Width of the downsampled frames, pixels (DeepLabCut uses 30).

    Returns
    -------
    list of int
        Frame numbers picked (sorted).
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    totals = []
    for v in videos:
        cap = _open(Path(v))
        totals.append(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
        cap.release()
    total = min(totals)
    step = max(1, total // max_candidates) if total > 0 else 1
    limit = total if total > 0 and len(videos) > 1 else None
    per_video = [_frame_features(Path(v), step, limit, resize_width) for v in videos]
    index = sorted(set.intersection(*(set(f) for f in per_video)))
    if not index:
        raise ValueError(f"{videos[0]}: no frame could be decoded")
    x = np.asarray([np.concatenate([f[i] for f in per_video]) for i in index], np.float64)
    x = (x - x.mean(axis=0)) / 255.0
    k = min(n, len(x))
    rng = np.random.default_rng(seed)
    from scipy.cluster.vq import kmeans2

    _, labels = kmeans2(x, k, minit="++", seed=rng)
    picked = []
    for c in range(k):
        members = np.flatnonzero(labels == c)
        if len(members):
            picked.append(index[int(rng.choice(members))])
    return sorted(set(picked))


def extract_frames(video: str | Path, out_dir: str | Path, n: int = 20, seed: int = 0,
                   max_candidates: int = 1000, resize_width: int = 30) -> list[int]:
    """Pick ``n`` diverse frames of a video (:func:`pick_frames`) and write them.

    Parameters
    ----------
    video : str or Path
    out_dir : str or Path
        The labeled-data folder (``<project>/labeled-data/<video stem>``).
    n, seed, max_candidates, resize_width : see :func:`pick_frames`

    Returns
    -------
    list of int
        Frame numbers picked (sorted).

    Raises
    ------
    InputError
        ``out_dir`` cannot be created or written (checked before the video is read).
    """
    check_output_folder(out_dir, "labeled-data folder (-o)")
    picked = pick_frames([video], n, seed, max_candidates, resize_width)
    write_frames(video, picked, out_dir)
    return picked


def outlier_scores(xy: np.ndarray, conf: np.ndarray, pcutoff: float = 0.6,
                   jump_px: float = 30.0, reprojection_px: np.ndarray | None = None,
                   max_reprojection_px: float = 15.0) -> dict:
    """Per-frame outlier flags for active learning.

    Parameters
    ----------
    xy : (n_frames, n_joints, 2) pixels
    conf : (n_frames, n_joints)
    pcutoff : float
        A frame is flagged when any keypoint's likelihood is below it.
    jump_px : float
        ... or when any keypoint moves more than this from the previous frame.
    reprojection_px : (n_frames,) or (n_frames, n_joints), optional
        3D reprojection error after triangulation (anipose's ``<bp>_error`` columns).
    max_reprojection_px : float

    Returns
    -------
    dict of (n_frames,) bool arrays: ``low_confidence``, ``jump``, ``reprojection``, ``any``
    """
    xy = np.asarray(xy, float)
    conf = np.asarray(conf, float)
    low = (np.nan_to_num(conf, nan=0.0) < pcutoff).any(axis=1)
    step = np.linalg.norm(np.diff(xy, axis=0), axis=2)
    jump = np.concatenate([[False], (np.nan_to_num(step, nan=0.0) > jump_px).any(axis=1)])
    rep = np.zeros(len(xy), bool)
    if reprojection_px is not None:
        r = np.asarray(reprojection_px, float)
        r = r if r.ndim == 1 else np.nanmax(np.where(np.isfinite(r), r, -np.inf), axis=1)
        rep = np.nan_to_num(r, nan=0.0) > max_reprojection_px
    return {"low_confidence": low, "jump": jump, "reprojection": rep, "any": low | jump | rep}


def _check_outlier_options(n: int, pcutoff: float, jump_px: float,
                           max_reprojection_px: float) -> None:
    """Refuse impossible thresholds before any file is read (NaN would flag nothing)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n (frames to write) must be at least 1, got {n!r}")
    if not 0 <= pcutoff <= 1:
        raise InputError(f"pcutoff must be a likelihood within [0, 1], got {pcutoff!r}")
    for name, v in (("jump_px", jump_px), ("max_reprojection_px", max_reprojection_px)):
        if not (np.isfinite(v) and v > 0):
            raise InputError(f"{name} must be a positive number of pixels, got {v!r}")


def extract_outliers(video: str | Path, analysis: str | Path, out_dir: str | Path, n: int = 20,
                     pcutoff: float = 0.6, jump_px: float = 30.0,
                     pose3d_csv: str | Path | None = None, max_reprojection_px: float = 15.0,
                     seed: int = 0) -> list[int]:
    """Write up to ``n`` outlier frames (spread over the video) for relabeling.

    Parameters
    ----------
    video : str or Path
    analysis : str or Path
        The ``tripose analyze`` (or DeepLabCut) h5/csv of this video.
    out_dir : str or Path
        The labeled-data folder.
    n, pcutoff, jump_px, max_reprojection_px : see :func:`outlier_scores`
    pose3d_csv : str or Path, optional
        Anipose pose-3d CSV whose ``<bp>_error`` columns give the reprojection error.
    seed : int

    Returns
    -------
    list of int
        Frame numbers written; ``out_dir/outliers.csv`` lists them with their reasons.

    Raises
    ------
    InputError
        Impossible thresholds or ``n``, an ``out_dir`` that cannot be written (both checked
        before any file is read), or an analysis or pose-3d file that cannot be read.
    """
    _check_outlier_options(n, pcutoff, jump_px, max_reprojection_px)
    check_output_folder(out_dir, "labeled-data folder (-o)")
    table = load_dlc(analysis)
    if table.attrs.get("labels"):
        raise InputError(f"{analysis} has no likelihood column; pass analysis output, not "
                         f"labels")
    if table.n_individuals != 1:
        raise InputError(f"{analysis}: multi-animal analysis output (individuals "
                         f"{table.individuals}) is not supported yet; pass a single-animal "
                         f"table")
    xy, conf = table.single(0)
    rep = None
    if pose3d_csv is not None:
        import pandas as pd

        try:
            df = pd.read_csv(pose3d_csv)
        except (OSError, ValueError) as exc:  # pandas' parser and decoding errors
            raise InputError(f"cannot read {pose3d_csv} as an anipose pose-3d CSV: "
                             f"{' '.join(str(exc).split())[:160]}") from None
        cols = [c for c in df.columns if str(c).endswith("_error")]
        if not cols:
            raise InputError(f"{pose3d_csv} has no '<bodypart>_error' column; expected an "
                             f"anipose pose-3d CSV")
        rep = np.full(len(xy), np.nan)
        m = min(len(rep), len(df))
        rep[:m] = df[cols].to_numpy(float)[:m].max(axis=1)
    flags = outlier_scores(xy, conf, pcutoff, jump_px, rep, max_reprojection_px)
    cand = np.flatnonzero(flags["any"])
    if len(cand) > n:  # spread over time: one per equal-count bin, random within the bin
        rng = np.random.default_rng(seed)
        bins = np.array_split(cand, n)
        cand = np.array([rng.choice(b) for b in bins])
    frames = sorted(int(f) for f in cand)
    write_frames(Path(video), frames, Path(out_dir))
    lines = ["frame,low_confidence,jump,reprojection"]
    lines += [f"{f},{int(flags['low_confidence'][f])},{int(flags['jump'][f])},"
              f"{int(flags['reprojection'][f])}" for f in frames]
    write_text_atomic(Path(out_dir) / "outliers.csv", "\n".join(lines) + "\n")
    return frames
