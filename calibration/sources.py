"""Calibration inputs: a video, a folder of images or a glob of images per camera.

Each command-line INPUT is ``PATH`` or ``NAME=PATH``. The camera name defaults to the video's
stem, the folder's name, or the glob's literal prefix. Images are matched across cameras by
the trailing number of their file names (natural order); videos by frame index.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

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

    def frames(self, step: int = 1) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame_id, grey image)`` for every ``step``-th frame.

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
                yield int(self.frame_ids[k]), img
            return
        cap = cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise InputError(f"camera {self.name!r}: cannot open video {self.path}")
        try:
            index = 0
            while True:
                if index % step:
                    if not cap.grab():
                        break
                else:
                    ok, frame = cap.read()
                    if not ok:
                        break
                    yield index, cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
                index += 1
        finally:
            cap.release()


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
        text = str(item)
        name, sep, rest = text.partition("=")
        if sep and name and not Path(text).exists() and "/" not in name:
            specs.append((name, rest))
        else:
            specs.append((None, text))
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
