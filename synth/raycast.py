"""Ray casting for the synthetic renderers: exact per-pixel viewing rays, ray-primitive
intersections, pixel boxes of primitives, shading, lighting drift and sensor noise."""

from __future__ import annotations

import numpy as np

from calibration import Camera

__all__ = ["DEFAULT_LIGHT", "pixel_rays", "scene_rays", "light_direction", "capsule_t",
           "ellipsoid_t", "pixel_boxes", "value_noise", "lambert", "exposure", "lighting_drift",
           "sensor_noise"]

#: Direction towards the main light (world, unit): above, a little in front and to the left.
DEFAULT_LIGHT = np.array([0.3, 0.4, 1.0]) / np.linalg.norm([0.3, 0.4, 1.0])

_AMBIENT, _DIFFUSE, _HEADLIGHT = 0.28, 0.62, 0.28
_NOISE_PAD = 32


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


def scene_rays(camera: Camera, rays: np.ndarray | None = None,
               background: np.ndarray | None = None) -> np.ndarray:
    """``rays`` (``pixel_rays(camera)`` when None), checked to be ``(h, w, 3)`` for the
    camera, as ``background`` when given; ValueError otherwise."""
    if rays is None:
        rays = pixel_rays(camera)
    w, h = camera.size
    if background is None:
        if rays.shape != (h, w, 3):
            raise ValueError(f"rays must have shape ({h}, {w}, 3) for camera {camera.name!r}, "
                             f"got {rays.shape}")
    elif rays.shape != (h, w, 3) or background.shape != (h, w, 3):
        raise ValueError(f"rays and background must have shape ({h}, {w}, 3) for camera "
                         f"{camera.name!r}, got {rays.shape} and {background.shape}")
    return rays


def light_direction(light: np.ndarray | None = None) -> np.ndarray:
    """Unit vector towards the light: ``light`` normalized, or :data:`DEFAULT_LIGHT`."""
    return DEFAULT_LIGHT if light is None else np.asarray(light, float) / np.linalg.norm(light)


def capsule_t(O, D, A, B, r):
    """Distance along unit rays D (..., 3) from O to a capsule A-B of radius r (inf: miss);
    ``A = B`` gives a sphere."""
    ba, oa = B - A, O - A
    baba, baoa, oaoa = ba @ ba, ba @ oa, oa @ oa
    bard = D @ ba
    rdoa = D @ oa
    with np.errstate(invalid="ignore", divide="ignore"):
        # lateral surface of the cylinder, within the segment
        a = baba - bard * bard
        b = baba * rdoa - baoa * bard
        c = baba * oaoa - baoa * baoa - r * r * baba
        h = b * b - a * c
        t_body = (-b - np.sqrt(h)) / a
        y = baoa + t_body * bard
        t = np.where((h >= 0) & (a > 1e-12) & (y > 0) & (y < baba), t_body, np.inf)
        # the two caps
        for rd, cc in ((rdoa, oaoa - r * r), (rdoa - bard, (oa - ba) @ (oa - ba) - r * r)):
            hs = rd * rd - cc
            t = np.minimum(t, np.where(hs >= 0, -rd - np.sqrt(hs), np.inf))
    return np.where(t > 0, t, np.inf)


def ellipsoid_t(O, D, C, R, semi):
    """Distance along rays to the ellipsoid ``|R.T (p - C) / semi| = 1`` (inf: miss)."""
    o = (R.T @ (O - C)) / semi
    d = (D @ R) / semi
    a = np.einsum("...i,...i->...", d, d)
    b = d @ o
    c = o @ o - 1.0
    h = b * b - a * c
    with np.errstate(invalid="ignore"):
        t = (-b - np.sqrt(h)) / a
    return np.where((h >= 0) & (t > 0), t, np.inf)


