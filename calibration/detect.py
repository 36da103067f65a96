"""Board detection in calibration frames: OpenCV 5's CharucoDetector and chessboard finders.

ChArUco detection tries OpenCV's legacy layout, inverted prints and mirrored views on the first
frames where markers are found and keeps the variant that finds the most corners. Detections
are dense arrays (NaN where a corner is not seen) so later stages stay vectorized, and they
can be cached on disk keyed by the inputs' paths, sizes and modification times.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from .board import Board
from .errors import InputError
from .sampling import SAMPLING, MotionSampler
from .sources import CameraSource

__all__ = ["Detections", "Variant", "detect_image", "detect_source", "detect_sources",
           "all_cached", "VARIANTS"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Variant:
    """How the board appears: OpenCV's legacy layout, inverted print, mirrored view, and
    whether its contrast is too low for the fast pass's threshold (``low_contrast``: use
    OpenCV's default adaptive-threshold constant of 7 grey levels instead of 10)."""

    legacy: bool = False
    inverted: bool = False
    mirrored: bool = False
    low_contrast: bool = False


VARIANTS = tuple(Variant(lg, inv, mir) for mir in (False, True) for inv in (False, True)
                 for lg in (False, True))


@dataclass
class Detections:
    """One camera's board corners over its frames.

    Attributes
    ----------
    camera : str
    image_size : (width, height) pixels
    frame_ids : (n_frames,) int
        Frames that were examined (every ``step``-th, less those the motion sampler
        skipped).
    corners : (n_frames, n_corners, 2) float64 pixels
        NaN where a corner was not detected.
    variant : Variant
    extra : object
        What ``detect_sources(then=...)`` computed for this camera (not cached).
    """

    camera: str
    image_size: tuple[int, int]
    frame_ids: np.ndarray
    corners: np.ndarray
    variant: Variant = field(default_factory=Variant)
    extra: object = field(default=None, repr=False, compare=False)

    @property
    def n_found(self) -> np.ndarray:
        """(n_frames,) corners found per frame."""
        return np.isfinite(self.corners[..., 0]).sum(-1)


def _trimmed_board(board: Board, legacy: bool):
    """The board on a dictionary cut to the board's own markers (ids ``0..n_markers-1``).

    OpenCV identifies each marker candidate by comparing it with every marker of the
    dictionary (first match within the error-correction tolerance, in id order), so with a
    large dictionary such as DICT_4X4_1000 most of the detection time goes there. The first
    ``n_markers`` entries with the same correction tolerance identify the board's markers
    exactly as the full dictionary does; candidates matching a later id were discarded anyway.
    """
    full = board.aruco_dictionary()
    ids = np.ravel(board.cv2_board(legacy=legacy).getIds())
    n = len(ids)
    if not np.array_equal(ids, np.arange(n)):  # not OpenCV's default ids: keep the dictionary
        return board.cv2_board(legacy=legacy)
    sub = cv2.aruco.Dictionary(np.ascontiguousarray(full.bytesList[:n]), full.markerSize,
                               full.maxCorrectionBits)
    b = cv2.aruco.CharucoBoard((board.squares_x, board.squares_y), board.square_length,
                               board.marker_length, sub)
    b.setLegacyPattern(bool(legacy))
    return b


_FAST_CONSTANT = 10.0  # grey levels below the local mean (7x7 window) that count as dark
_LOW_CONTRAST_CONSTANT = 7.0  # OpenCV's default
_MIN_MARKER_PERIMETER_PX = 32.0


