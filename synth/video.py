"""Writing videos for the synthetic sessions: :func:`viz3d.video.mp4_writer` (imageio-ffmpeg,
H.264 yuv420p, atomic) behind a writer object with a frame count and grey frames."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import numpy as np

__all__ = ["VideoWriter"]


class VideoWriter:
    """Write frames to an MP4 (H.264, yuv420p) through a temporary file, renamed on close.

    Parameters
    ----------
    path : str or Path
    size : (width, height) pixels
        Both even (yuv420p needs it).
    fps : float
    crf : int
        x264 quality; 0 is lossless, 12 keeps board corners within ~0.1 px.

    Examples
    --------
    >>> with VideoWriter("out.mp4", (640, 480), fps=30) as vw:  # doctest: +SKIP
    ...     vw.write(frame)  # (480, 640) or (480, 640, 3) uint8
    """

    def __init__(self, path: str | Path, size: tuple[int, int], fps: float = 30.0,
                 crf: int = 12) -> None:
        from viz3d.video import mp4_writer

        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        if self.size[0] % 2 or self.size[1] % 2:
            raise ValueError(f"video size must be even in both axes, got {self.size}")
        self._stack: ExitStack | None = ExitStack()
        self._send = self._stack.enter_context(
            mp4_writer(self.path, self.size, fps, crf=crf, preset="fast"))
        self.n_frames = 0

    def write(self, frame: np.ndarray) -> None:
        """Append one frame: (h, w) grey or (h, w, 3) RGB uint8."""
        f = np.asarray(frame)
        if f.ndim == 2:
            f = np.repeat(f[:, :, None], 3, axis=2)
        if f.shape[:2] != (self.size[1], self.size[0]):
            raise ValueError(f"frame shape {f.shape} does not match video size {self.size}")
        self._send(f)
        self.n_frames += 1

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self._stack is not None:
            stack, self._stack = self._stack, None
            stack.close()

    def abort(self) -> None:
        """Drop the partial file."""
        if self._stack is not None:
            stack, self._stack = self._stack, None
            err = RuntimeError("video aborted")
            stack.__exit__(type(err), err, None)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