def pixel_boxes(camera: Camera, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Pixel boxes (n, 4) ``r0, r1, c0, c1`` of primitives sampled at ``centres`` (n, k, 3)
    with bounding radii (n,); rows of -1 for primitives behind the camera."""
    if len(centres) == 0:
        return np.zeros((0, 4), dtype=np.int64)
    R = camera.R
    offsets = np.concatenate([np.zeros((1, 3)), R[:2], -R[:2]])  # (5, 3) camera x, y in world
    pts = centres[:, :, None, :] + radii[:, None, None, None] * offsets  # (n, k, 5, 3)
    z = camera.world_to_camera(pts)[..., 2]
    uv = camera.project(pts).reshape(len(centres), centres.shape[1] * 5, 2)
    w, h = camera.size
    c0 = np.clip(np.floor(uv[..., 0].min(1)) - 2, 0, w)
    c1 = np.clip(np.ceil(uv[..., 0].max(1)) + 3, 0, w)
    r0 = np.clip(np.floor(uv[..., 1].min(1)) - 2, 0, h)
    r1 = np.clip(np.ceil(uv[..., 1].max(1)) + 3, 0, h)
    boxes = np.stack([r0, r1, c0, c1], axis=1)
    bad = ~np.all(np.isfinite(boxes), axis=1) | np.any(z.reshape(len(centres), -1) < 1.0, 1)
    boxes[bad] = -1
    return boxes.astype(np.int64)


def value_noise(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Smooth value noise in [-1, 1] at (x, y) in grid cells (the grid tiles)."""
    g = grid.shape[0]
    ix, iy = np.floor(x), np.floor(y)
    fx, fy = x - ix, y - iy
    fx, fy = fx * fx * (3 - 2 * fx), fy * fy * (3 - 2 * fy)
    ix, iy = ix.astype(np.int64) % g, iy.astype(np.int64) % g
    jx, jy = (ix + 1) % g, (iy + 1) % g
    top = grid[iy, ix] * (1 - fx) + grid[iy, jx] * fx
    bottom = grid[jy, ix] * (1 - fx) + grid[jy, jx] * fx
    return top * (1 - fy) + bottom * fy


def lambert(n: np.ndarray, d: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Brightness of surfaces with unit normals ``n`` (k, 3) seen along unit rays ``d``
    (k, 3): ambient, Lambert towards ``light`` and a headlight at the camera."""
    return (_AMBIENT + _DIFFUSE * np.maximum(n @ light, 0.0)
            + _HEADLIGHT * np.maximum(-np.einsum("ij,ij->i", n, d), 0.0))


def exposure(colour: np.ndarray, camera: Camera, rng: np.random.Generator) -> np.ndarray:
    """``colour`` (h, w, 3) through the camera: vignetting and exposure / white balance
    drawn from ``rng``."""
    w, h = camera.size
    cx, cy = camera.principal_point
    u, v = np.meshgrid(np.arange(w), np.arange(h))
    rr = ((u - cx) ** 2 + (v - cy) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
    vignette = 1.0 - rng.uniform(0.15, 0.3) * rr
    gains = rng.uniform(0.92, 1.1) * rng.normal(1.0, 0.03, 3)
    return colour * vignette[..., None] * gains


def lighting_drift(rng: np.random.Generator, n: int, fps: float,
                   light: np.ndarray = DEFAULT_LIGHT) -> tuple[np.ndarray, np.ndarray]:
    """Slow lighting changes over ``n`` frames: brightness ``gain (n,)`` drifting by a few
    percent and ``lights (n, 3)``, the light direction swinging about 20 deg in azimuth."""
    t = np.arange(n) / float(fps)
    f1, f2 = rng.uniform(0.2, 0.7, 2)
    ph = rng.uniform(0, 2 * np.pi, 3)
    gain = 1.0 + 0.05 * np.sin(2 * np.pi * f1 * t + ph[0]) + 0.02 * np.sin(
        2 * np.pi * 3.1 * f2 * t + ph[1])
    swing = np.radians(20.0) * np.sin(2 * np.pi * f2 * t + ph[2])
    base_az = np.arctan2(light[1], light[0])
    horiz = np.hypot(light[0], light[1])
    lights = np.stack([horiz * np.cos(base_az + swing), horiz * np.sin(base_az + swing),
                       np.full(n, light[2])], axis=1)
    return gain, lights


def sensor_noise(rng: np.random.Generator, n: int, size: tuple[int, int], sigma: float = 2.5):
    """Gaussian sensor noise for ``n`` frames of ``size`` (w, h) without drawing it every
    frame: a padded bank ``(h + 32, w + 32, 3)`` int16 grey levels and per-frame offsets
    ``(n, 2)`` (row, col) into it."""
    w, h = size
    bank = np.rint(rng.normal(0.0, sigma, (h + _NOISE_PAD, w + _NOISE_PAD, 3)))
    return bank.astype(np.int16), rng.integers(0, _NOISE_PAD, (n, 2))