class _Detector:
    """Board detector for one variant (kept per process; OpenCV objects are not picklable)."""

    def __init__(self, board: Board, variant: Variant) -> None:
        self.board = board
        self.variant = variant
        if board.type == "charuco":
            cv_board = _trimmed_board(board, variant.legacy)
            cparams = cv2.aruco.CharucoParameters()
            cparams.tryRefineMarkers = True
            # fast path: one adaptive-threshold pass; the full multi-scale search (OpenCV's
            # default windows 3..23) only when the fast pass finds some but few markers.
            # The fast pass thresholds 10 grey levels below the local mean (OpenCV: 7): image
            # noise in flat areas then gives far fewer specks, whose contours took most of
            # the time; a camera whose board is too faint for it is found while probing
            # and keeps OpenCV's 7 (``Variant.low_contrast``)
            fast = cv2.aruco.DetectorParameters()
            fast.adaptiveThreshWinSizeMin = fast.adaptiveThreshWinSizeMax = 7
            fast.adaptiveThreshConstant = (_LOW_CONTRAST_CONSTANT if variant.low_contrast
                                           else _FAST_CONSTANT)
            self.fast = cv2.aruco.CharucoDetector(cv_board, cparams, fast)
            self.cv = cv2.aruco.CharucoDetector(cv_board, cparams, cv2.aruco.DetectorParameters())
            self.n_markers = len(cv_board.getIds())
        self.shape: tuple[int, ...] = ()

    def _fit_to(self, shape: tuple[int, ...]) -> None:
        """Marker size bounds for this image size (OpenCV's are fractions of its larger
        side, 0.03 .. 4): contours of a perimeter under 32 px (markers under 8 px a side,
        < 1.4 px per cell of a 4x4 code: unreadable) or over twice the larger side (a marker
        half the image wide) are dropped before their shape is examined."""
        self.shape = shape
        rate = max(0.03, _MIN_MARKER_PERIMETER_PX / max(shape))
        for det in (self.fast, self.cv):
            p = det.getDetectorParameters()
            p.minMarkerPerimeterRate, p.maxMarkerPerimeterRate = rate, 2.0
            det.setDetectorParameters(p)

    def __call__(self, gray: np.ndarray, full: bool = False) -> np.ndarray:
        """(n_corners, 2) pixels, NaN where not found; ``full``: ChArUco boards with the
        full multi-scale search straight away (no fast pass)."""
        out = np.full((self.board.n_corners, 2), np.nan)
        if self.board.type == "charuco" and gray.shape != self.shape:
            self._fit_to(gray.shape)
        img = 255 - gray if self.variant.inverted else gray
        if self.variant.mirrored:
            img = cv2.flip(img, 1)
        if self.board.type == "charuco":
            corners, ids, _, marker_ids = (None, None, None, None) if full else \
                self.fast.detectBoard(img)
            n_found = 0 if marker_ids is None else len(marker_ids)
            if full or 0 < n_found < 0.5 * self.n_markers:  # a board is there, hard to read
                corners, ids, _, marker_ids = self.cv.detectBoard(img)
            if corners is None or ids is None or len(ids) == 0:
                return out
            out[np.asarray(ids).ravel()] = np.asarray(corners, dtype=np.float64).reshape(-1, 2)
        else:
            pattern = self.board.inner_corners
            # FAST_CHECK: a frame without the board is rejected in ~3 ms instead of the
            # classic search's 70-260 ms (640x480); a board it misses goes to the SB finder
            flags = (cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
                     | cv2.CALIB_CB_FAST_CHECK)
            found, corners = cv2.findChessboardCorners(img, pattern, flags=flags)
            if found:
                corners = cv2.cornerSubPix(
                    img, corners.astype(np.float32), (5, 5), (-1, -1),
                    (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-3))
            else:
                found, corners = cv2.findChessboardCornersSB(img, pattern)
            if not found:
                return out
            out[:] = corners.reshape(-1, 2)
        if self.variant.mirrored:
            out[:, 0] = gray.shape[1] - 1 - out[:, 0]
        return out


def detect_image(gray: np.ndarray, board: Board, variant: Variant | None = None) -> np.ndarray:
    """Detect board corners in one grey image.

    Parameters
    ----------
    gray : (h, w) uint8
    board : Board
    variant : Variant, optional
        Default: the board's legacy/inverted flags, not mirrored; a ChArUco board not found
        that way is looked for again with the low-contrast threshold.

    Returns
    -------
    corners : (n_corners, 2) pixels, NaN where not found
    """
    if variant is not None:
        return _Detector(board, variant)(gray)
    variant = Variant(bool(board.legacy), bool(board.inverted), False)
    out = _Detector(board, variant)(gray)
    if board.type == "charuco" and not np.isfinite(out[:, 0]).any():
        out = _Detector(board, replace(variant, low_contrast=True))(gray)
    return out


