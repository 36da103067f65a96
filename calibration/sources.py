"""Calibration inputs: a video, a folder of images or a glob of images per camera.

Each command-line INPUT is ``PATH`` or ``NAME=PATH``. The camera name defaults to the video's
stem, the folder's name, or the glob's literal prefix. Images are matched across cameras by
the trailing number of their file names (natural order); videos by frame index.
"""

from __future__ import annotations

import glob
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from poses.io.inputs import split_name

from .errors import InputError

__all__ = ["CameraSource", "parse_inputs", "natural_key", "VIDEO_SUFFIXES", "IMAGE_SUFFIXES"]

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".webm"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
_TRAILING = re.compile(r"(\d+)(?!.*\d)")
_GENERIC_FOLDERS = {"calibration_images", "calibration", "images", "frames", "img", "imgs"}


def natural_key(path: str | Path) -> list:
    """Sort key that orders ``img2`` before ``img10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", Path(path).name)]


@dataclass
class CameraSource:
    """One camera's calibration frames.

    Attributes
    ----------
    name : str
    kind : {"video", "images"}
    path : Path
        The video, the folder, or the glob pattern.
    files : list of Path
        Image files in natural order (empty for a video).
    frame_ids : (n_frames,) int
        Frame number of each image (its trailing number, else its position) or video frame.
    """

    name: str
    kind: str
    path: Path
    files: list[Path] = field(default_factory=list)
    frame_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    image_size: tuple[int, int] = (0, 0)

    @property
    def n_frames(self) -> int:
        """Number of frames (images, or video frames as the container reports)."""
        return len(self.frame_ids)

    def fingerprint(self) -> list:
        """Paths, sizes and modification times: what a detection cache is keyed on."""
        files = self.files if self.kind == "images" else [self.path]
        return [[str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns] for f in files]

    def frames(self, step: int = 1, decode_threads: int = 0) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame_id, grey image)`` for every ``step``-th frame.

        ``decode_threads``: FFmpeg decoding threads for a video (0: FFmpeg's choice; 1 costs
        less CPU per frame when cameras are already decoded in parallel).

        Raises
        ------
        InputError
            Naming the file that cannot be read (what was read before is kept by callers).
        """
        if self.kind == "images":
            for k in range(0, len(self.files), step):
                img = cv2.imread(str(self.files[k]), cv2.IMREAD_GRAYSCALE)
                if img is None:
                    raise InputError(f"camera {self.name!r}: cannot read image {self.files[k]}")
                if (img.shape[1], img.shape[0]) != tuple(self.image_size):
                    w, h = self.image_size
                    raise InputError(
                        f"camera {self.name!r}: image {self.files[k]} is "
                        f"{img.shape[1]}x{img.shape[0]} but {self.files[0].name} is {w}x{h}; "
                        f"one camera's images must share one size (move the odd ones out)")
                yield int(self.frame_ids[k]), img
            return
        yield from video_frames(self.path, self.name, step, self.image_size,
                                threads=decode_threads)


#: Limited-range luma (16..235) to full-range grey (0..255); rounding down matches FFmpeg's
#: YUV -> BGR then OpenCV's BGR -> grey bit for bit on grey content.
_LUMA_LUT = np.clip(np.floor((np.arange(256) - 16) * 255 / 219), 0, 255).astype(np.uint8)
#: Full-range luma (yuvj420p, or yuv420p tagged ``pc``) is already grey.
_FULL_RANGE_LUT = np.arange(256, dtype=np.uint8)
_I420 = int.from_bytes(b"I420", "little")  # FFmpeg's yuv420p as OpenCV reports it


class _QuietOpenCV:
    """OpenCV's log level at ERROR while any luma capture is open (reference counted, so
    threads reading several videos restore the caller's level only when the last one ends):
    the FFmpeg backend warns once per capture that unconverted frames are "at your own risk"."""

    _lock = threading.Lock()
    _users = 0
    _saved = 0

    def __enter__(self):
        with self._lock:
            if _QuietOpenCV._users == 0:
                _QuietOpenCV._saved = cv2.utils.logging.getLogLevel()
                cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
            _QuietOpenCV._users += 1

    def __exit__(self, *exc):
        with self._lock:
            _QuietOpenCV._users -= 1
            if _QuietOpenCV._users == 0:
                cv2.utils.logging.setLogLevel(_QuietOpenCV._saved)


