"""Writing videos for the synthetic sessions (imageio-ffmpeg, H.264, atomic)."""

from __future__ import annotations

import os
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
        import imageio_ffmpeg

        self.path = Path(path)
        self.size = (int(size[0]), int(size[1]))
        if self.size[0] % 2 or self.size[1] % 2:
            raise ValueError(f"video size must be even in both axes, got {self.size}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.stem}.tmp{self.path.suffix}")
        self._gen = imageio_ffmpeg.write_frames(
            str(self._tmp), self.size, fps=fps, codec="libx264", pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p", macro_block_size=1, quality=None,
            output_params=["-crf", str(int(crf)), "-preset", "fast"], ffmpeg_log_level="error",
        )
        self._gen.send(None)
        self.n_frames = 0

    def write(self, frame: np.ndarray) -> None:
        """Append one frame: (h, w) grey or (h, w, 3) RGB uint8."""
        f = np.asarray(frame)
        if f.ndim == 2:
            f = np.repeat(f[:, :, None], 3, axis=2)
        if f.shape[:2] != (self.size[1], self.size[0]):
            raise ValueError(f"frame shape {f.shape} does not match video size {self.size}")
        self._gen.send(np.ascontiguousarray(f, dtype=np.uint8))
        self.n_frames += 1

    def close(self) -> None:
        """Finish the file and move it into place."""
        if self._gen is not None:
            self._gen.close()
            self._gen = None
            os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        if self._gen is not None:
            try:
                self._gen.close()
            finally:
                self._gen = None
                if self._tmp.exists():
                    self._tmp.unlink()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