def _candidate_variants(board: Board) -> list[Variant]:
    if board.type != "charuco":
        return [Variant(False, bool(board.inverted), False)]
    legacy = [board.legacy] if board.legacy is not None else [False, True]
    inverted = [board.inverted] if board.inverted is not None else [False, True]
    return [v for v in VARIANTS if v.legacy in legacy and v.inverted in inverted]


def _n_corners(det: _Detector, frames: list[np.ndarray]) -> int:
    return int(sum(np.isfinite(det(f)[:, 0]).sum() for f in frames))


def _choose_variant(frames: list[np.ndarray], board: Board,
                    camera: str) -> tuple[Variant | None, int]:
    """The variant that finds the most corners on a few frames (None when none works) and
    how many corners it found there.

    ChArUco variants are compared with the low-contrast threshold (OpenCV's default, which
    also reads boards seen small or at a grazing angle); a camera keeps that threshold only
    where the fast pass's finds far fewer corners (a faint print or a dim camera).
    """
    cands = _candidate_variants(board)
    if board.type == "charuco":
        cands = [replace(v, low_contrast=True) for v in cands]
    best, best_n = None, 0
    for v in cands:
        n = _n_corners(_Detector(board, v), frames)
        if n > best_n * 1.05:  # prefer the plain variants unless another does clearly better
            best, best_n = v, n
    if best is not None and board.type == "charuco":
        fast = replace(best, low_contrast=False)
        if _n_corners(_Detector(board, fast), frames) >= 0.7 * best_n:
            best = fast
        unusual = [name.replace("_", " ") for name in ("legacy", "inverted", "mirrored",
                                                       "low_contrast") if getattr(best, name)]
        log.log(logging.INFO if unusual else logging.DEBUG,
                "camera %s: board seen %s (%d corners on %d probe frames)", camera,
                ", ".join(unusual) or "as printed", best_n, len(frames))
    return best, best_n


def _has_markers(gray: np.ndarray, board: Board) -> bool:
    """Whether at least two markers of the board's dictionary show, in any variant: the
    image or its negative (inverted prints), each as it is or flipped (a mirrored view's
    codes are mirrored too, and 5x5 or 6x6 mirrored codes match no code of the dictionary)."""
    if board.type != "charuco":
        return True
    det = cv2.aruco.ArucoDetector(board.aruco_dictionary(), cv2.aruco.DetectorParameters())
    for img in (gray, 255 - gray):
        for view in (img, cv2.flip(img, 1)):
            _, ids, _ = det.detectMarkers(view)
            if ids is not None and len(ids) >= 2:
                return True
    return False


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
    if variant is None and len(_candidate_variants(board)) == 1:
        variant = _candidate_variants(board)[0]  # nothing to choose (checkerboards)
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
                    variant, guessed, probes = _candidate_variants(board)[0], True, []
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
            _candidate_variants(board)[0]
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


def _detect_cached(source: CameraSource, board: Board, step: int,
                   cache_dir: Path | None, sample: tuple = ("all", 1.0),
                   decode_threads: int = 0, pool: _DetectPool | None = None) -> Detections:
    path = _cache_path(source, board, step, cache_dir, sample)
    if path is not None and path.exists():
        z = np.load(path)
        return Detections(source.name, tuple(int(v) for v in z["image_size"]),
                          z["frame_ids"], z["corners"], Variant(*map(bool, z["variant"])))
    d = detect_source(source, board, step, sample=sample[0], motion_threshold=sample[1],
                      decode_threads=decode_threads, pool=pool)
    if path is not None:
        from .atomic import atomic_path

        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            v = d.variant
            np.savez_compressed(fh, image_size=np.array(d.image_size), frame_ids=d.frame_ids,
                                corners=d.corners,
                                variant=np.array([v.legacy, v.inverted, v.mirrored,
                                                  v.low_contrast]))
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
