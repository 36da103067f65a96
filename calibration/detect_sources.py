"""Board detection over whole cameras: videos and image folders decoded in threads that
hand their frames to shared detection threads, the variant chosen on probe frames, per-camera
work right after a camera's detection, and an on-disk cache keyed by the inputs' paths,
sizes and modification times (single images: :mod:`.detect`)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .board import Board
from .detect import (
    Detections,
    Variant,
    _candidate_variants,
    _choose_variant,
    _Detector,
    _has_markers,
)
from .errors import InputError
from .sampling import SAMPLING, MotionSampler
from .sources import CameraSource

__all__ = ["detect_source", "detect_sources", "all_cached"]

log = logging.getLogger(__name__)

_IN_FLIGHT = 16  # frames per camera decoded but not yet detected
_MAX_PENDING = 60  # frames held while choosing the variant (then: the best guess so far)
_PROBE_CORNERS = 20  # corners the best variant must find on the probe frames to be chosen
_REPROBE_EVERY = 10  # after a guess, every 10th frame is probed until the board shows


class _DetectPool:
    """Detection threads shared by the cameras' decoding threads (one detector per thread
    and board variant; OpenCV releases the GIL while detecting)."""

    def __init__(self, board: Board, n_threads: int) -> None:
        self.board = board
        self.executor = ThreadPoolExecutor(n_threads, thread_name_prefix="tripose-detect")
        self.local = threading.local()

    def _detect(self, variant: Variant, gray: np.ndarray) -> np.ndarray:
        cache = self.local.__dict__.setdefault("detectors", {})
        if variant not in cache:
            cache[variant] = _Detector(self.board, variant)
        return cache[variant](gray)

    def submit(self, variant: Variant, gray: np.ndarray) -> Future:
        """Detect in a pool thread; the future's result is ``(n_corners, 2)`` pixels."""
        return self.executor.submit(self._detect, variant, gray)

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def detect_source(source: CameraSource, board: Board, step: int = 1,
                  variant: Variant | None = None, probe_frames: int = 3, sample: str = "all",
                  motion_threshold: float = 1.0, decode_threads: int = 0,
                  pool: _DetectPool | None = None) -> Detections:
    """Detect the board in every ``step``-th frame of one camera.

    Parameters
    ----------
    source : CameraSource
    board : Board
    step : int
        Examine every ``step``-th frame (videos: skipped frames are grabbed, not decoded).
    variant : Variant, optional
        Skip auto-detection of legacy / inverted / mirrored.
    probe_frames : int
        Frames with markers used to choose the variant (doubled while the best variant
        finds fewer than 20 corners on them, up to 60 frames held). When none of the first
        60 frames shows markers, the plain variant is a guess: every 10th frame is probed
        (every frame once one shows markers) and the variant chosen when the board shows.
    sample : {"all", "motion"}
        ``"motion"``: of those frames, examine only the ones that differ from the last
        examined frame (see :class:`~calibration.sampling.MotionSampler`).
    motion_threshold : float
        Grey levels, for ``sample="motion"``.
    decode_threads : int
        FFmpeg threads per video (0: FFmpeg's default).
    pool : _DetectPool, optional
        Detection threads: this thread decodes and hands the frames over, so decoding and
        detection overlap (default: both in this thread).

    Returns
    -------
    Detections
    """
    ids, rows, probes, pending = [], [], [], []
    candidates = _candidate_variants(board)
    if variant is None and len(candidates) == 1:
        variant = candidates[0]  # nothing to choose (checkerboards)
    det = _Detector(board, variant) if variant is not None else None
    done = 0  # rows[:done] are arrays, later ones may be pending detections of ``pool``
    need = probe_frames  # probe frames before the next try at choosing the variant

    def add(fid: int, gray: np.ndarray) -> None:
        nonlocal done
        ids.append(fid)
        if pool is None:
            rows.append(det(gray))
            return
        rows.append(pool.submit(det.variant, gray))
        while len(rows) - done > _IN_FLIGHT:  # bounded memory: wait for the oldest frame
            rows[done] = rows[done].result()
            done += 1

    if sample not in SAMPLING:
        raise ValueError(f"sample must be one of {SAMPLING}, got {sample!r}")
    sampler = MotionSampler(motion_threshold) if sample == "motion" else None
    guessed = False  # no board in the first frames: the variant is a guess, still probed
    for fid, gray in source.frames(step, decode_threads):
        if sampler is not None and not sampler.keep(gray):
            continue
        if det is None:
            pending.append((fid, gray))
            if _has_markers(gray, board):
                probes.append(gray)
            last = len(pending) >= _MAX_PENDING
            if len(probes) >= need or last:
                variant, n = _choose_variant(probes, board, source.name) if probes else \
                    (None, 0)
                if n < _PROBE_CORNERS and not last:  # too little seen to tell: probe more
                    variant, need = None, 2 * need
                if variant is None and last:
                    variant, guessed, probes = candidates[0], True, []
                if variant is not None:
                    det = _Detector(board, variant)
                    for pf, pg in pending:
                        add(pf, pg)
                    pending = []
            continue
        if guessed and (probes or len(ids) % _REPROBE_EVERY == 0) and \
                _has_markers(gray, board):
            # the board appears after the first frames: choose the variant on it now (the
            # frames between its appearance and this choice keep the guess)
            probes.append(gray)
            if len(probes) >= probe_frames:
                v, n = _choose_variant(probes, board, source.name)
                if v is not None and (n >= _PROBE_CORNERS or len(probes) >= 4 * probe_frames):
                    guessed = False
                    if v != variant:
                        variant, det = v, _Detector(board, v)
        add(fid, gray)
    if det is None:  # short input: decide on what was seen
        variant = (_choose_variant(probes, board, source.name)[0] if probes else None) or \
            candidates[0]
        det = _Detector(board, variant)
        for pf, pg in pending:
            add(pf, pg)
    rows = [r if isinstance(r, np.ndarray) else r.result() for r in rows]
    corners = np.stack(rows) if rows else np.zeros((0, board.n_corners, 2))
    return Detections(source.name, source.image_size, np.asarray(ids, int), corners, variant)