def _open_luma(path: Path, size: tuple[int, int], threads: int = 0):
    """A capture returning the decoded Y plane (no colour conversion), or None.

    Only for yuv420p H.264/HEVC/... streams read by OpenCV's FFmpeg backend, where an
    unconverted frame is the (h, w) luma plane; anything else is read as BGR. OpenCV does
    not report the stream's range, so the first frame is also decoded to BGR and grey, and
    the range whose luma-to-grey mapping matches it is kept (limited 16..235, or full range
    for yuvj420p and streams tagged ``pc``); neither matching means the BGR path.

    Returns
    -------
    (cap, first frames (h, w) uint8 luma, lut (256,) uint8) or None
    """
    if not hasattr(cv2, "CAP_PROP_CODEC_PIXEL_FORMAT"):
        return None
    params = [cv2.CAP_PROP_CONVERT_RGB, 0] + ([cv2.CAP_PROP_N_THREADS, threads] if threads else [])
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, params)
    if (not cap.isOpened() or int(cap.get(cv2.CAP_PROP_CODEC_PIXEL_FORMAT)) != _I420
            or cap.get(cv2.CAP_PROP_CONVERT_RGB) != 0):
        cap.release()
        return None
    first = [f for ok, f in (cap.read(), cap.read()) if ok]
    lut = None
    if first and all(f.dtype == np.uint8 and f.shape == (size[1], size[0]) for f in first):
        lut = _luma_range(path, first[0])
    if lut is None:
        cap.release()
        return None
    return cap, first, lut


def _luma_range(path: Path, luma: np.ndarray) -> np.ndarray | None:
    """The lookup table mapping this video's luma to OpenCV's grey (None: neither range)."""
    ref = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    ok, bgr = ref.read()
    ref.release()
    if not ok or bgr.shape[:2] != luma.shape:
        return None
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.int16)
    errors = [float(np.mean(np.abs(cv2.LUT(luma, lut).astype(np.int16) - grey)))
              for lut in (_LUMA_LUT, _FULL_RANGE_LUT)]
    best = int(np.argmin(errors))
    # chroma moves BGR -> grey a little away from luma on coloured scenes; a wrong range
    # is off by up to 20 levels across the grey scale, but by little on a first frame of
    # one grey level (a black intro): undecided -> the BGR path
    if errors[best] > 4.0 or errors[1 - best] - errors[best] < 1.0:
        return None
    return (_LUMA_LUT, _FULL_RANGE_LUT)[best]


