"""Run a trained model over videos: one DeepLabCut h5 (+ csv) per video.

Frames are decoded in a background thread into a bounded queue and inferred in batches, so
memory stays bounded on long videos. If a video stops decoding part way, the frames analyzed
so far are written and a ``ValueError`` names the frame where decoding failed.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path

import cv2
import numpy as np

from poses.atomic import check_output, check_output_folder
from poses.errors import InputError
from poses.io.dlc import save_dlc
from poses.model import DEFAULT_INDIVIDUAL, Poses

from .inference import Predictor
from .model_folder import load_model

__all__ = ["analyze_video", "analyze_videos", "iter_batches", "scorer_name", "analysis_poses",
           "write_analysis"]

#: Scoremap peaks kept per bodypart and frame as Viterbi candidates.
VITERBI_CANDIDATES = 4

log = logging.getLogger(__name__)


def scorer_name(model_dir: str | Path, settings: dict) -> str:
    """The scorer written in output tables, e.g. ``tripose_small_openfield``."""
    return f"tripose_{settings['backbone']}_{Path(model_dir).resolve().name}"


def _frame_count(cap) -> int:
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    return n if n > 0 else 0


def _video_fps(cap) -> float | None:
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    return fps if np.isfinite(fps) and fps > 0 else None


def analysis_poses(xy: np.ndarray, conf: np.ndarray, bodyparts: list[str], scorer: str,
                   camera: str | None = None, fps: float | None = None) -> Poses:
    """One video's keypoints as single-animal :class:`poses.Poses`.

    Parameters
    ----------
    xy : (n_frames, n_joints, 2) pixels
    conf : (n_frames, n_joints) likelihood in [0, 1]
    bodyparts : list of n_joints str
    scorer : str
        Kept in ``attrs["scorer"]`` (DeepLabCut's scorer column level).
    camera : str, optional
        The video's stem.
    fps : float, optional
        The video's frame rate; None when the container does not say.

    Returns
    -------
    Poses
        One individual, :data:`poses.DEFAULT_INDIVIDUAL`.
    """
    return Poses.from_numpy(xy, conf, keypoints=list(bodyparts),
                            individuals=[DEFAULT_INDIVIDUAL], fps=fps, units="px",
                            camera=camera, source_software="tripose",
                            attrs={"scorer": scorer})


def write_analysis(out_h5: str | Path, poses: Poses) -> Path:
    """Write analysis output as DeepLabCut does: ``out_h5`` (key ``df_with_missing``, table
    format, columns ``(scorer, bodyparts, coords)`` with ``x, y, likelihood``) and the
    ``.csv`` beside it, atomically (:func:`poses.io.dlc.save_dlc`)."""
    return save_dlc(poses, out_h5, csv=True, scorer=poses.attrs.get("scorer"))


def iter_batches(video: str | Path, batch_size: int, max_queue: int = 4):
    """Decode ``video`` in a thread; yield ``(first_index, frames (B, H, W, 3) uint8 RGB)``.

    The last item is ``(n_decoded, None)``; the generator raises nothing itself, the caller
    compares ``n_decoded`` with the expected count.
    """
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise ValueError(f"cannot open video {video}; check the file and that OpenCV's ffmpeg "
                         f"can decode it")
    q: queue.Queue = queue.Queue(maxsize=max_queue)
    stop = threading.Event()

    def worker():
        i, buf = 0, []
        try:
            while not stop.is_set():
                ok, frame = cap.read()
                if not ok:
                    break
                buf.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
                if len(buf) == batch_size:
                    q.put((i, np.stack(buf)))
                    i, buf = i + len(buf), []
            if buf:
                q.put((i, np.stack(buf)))
                i += len(buf)
        finally:
            cap.release()
            q.put((i, None))

    t = threading.Thread(target=worker, daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            yield item
            if item[1] is None:
                break
    finally:
        stop.set()
        while t.is_alive():  # unblock a worker waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                pass
            t.join(timeout=0.05)


def analyze_video(predictor: Predictor, video: str | Path, out_h5: str | Path,
                  bodyparts: list[str], scorer: str, batch_size: int = 16,
                  progress: bool = True, filter: str | None = None) -> dict:
    """Keypoints of every frame of one video, written as DeepLabCut h5 + csv.

    Parameters
    ----------
    predictor : Predictor
    video : str or Path
    out_h5 : str or Path
    bodyparts : list of str
    scorer : str
    batch_size : int
    progress : bool
    filter : {None, "median", "viterbi"}
        2D track filter applied before writing (see :mod:`pose2d.filters`).

    Returns
    -------
    dict
        ``{"video", "output", "n_frames", "fps"}``.

    Raises
    ------
    ValueError
        The video cannot be opened, or stops decoding before its announced frame count
        (the frames analyzed so far are written first, to ``<stem>.partial.h5/.csv``: an
        earlier output at ``out_h5`` is kept).
    """
    import time

    video = Path(video)
    if not video.is_file():
        raise FileNotFoundError(f"video {video} does not exist")
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        cap.release()
        raise InputError(f"cannot open video {video}; check the file and that OpenCV's ffmpeg "
                         f"can decode it")
    expected = _frame_count(cap)
    video_fps = _video_fps(cap)
    cap.release()
    xy_chunks, conf_chunks = [], []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=expected or None, desc=video.name, unit="frame", dynamic_ncols=True)
    t0 = time.perf_counter()
    n = 0
    for _first, frames in iter_batches(video, batch_size):
        if frames is None:
            n = _first
            break
        xy, conf = predictor(frames, top_k=VITERBI_CANDIDATES if filter == "viterbi" else 0)
        xy_chunks.append(xy)
        conf_chunks.append(conf)
        if bar is not None:
            bar.update(len(frames))
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - t0
    j = len(bodyparts)
    k = (VITERBI_CANDIDATES,) if filter == "viterbi" else ()
    xy = np.concatenate(xy_chunks) if xy_chunks else np.zeros((0, j, *k, 2))
    conf = np.concatenate(conf_chunks) if conf_chunks else np.zeros((0, j, *k))
    if filter:
        from .filters import filter_track

        xy, conf = filter_track(xy, conf, method=filter)
    if n == 0:  # nothing to keep: write no empty table that a rerun would skip
        raise ValueError(f"{video}: no frame could be decoded; check the file")
    out_h5 = Path(out_h5)
    cut = bool(expected) and n < expected - 2  # containers may over-announce by a frame or two
    # a cut-short analysis never takes the output's name: an earlier complete output stays,
    # and a rerun does not skip the video as done
    target = out_h5.with_name(f"{out_h5.stem}.partial{out_h5.suffix}") if cut else out_h5
    write_analysis(target, analysis_poses(xy, conf, bodyparts, scorer, camera=video.stem,
                                          fps=video_fps))
    if cut:
        kept = (f"{out_h5.name} is left as it was" if out_h5.exists()
                else f"{out_h5.name} is not written")
        raise ValueError(f"{video}: decoding stopped at frame {n} of {expected}; the {n} "
                         f"frames analyzed so far are in {target} ({kept}); re-encode the "
                         f"video (e.g. ffmpeg -i in.mp4 -c:v libx264 out.mp4) to analyze the "
                         f"rest")
    return {"video": str(video), "output": str(out_h5), "n_frames": n,
            "fps": n / elapsed if elapsed > 0 else None}


def check_videos(videos: list, out_dir: str | Path, filter: str | None = None) -> None:
    """Refuse what :func:`analyze_videos` cannot do well, before any work.

    Parameters
    ----------
    videos : list of paths
    out_dir : path
    filter : {None, "median", "viterbi"}

    Raises
    ------
    InputError
        An unknown ``filter`` (naming ``--filter``), two videos whose outputs
        ``out_dir/<stem>.h5`` would be the same file, or outputs that cannot be written (the
        folder is a file or read-only, an output is a folder or a link).
    FileNotFoundError
        A video that does not exist.
    """
    if filter not in (None, "", "median", "viterbi"):
        raise InputError(f"--filter must be median or viterbi, got {filter!r}")
    by_stem: dict[str, list[str]] = {}
    for v in videos:
        v = Path(v)
        if not v.is_file():
            raise FileNotFoundError(f"video {v} does not exist")
        by_stem.setdefault(v.stem, []).append(str(v))
    for stem, paths in by_stem.items():
        if len(paths) > 1:
            raise InputError(f"videos {paths} share the name {stem!r}: both would be written "
                             f"to {Path(out_dir) / (stem + '.h5')}; rename one, or analyze "
                             f"them into different folders")
    check_output_folder(out_dir, "output folder (-o)")
    for stem in by_stem:
        for suffix in (".h5", ".csv"):
            check_output(Path(out_dir) / f"{stem}{suffix}")


def analyze_videos(model_dir: str | Path, videos: list, out_dir: str | Path,
                   batch_size: int = 16, overwrite: bool = False, progress: bool = True,
                   device: str = "auto", precision: str = "auto",
                   filter: str | None = None) -> list[dict]:
    """:func:`analyze_video` for each video into ``out_dir/<video stem>.h5`` (+ ``.csv``).

    Existing outputs are skipped unless ``overwrite``. Options and the videos' names are
    checked before the model is loaded: two videos with the same stem would write the same
    output file, so they are refused.

    Raises
    ------
    InputError
        An unknown ``filter`` or two videos sharing a stem.
    FileNotFoundError
        A missing video.
    """
    check_videos(videos, out_dir, filter)
    net, s = load_model(model_dir)
    predictor = Predictor(net, s, device=device, precision=precision)
    scorer = scorer_name(model_dir, s)
    out_dir = Path(out_dir)
    results = []
    for v in videos:
        v = Path(v)
        out = out_dir / f"{v.stem}.h5"
        if out.exists() and not overwrite:
            log.info("skipping %s: %s exists (use --overwrite)", v, out)
            results.append({"video": str(v), "output": str(out), "skipped": True})
            continue
        results.append(analyze_video(predictor, v, out, s["bodyparts"], scorer, batch_size,
                                     progress, filter))
    return results
