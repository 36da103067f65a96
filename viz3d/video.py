"""Video in (OpenCV) and out (imageio-ffmpeg, H.264, streamed, written atomically)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from calibration.errors import InputError
from poses.atomic import atomic_path

__all__ = ["VideoReader", "mp4_writer", "write_image"]


class VideoReader:
    """Frames of a video as RGB arrays, checked against the number of frames needed.

    Parameters
    ----------
    path : str or Path
    name : str
        How the argument is called in messages (e.g. ``"videos[2]"``).
    n_frames : int, optional
        Frames the caller will read; fewer in the file raises InputError.
    """

    def __init__(self, path: str | Path, name: str = "video", n_frames: int | None = None):
        self.path = Path(path)
        self.name = name
        if not self.path.is_file():
            raise InputError(f"{name}: video file not found: {self.path}")
        self.cap = cv2.VideoCapture(str(self.path))
        if not self.cap.isOpened():
            raise InputError(f"{name}: cannot open video {self.path} (not a video OpenCV "
                             "can decode?)")
        self.width = int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        fps = float(self.cap.get(cv2.CAP_PROP_FPS) or 0.0)
        self.fps = fps if np.isfinite(fps) and 0 < fps < 1000 else 30.0
        self.n_frames = int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self._next = 0
        if n_frames is not None and 0 < self.n_frames < n_frames:
            self.close()
            raise InputError(
                f"{name}: video {self.path} has {self.n_frames} frames but {n_frames} are "
                "needed (one per frame of the points); pass fewer frames of points or the "
                "full video")

    def read(self, index: int) -> np.ndarray:
        """Frame ``index`` as (height, width, 3) uint8 RGB (sequential reads are fastest)."""
        if index != self._next:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, frame = self.cap.read()
        if not ok or frame is None:
            raise InputError(f"{self.name}: video {self.path} ended before frame {index}; it "
                             "has fewer frames than the points")
        self._next = index + 1
        return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        """Release the file."""
        self.cap.release()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def mp4_writer(path: str | Path, size: tuple[int, int], fps: float,
               crf: int = 20, preset: str = "veryfast") -> Iterator:
    """Yield a function ``write(frame)`` streaming (h, w, 3) uint8 RGB frames to ``path``.

    H.264 yuv420p, written to a temporary file beside ``path`` and renamed when the block
    ends without error (nothing is left behind otherwise).

    Parameters
    ----------
    path : str or Path
    size : (width, height)
        Even numbers.
    fps : float
    crf : int
        x264 quality (lower is better; 20 is visually clean, 0 lossless).
    preset : str
        x264 speed preset.
    """
    import imageio_ffmpeg

    w, h = size
    with atomic_path(path) as tmp:
        gen = imageio_ffmpeg.write_frames(
            str(tmp), (w, h), fps=float(fps), codec="libx264", pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p", macro_block_size=1, quality=None,
            output_params=["-crf", str(int(crf)), "-preset", str(preset)],
            ffmpeg_log_level="error",
        )
        gen.send(None)

        def write(frame: np.ndarray) -> None:
            f = np.asarray(frame)
            if f.shape[:2] != (h, w):
                f = cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA)
            gen.send(np.ascontiguousarray(f[..., :3], dtype=np.uint8))

        try:
            yield write
        finally:
            gen.close()


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write an RGB picture (PNG or JPEG by suffix) atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), cv2.cvtColor(np.ascontiguousarray(image),
                                                  cv2.COLOR_RGB2BGR)):
            raise InputError(f"could not write picture {path} (suffix {path.suffix!r})")
    return path