def video_frames(path: Path, name: str, step: int = 1, size: tuple[int, int] = (0, 0),
                 luma: bool = True, threads: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    """Yield ``(frame index, grey image)`` for every ``step``-th frame of a video.

    Parameters
    ----------
    path : Path
    name : str
        Camera name, for error messages.
    step : int
    size : (width, height)
        The frame size the container reports (checks the luma plane's shape).
    luma : bool
        Decode straight to grey: the luma plane of yuv420p streams mapped from their range
        (limited or full, see :func:`_open_luma`) to grey by a lookup table (skips FFmpeg's
        YUV -> BGR conversion and the BGR -> grey one; on grey content the same image as
        ``cvtColor(bgr, COLOR_BGR2GRAY)`` within rounding). Other streams are decoded to BGR
        and converted.
    threads : int
        FFmpeg decoding threads (0: FFmpeg's default).

    Yields
    ------
    index : int
    gray : (h, w) uint8
    """
    quiet = _QuietOpenCV()
    if luma:
        quiet.__enter__()
    opened = _open_luma(path, size, threads) if luma else None
    if luma and opened is None:
        quiet.__exit__()
        luma = False
    lut = _LUMA_LUT
    if opened is not None:
        cap, first, lut = opened
    else:
        params = [cv2.CAP_PROP_N_THREADS, threads] if threads else []
        cap, first = cv2.VideoCapture(str(path), cv2.CAP_ANY, params), None
        if not cap.isOpened():
            raise InputError(f"camera {name!r}: cannot open video {path}")
    try:
        index = 0
        for frame in first or []:
            if index % step == 0:
                yield index, cv2.LUT(frame, lut)
            index += 1
        while True:
            if index % step:
                if not cap.grab():
                    break
            else:
                ok, frame = cap.read()
                if not ok:
                    break
                yield index, (cv2.LUT(frame, lut) if first is not None else
                              cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
            index += 1
    finally:
        cap.release()
        if luma:
            quiet.__exit__()


def _trailing_ids(files: Sequence[Path]) -> np.ndarray:
    nums = [_TRAILING.search(f.stem) for f in files]
    if all(nums):
        ids = np.array([int(m.group(1)) for m in nums])
        if len(np.unique(ids)) == len(ids):
            return ids
    return np.arange(len(files))


def _image_size(path: Path) -> tuple[int, int]:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise InputError(f"cannot read image {path}")
    return img.shape[1], img.shape[0]


def _make_source(name: str | None, spec: str) -> CameraSource:
    path = Path(spec).expanduser()
    if any(ch in spec for ch in "*?["):
        files = sorted((Path(f) for f in glob.glob(str(path))), key=natural_key)
        files = [f for f in files if f.suffix.lower() in IMAGE_SUFFIXES]
        if not files:
            raise InputError(f"no images match {spec!r}; quote the glob so the shell keeps it")
        default = re.split(r"[*?\[]", path.name)[0].strip("_-. ") or path.parent.name
        kind = "images"
    elif path.is_dir():
        files = sorted((f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES),
                       key=natural_key)
        if not files:
            raise InputError(f"folder {path} holds no images ({sorted(IMAGE_SUFFIXES)})")
        default = path.name
        if default.lower() in _GENERIC_FOLDERS:
            default = path.parent.name
        kind = "images"
    elif path.is_file():
        if path.suffix.lower() not in VIDEO_SUFFIXES | IMAGE_SUFFIXES:
            raise InputError(f"{path} is neither a video ({sorted(VIDEO_SUFFIXES)}) nor an "
                             f"image folder")
        if path.suffix.lower() in IMAGE_SUFFIXES:
            raise InputError(f"{path} is a single image; give a folder or a quoted glob")
        cap = cv2.VideoCapture(str(path))
        ok = cap.isOpened()
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if ok else 0
        size = (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        cap.release()
        if not ok or n <= 0:
            raise InputError(f"cannot read video {path} (not a video, or no frames)")
        return CameraSource(name or path.stem, "video", path, [], np.arange(n), size)
    else:
        raise FileNotFoundError(f"calibration input not found: {spec}")
    return CameraSource(name or default, kind, path, files, _trailing_ids(files),
                        _image_size(files[0]))


def parse_inputs(inputs: Sequence[str | Path]) -> list[CameraSource]:
    """Parse ``PATH`` / ``NAME=PATH`` inputs into camera sources.

    Parameters
    ----------
    inputs : sequence of str
        At least two cameras.

    Returns
    -------
    list of CameraSource
        In the order given. Default names that collide (e.g. ``back/calibration_images`` and
        ``mid/calibration_images``) fall back to the parent folder's name.

    Raises
    ------
    InputError
        Fewer than 2 inputs, duplicate names, unreadable paths.
    """
    specs = []
    for item in inputs:
        specs.append(split_name(item))
    if len(specs) < 2:
        raise InputError(f"calibration needs at least 2 cameras, got {len(specs)} input(s)")
    sources = [_make_source(n, s) for n, s in specs]
    names = [s.name for s in sources]
    if len(set(names)) < len(names):
        for s, (given, spec) in zip(sources, specs, strict=True):
            if given is None and names.count(s.name) > 1:
                s.name = Path(spec).resolve().parent.name
        names = [s.name for s in sources]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(f"camera names repeat {dup}; name inputs explicitly as NAME=PATH")
    return sources
