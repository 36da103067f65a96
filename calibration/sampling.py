"""Motion-aware frame sampling: skip frames that show the same view as the last examined one.

A board held still (or a static scene without the board) gives runs of near-identical frames
that add nothing to a calibration but cost a detection each. :class:`MotionSampler` compares
a small thumbnail of every decoded frame with the thumbnail of the last frame it kept and
keeps the frame only when the picture changed. The scene is static for all cameras at once,
so cameras skip the same stretches and keep sharing their board views.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["MotionSampler", "SAMPLING"]

#: ``sample`` options of :func:`calibration.detect_sources.detect_source` and ``tripose calibrate``.
SAMPLING = ("all", "motion")


class MotionSampler:
    """Keep a frame when it differs from the last kept frame.

    Parameters
    ----------
    threshold : float
        Grey levels (0-255): a frame is kept when the mean absolute difference between its
        thumbnail and the last kept frame's exceeds this, or when any thumbnail cell changed
        by more than ``8 * threshold`` (a small board moving in a corner of the picture).
        Sensor noise averages out in the thumbnail.
    size : (width, height)
        Thumbnail size in pixels (area-averaged).
    max_gap : int
        Keep at least one frame in every ``max_gap`` examined frames (0: no limit).

    Examples
    --------
    >>> sampler = MotionSampler(threshold=1.0)
    >>> kept = [fid for fid, gray in frames if sampler.keep(gray)]  # doctest: +SKIP
    """

    def __init__(self, threshold: float = 1.0, size: tuple[int, int] = (80, 60),
                 max_gap: int = 0) -> None:
        if threshold < 0:
            raise ValueError(f"motion threshold must be >= 0 grey levels, got {threshold}")
        self.threshold = float(threshold)
        self.size = tuple(size)
        self.max_gap = int(max_gap)
        self._last: np.ndarray | None = None
        self._gap = 0
        self.n_seen = 0
        self.n_kept = 0

    def thumbnail(self, gray: np.ndarray) -> np.ndarray:
        """(height, width) float32 area-averaged thumbnail of a (h, w) uint8 frame."""
        return cv2.resize(gray, self.size, interpolation=cv2.INTER_AREA).astype(np.float32)

    def keep(self, gray: np.ndarray) -> bool:
        """Whether to examine this frame; a kept frame becomes the reference.

        Parameters
        ----------
        gray : (h, w) uint8

        Returns
        -------
        bool
        """
        self.n_seen += 1
        thumb = self.thumbnail(gray)
        self._gap += 1
        if self._last is not None and not (self.max_gap and self._gap >= self.max_gap):
            d = np.abs(thumb - self._last)
            if d.mean() <= self.threshold and d.max() <= 8 * self.threshold:
                return False
        self._last, self._gap = thumb, 0
        self.n_kept += 1
        return True