def _cache_key(source: CameraSource, board: Board, step: int, sample: tuple) -> str:
    extra = [] if sample[0] == "all" else [list(sample)]
    blob = json.dumps([source.fingerprint(), asdict(board), step, 3, *extra], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _cache_path(source: CameraSource, board: Board, step: int, cache_dir: Path | None,
                sample: tuple) -> Path | None:
    if cache_dir is None:
        return None
    return Path(cache_dir) / \
        f"detections-{source.name}-{_cache_key(source, board, step, sample)}.npz"


def all_cached(sources: list[CameraSource], board: Board, step: int,
               cache_dir: str | Path | None, sample: str = "all",
               motion_threshold: float = 1.0) -> bool:
    """Whether :func:`detect_sources` with these arguments would decode no frame (every
    camera's detections are in ``cache_dir``)."""
    key = (sample, float(motion_threshold))
    paths = [_cache_path(s, board, step, cache_dir, key) for s in sources]
    return all(p is not None and p.exists() for p in paths)


def _read_cache(path: Path, name: str, board: Board) -> Detections | None:
    """A camera's cached detections, or None (with a warning) when the file is damaged or
    does not fit the board: the caller then detects again and rewrites it."""
    import zipfile
    import zlib

    try:
        with zipfile.ZipFile(path) as zf:  # every member's CRC checked before numpy reads
            bad = zf.testzip()
            if bad is not None:
                raise ValueError(f"member {bad} is corrupt")
        with np.load(path, allow_pickle=False) as z:
            size = tuple(int(v) for v in z["image_size"])
            ids, corners = np.asarray(z["frame_ids"]), np.asarray(z["corners"], float)
            variant = Variant(*map(bool, z["variant"]))
        if (len(size) != 2 or corners.ndim != 3 or corners.shape[1:] != (board.n_corners, 2)
                or ids.shape != (len(corners),)):
            raise ValueError(f"arrays of shapes {ids.shape}, {corners.shape} do not fit the "
                             f"board's {board.n_corners} corners")
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile,
            zlib.error) as exc:
        log.warning("detection cache %s cannot be read (%s); detecting camera %s again",
                    path, exc, name)
        return None
    return Detections(name, size, ids.astype(int), corners, variant)


def _detect_cached(source: CameraSource, board: Board, step: int,
                   cache_dir: Path | None, sample: tuple = ("all", 1.0),
                   decode_threads: int = 0, pool: _DetectPool | None = None) -> Detections:
    path = _cache_path(source, board, step, cache_dir, sample)
    if path is not None and path.exists():
        cached = _read_cache(path, source.name, board)
        if cached is not None:
            return cached
    d = detect_source(source, board, step, sample=sample[0], motion_threshold=sample[1],
                      decode_threads=decode_threads, pool=pool)
    if path is not None:
        from poses.atomic import atomic_path

        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                v = d.variant
                np.savez_compressed(fh, image_size=np.array(d.image_size),
                                    frame_ids=d.frame_ids, corners=d.corners,
                                    variant=np.array([v.legacy, v.inverted, v.mirrored,
                                                      v.low_contrast]))
        except (InputError, OSError) as exc:  # a cache is an optimisation: go on without
            log.warning("camera %s: detections not cached (%s)", source.name, exc)
    return d


