"""Per-pixel viewing rays of a distorted camera, for rendering synthetic frames exactly."""

from __future__ import annotations

import numpy as np

from calibration import Camera

__all__ = ["pixel_rays"]


def pixel_rays(camera: Camera, world: bool = True) -> np.ndarray:
    """Unit viewing ray through the centre of every pixel, lens distortion included.

    Rendering along these rays and projecting with :meth:`Camera.project` agree exactly, so
    rendered images and ground-truth projections share one camera model.

    Parameters
    ----------
    camera : Camera
    world : bool
        Directions in world coordinates (default) or in the camera frame.

    Returns
    -------
    rays : (h, w, 3)
        Unit vectors; the ray of pixel ``(row, col)`` starts at ``camera.center``.
    """
    w, h = camera.size
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    xy = camera.undistort(np.stack([u, v], axis=-1))  # (h, w, 2) normalized
    d = np.concatenate([xy, np.ones_like(xy[..., :1])], axis=-1)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    return d @ camera.R if world else d