def _detect_then(source: CameraSource, board: Board, step: int, cache: Path | None,
                 then: Callable[[Detections], object] | None, sample: tuple,
                 decode_threads: int = 0, pool: _DetectPool | None = None):
    d = _detect_cached(source, board, step, cache, sample, decode_threads, pool)
    if then is None or d.n_found.max(initial=0) == 0:
        return d, None
    try:
        return d, then(d)
    except Exception as exc:  # noqa: BLE001 - re-raised in camera order by the caller
        return d, exc


def detect_sources(sources: list[CameraSource], board: Board, step: int = 1,
                   n_jobs: int | None = None, cache_dir: str | Path | None = None,
                   progress: bool = False,
                   then: Callable[[Detections], object] | None = None, sample: str = "all",
                   motion_threshold: float = 1.0) -> list[Detections]:
    """Detect the board for every camera, in parallel over cameras, with an optional cache.

    Parameters
    ----------
    sources : list of CameraSource
    board : Board
    step : int
        Examine every ``step``-th frame.
    n_jobs : int, optional
        Worker threads (default: one per core, at most one per camera).
    cache_dir : path, optional
        Where detections are cached; a rerun with other solver options skips decoding.
    progress : bool
        Show a progress bar over cameras.
    then : callable, optional
        Per-camera work run in the same worker right after a camera's detection (so it
        overlaps the decoding of the other cameras), e.g. its intrinsics. Its result, or the
        exception it raised, is stored in ``Detections.extra``.
    sample : {"all", "motion"}
    motion_threshold : float
        Frame sampling, see :func:`detect_source`.

    Returns
    -------
    list of Detections
        In the order of ``sources``.

    Raises
    ------
    InputError
        A camera where the board was never found, listing the variants tried.
    """
    import os

    from joblib import Parallel, delayed

    cache = Path(cache_dir) if cache_dir is not None else None
    jobs = n_jobs or max(1, min(len(sources), os.cpu_count() or 1))
    # ``jobs`` cameras are decoded at a time, each in its thread with one FFmpeg thread (less
    # CPU per frame than FFmpeg's frame threading), and hand their frames to ``jobs``
    # detection threads: decoding and detection overlap and no core idles while a camera
    # with many board views finishes
    threads = 1 if jobs > 1 else 0
    pool = _DetectPool(board, jobs) if jobs > 1 else None
    tasks = (delayed(_detect_then)(s, board, step, cache, then,
                                   (sample, float(motion_threshold)), threads, pool)
             for s in sources)
    bar = None
    quiet_logs = contextlib.nullcontext()
    if progress:
        from tqdm.auto import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        bar = tqdm(total=len(sources), desc="detecting board", unit="camera")
        quiet_logs = logging_redirect_tqdm()  # log lines above the bar, not through it
    # threads: OpenCV releases the GIL while decoding and detecting, and no worker processes
    # have to start (the detectors are built per call); results come back in camera order
    # as they finish, so the bar counts finished cameras
    results = []
    try:
        with quiet_logs:
            for d, extra in Parallel(n_jobs=jobs, backend="threading",
                                     return_as="generator")(tasks):
                d.extra = extra
                results.append(d)
                if bar is not None:
                    bar.update()
    finally:
        if pool is not None:
            pool.close()
        if bar is not None:
            bar.close()
    for d in results:
        if d.n_found.max(initial=0) == 0:
            tried = ", ".join(
                f"legacy={v.legacy} inverted={v.inverted} mirrored={v.mirrored}"
                for v in _candidate_variants(board))
            what = (f"ChArUco {board.squares_x}x{board.squares_y} {board.dictionary}"
                    if board.type == "charuco" else
                    f"checkerboard with {board.inner_corners} inner corners")
            raise InputError(
                f"camera {d.camera!r}: no board found in {len(d.frame_ids)} frames; looked for "
                f"a {what} (tried {tried}). Check the board file (squares, dictionary) "
                f"against the printed board")
    return results
