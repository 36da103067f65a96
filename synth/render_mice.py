"""Render several synthetic whole mice in the open field: ray-cast bodies over the arena.

Every pixel is shaded along its exact viewing ray (:func:`synth.raycast.pixel_rays`, lens
distortion included), so the drawn mice and :meth:`Camera.project` of the keypoints of
:func:`synth.mice.simulate_mice` agree exactly. A mouse is the body capsules of
:data:`~synth.mice.MOUSE_CAPSULES` (scaled by its size; capsules end in spheres, so the body
is smooth at the joints) with the head replaced by a tapered ellipsoid, dark eyes, a pink
nose, flat ears at the ear keypoints, legs down to small pink paws at the paw keypoints and
a thin tail. Every mouse has its own coat (:data:`COATS`, cycling after six) so that a 2D
network can tell them apart. Each primitive is intersected only with the rays inside its
projected bounding box; a depth buffer keeps the nearest surface, which is then shaded once
(ambient, Lambert towards the light, a headlight). Depths are distances along the ray from
the camera centre, in mm.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from calibration import Camera

from . import raycast as rc
from .mice import ARENA_RADIUS, MOUSE_CAPSULES, MOUSE_SKELETON
from .video import VideoWriter

__all__ = ["COATS", "WALL_HEIGHT", "make_open_field_background", "render_mice_frame",
           "render_mice_video"]

_I = {b: i for i, b in enumerate(MOUSE_SKELETON.bodyparts)}
_N_KP = len(_I)

#: Height of the open field's wall, mm (a clear front, so mice are never hidden by it).
WALL_HEIGHT = 150.0

#: Coats of mouse 1, 2, ... (cycling): name, fur, ears, tail, paws and nose (RGB in [0, 1]).
COATS = [
    ("black", (0.075, 0.07, 0.07), (0.22, 0.17, 0.18), (0.34, 0.27, 0.27), (0.62, 0.45, 0.45)),
    ("agouti", (0.40, 0.31, 0.22), (0.55, 0.41, 0.38), (0.62, 0.49, 0.45), (0.86, 0.62, 0.60)),
    ("grey", (0.47, 0.48, 0.52), (0.55, 0.50, 0.52), (0.60, 0.55, 0.55), (0.84, 0.62, 0.62)),
    ("white", (0.96, 0.95, 0.91), (0.98, 0.70, 0.72), (0.97, 0.74, 0.72), (0.98, 0.70, 0.70)),
    ("golden", (0.84, 0.64, 0.30), (0.86, 0.60, 0.52), (0.86, 0.64, 0.56), (0.94, 0.68, 0.62)),
    ("chocolate", (0.24, 0.15, 0.10), (0.40, 0.28, 0.26), (0.48, 0.36, 0.33), (0.74, 0.52, 0.50)),
]
_EYE = (0.02, 0.02, 0.025)

# shape of the head, ears, eyes, legs and paws, mm at scale 1
_HEAD_CENTRE, _HEAD_HALF = 0.48, 0.56  # along neck -> snout, fractions of its length
_HEAD_WIDTH, _HEAD_HEIGHT = 7.0, 6.5
_NOSE_R, _EYE_R, _PAW_R = 1.8, 1.2, 2.5
_EAR_SEMI = (4.2, 4.2, 1.5)
_LEG_R = {"fore": (3.0, 1.2), "hind": (4.5, 1.4)}  # upper (fur) and lower (skin)
_ANKLE = 0.35  # ankle between paw and body joint


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-9)


def _capsule(A, B, r, colour):
    return ("capsule", A, B, r, colour)


def _mouse_primitives(P: np.ndarray, s: float, coat) -> list[tuple]:
    """Drawable parts ``(kind, A, B, size, colour)`` of one mouse (14 keypoints ``P``, size
    ``s``): capsules (A-B, radius ``size``) and ellipsoids (centre A, rotation B, semi-axes
    ``size``). Parts touching a NaN keypoint are left out."""
    _, fur, ear_c, tail_c, skin = coat
    ok = np.all(np.isfinite(P), axis=1)
    prims = []
    for a, b, r in MOUSE_CAPSULES:
        if a == "snout" or not (ok[_I[a]] and ok[_I[b]]):
            continue
        colour = tail_c if a.startswith("tail") else fur
        prims.append(_capsule(P[_I[a]], P[_I[b]], r * s, colour))
    for paw, joint in (("forepaw_left", "spine1"), ("forepaw_right", "spine1"),
                       ("hindpaw_left", "spine3"), ("hindpaw_right", "spine3")):
        if ok[_I[paw]] and ok[_I[joint]]:
            upper, lower = _LEG_R[paw[:4]]
            foot, body = P[_I[paw]], P[_I[joint]]
            ankle = foot + _ANKLE * (body - foot)
            prims += [_capsule(body, ankle, upper * s, fur),
                      _capsule(ankle, foot, lower * s, skin),
                      _capsule(foot, foot, _PAW_R * s, skin)]
    head = [_I[b] for b in ("snout", "neck", "left_ear", "right_ear")]
    if np.all(ok[head]):
        snout, neck, ear_l, ear_r = P[head]
        u = _unit(snout - neck)
        lat = _unit((ear_l - ear_r) - ((ear_l - ear_r) @ u) * u)
        up = np.cross(u, lat)
        length = float(np.linalg.norm(snout - neck))
        R = np.stack([u, lat, up], axis=1)
        semi = np.array([_HEAD_HALF * length, _HEAD_WIDTH * s, _HEAD_HEIGHT * s])
        prims.append(("ellipsoid", neck + _HEAD_CENTRE * length * u, R, semi, fur))
        prims.append(_capsule(snout, snout, _NOSE_R * s, skin))
        for side, ear in ((1.0, ear_l), (-1.0, ear_r)):
            eye = neck + 0.66 * length * u + s * (side * 4.6 * lat + 2.6 * up)
            prims.append(_capsule(eye, eye, _EYE_R * s, _EYE))
            thin = _unit(u + 0.35 * side * lat)
            e1 = _unit(up - (up @ thin) * thin)
            Re = np.stack([e1, np.cross(thin, e1), thin], axis=1)
            prims.append(("ellipsoid", ear, Re, s * np.asarray(_EAR_SEMI), ear_c))
    return prims


def _bounds(prims: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """Sample points (n, 4, 3) and bounding radii (n,) of the parts, for pixel boxes."""
    centres, radii = [], []
    for kind, A, B, size, _ in prims:
        if kind == "shadow":  # a floor blob around a path, well inside ``size * 2``
            centres.append(A[[0, 1, 1, 2]])
            radii.append(2.0 * size)
        elif kind == "capsule":
            centres.append(A + np.linspace(0.0, 1.0, 4)[:, None] * (B - A))
            radii.append(size)
        else:
            centres.append(np.repeat(A[None], 4, axis=0))
            radii.append(float(np.max(size)))
    return np.array(centres).reshape(-1, 4, 3), np.array(radii)


def _normals(kind: str, A, B, size, p: np.ndarray) -> np.ndarray:
    """Outward unit normals at surface points ``p`` (k, 3) of one part."""
    if kind == "ellipsoid":
        n = ((p - A) @ B / size**2) @ B.T
    else:
        ab = B - A
        along = np.clip((p - A) @ ab / max(float(ab @ ab), 1e-12), 0.0, 1.0)
        n = p - A - along[:, None] * ab
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def _trace(prims: list[tuple], boxes: np.ndarray, rays: np.ndarray, O: np.ndarray):
    """Depth buffer ``(h, w)`` of the parts (inf: none) and the index of the part seen at
    every pixel (``(h, w)`` int, meaningful where the depth is finite)."""
    depth = np.full(rays.shape[:2], np.inf)
    owner = np.zeros(rays.shape[:2], dtype=np.int32)
    for j, ((kind, A, B, size, _), box) in enumerate(zip(prims, boxes, strict=False)):
        if box[0] < box[1] and box[2] < box[3]:
            win = np.s_[box[0]:box[1], box[2]:box[3]]
            hit = rc.ellipsoid_t if kind == "ellipsoid" else rc.capsule_t
            t = hit(O, rays[win], A, B, size)
            nearer = t < depth[win]
            depth[win][nearer] = t[nearer]
            owner[win][nearer] = j
    return depth, owner


def _shadow_blobs(P: np.ndarray, scales: np.ndarray, light: np.ndarray) -> list[tuple]:
    """Soft floor shadows, one per mouse: its body line ``neck - spine2 - tail_base`` dropped
    to the floor and moved away from the light, as parts ``("shadow", path (3, 3), None,
    width mm, None)``."""
    shift = -np.asarray(light[:2]) / max(float(light[2]), 0.2) * 15.0  # at body height
    blobs = []
    for Pk, s in zip(P, scales, strict=True):
        path = Pk[[_I["neck"], _I["spine2"], _I["tail_base"]]].copy()
        if np.all(np.isfinite(path)):
            path[:, :2] += shift
            path[:, 2] = 0.0
            blobs.append(("shadow", path, None, 16.0 * s, None))
    return blobs


def _darken(img, depth, O, D, path, width, box) -> None:
    """Multiply the floor pixels of ``img`` in ``box`` that show no mouse by a soft shadow
    around the 2D polyline ``path``."""
    r0, r1, c0, c1 = box
    floor = ~np.isfinite(depth[r0:r1, c0:c1]) & (D[..., 2] < -1e-6)
    if not floor.any():
        return
    d = D[floor]
    q = (O - O[2] / d[:, 2:3] * d)[:, :2]
    dist = np.full(len(q), np.inf)
    for A, B in ((path[0, :2], path[1, :2]), (path[1, :2], path[2, :2])):
        ab = B - A
        along = np.clip((q - A) @ ab / max(float(ab @ ab), 1e-12), 0.0, 1.0)
        dist = np.minimum(dist, np.linalg.norm(q - A - along[:, None] * ab, axis=1))
    img[r0:r1, c0:c1][floor] *= (1.0 - 0.32 * np.exp(-((dist / width) ** 2)))[:, None]


def render_mice_frame(points3d_frame: np.ndarray, scales: np.ndarray, rays: np.ndarray,
                      camera: Camera, background: np.ndarray, *, light=None, gain: float = 1.0,
                      noise: np.ndarray | None = None,
                      blur_sigma: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Ray-cast the mice of one frame over the open field.

    Parameters
    ----------
    points3d_frame : (n_mice, 14, 3) mm
        Keypoints of :data:`~synth.mice.MOUSE_SKELETON` for every mouse; parts touching a NaN
        keypoint are not drawn.
    scales : (n_mice,)
        Size of every mouse (from :func:`~synth.mice.simulate_mice`).
    rays : (h, w, 3)
        ``pixel_rays(camera)``.
    camera : Camera
    background : (h, w, 3)
        From :func:`make_open_field_background` (float in [0, 1]) or uint8.
    light : (3,), optional
        World vector pointing at the main light; :data:`synth.raycast.DEFAULT_LIGHT` when
        None.
    gain : float
        Brightness of the whole frame (1: as rendered).
    noise : (h, w, 3) int, optional
        Sensor noise in grey levels, added after the blur and the gain.
    blur_sigma : float
        Gaussian lens blur (pixels) that also smooths the silhouettes; 0: none.

    Returns
    -------
    rgb : (h, w, 3) uint8
    depth : (h, w) float64 mm
        Distance along each pixel's ray to the nearest mouse surface; inf where the ray misses
        every mouse.
    """
    P = np.asarray(points3d_frame, dtype=np.float64)
    s = np.asarray(scales, dtype=np.float64).reshape(-1)
    if P.ndim != 3 or P.shape[1:] != (_N_KP, 3) or len(s) != len(P):
        raise ValueError(f"points3d_frame must have shape (n_mice, {_N_KP}, 3) and scales "
                         f"(n_mice,), got {P.shape} and {s.shape}")
    rays = rc.scene_rays(camera, rays, background)
    L = rc.light_direction(light)
    O = camera.center
    prims = [p for k in range(len(P))
             for p in _mouse_primitives(P[k], s[k], COATS[k % len(COATS)])]
    n_body = len(prims)
    prims += _shadow_blobs(P, s, L)
    boxes = rc.pixel_boxes(camera, *_bounds(prims)) if prims else np.zeros((0, 4), np.int64)
    depth, owner = _trace(prims[:n_body], boxes, rays, O)
    bg = np.asarray(background)
    img = bg.astype(np.float32) / 255.0 if bg.dtype == np.uint8 else bg.astype(np.float32)
    for (_, path, _, width, _), box in zip(prims[n_body:], boxes[n_body:], strict=True):
        if box[0] < box[1] and box[2] < box[3]:
            _darken(img, depth, O, rays[box[0]:box[1], box[2]:box[3]], path, width, box)
    rows, cols = np.nonzero(np.isfinite(depth))
    ids = owner[rows, cols]
    order = np.argsort(ids, kind="stable")
    rows, cols, ids = rows[order], cols[order], ids[order]
    starts = np.searchsorted(ids, np.arange(n_body + 1))
    for j in np.flatnonzero(np.diff(starts)):
        kind, A, B, size, colour = prims[j]
        sel = slice(starts[j], starts[j + 1])
        r, c = rows[sel], cols[sel]
        d = rays[r, c]
        n = _normals(kind, A, B, size, O + depth[r, c][:, None] * d)
        img[r, c] = rc.lambert(n, d, L)[:, None] * np.asarray(colour)
    if blur_sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), float(blur_sigma))
    img *= np.float32(255.0 * gain)
    if noise is not None:
        img += np.asarray(noise, dtype=np.float32)
    np.rint(img, out=img)
    return np.clip(img, 0, 255, out=img).astype(np.uint8), depth


def make_open_field_background(camera: Camera, rng: np.random.Generator,
                               rays: np.ndarray | None = None,
                               scene_seed: int = 0) -> np.ndarray:
    """The empty open field seen by ``camera``: a light floor inside a round wall, dim room.

    The floor (z = 0, radius :data:`~synth.mice.ARENA_RADIUS`) is light grey with a faint
    mottled texture fixed in the world (``scene_seed``), so every camera sees the same floor.
    The wall is a cylinder :data:`WALL_HEIGHT` mm high with a clear front: only its far
    inside is drawn, so it never hides a mouse. Outside lies a dark table under a dim room.

    Parameters
    ----------
    camera : Camera
        In a rig with units mm.
    rng : numpy.random.Generator
        Draws the camera's exposure, white balance and vignetting.
    rays : (h, w, 3), optional
        The camera's ``pixel_rays``, when the caller has them already.
    scene_seed : int
        Fixes the arena's textures (the same for every camera).

    Returns
    -------
    background : (h, w, 3) float32
        Linear RGB in [0, 1].
    """
    D = rc.scene_rays(camera, rays).reshape(-1, 3)
    w, h = camera.size
    O = camera.center
    grids = [np.random.default_rng([scene_seed, 31, k]).random((256, 256)) * 2 - 1
             for k in range(4)]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(D[:, 2] < -1e-6, -O[2] / D[:, 2], np.inf)
        # far (inside) surface of the wall cylinder: the larger root
        a = D[:, 0] ** 2 + D[:, 1] ** 2
        b = O[0] * D[:, 0] + O[1] * D[:, 1]
        disc = b * b - a * (O[0] ** 2 + O[1] ** 2 - ARENA_RADIUS**2)
        t_wall = (-b + np.sqrt(disc)) / a
    hit = O + np.where(np.isfinite(t_floor), t_floor, 0.0)[:, None] * D
    r = np.hypot(hit[:, 0], hit[:, 1])
    inside = np.isfinite(t_floor) & (r < ARENA_RADIUS)
    z_wall = O[2] + np.nan_to_num(t_wall) * D[:, 2]
    wall = ~inside & (disc > 0) & (t_wall > 0) & (z_wall >= 0) & (z_wall <= WALL_HEIGHT)
    table = np.isfinite(t_floor) & ~inside & ~wall
    room = ~(inside | wall | table)
    colour = np.empty((len(D), 3))
    # floor: light grey, mottled, a little darker into the corner with the wall
    x, y = hit[inside, 0], hit[inside, 1]
    tex = 1.0 + 0.05 * rc.value_noise(x / 35.0, y / 35.0, grids[0]) + 0.03 * rc.value_noise(
        x / 6.0 + 0.5, y / 6.0, grids[1]) + 0.02 * rc.value_noise(x / 1.8, y / 1.8, grids[2])
    corner = 1.0 - 0.18 * np.exp(-(ARENA_RADIUS - r[inside]) / 12.0)
    colour[inside] = np.array([0.80, 0.80, 0.78]) * (tex * corner)[:, None]
    # wall: grey, darker towards the floor, vertical streaks, a light top edge
    p = O + np.nan_to_num(t_wall[wall])[:, None] * D[wall]
    az = np.arctan2(p[:, 1], p[:, 0]) * ARENA_RADIUS
    zw = p[:, 2]
    shade = (0.62 + 0.22 * zw / WALL_HEIGHT) * (1.0 + 0.05 * rc.value_noise(
        az / 25.0, zw / 120.0, grids[3])) * np.where(zw > WALL_HEIGHT - 4.0, 1.3, 1.0)
    colour[wall] = np.array([0.56, 0.57, 0.60]) * shade[:, None]
    # table and room: dim
    tx, ty = hit[table, 0], hit[table, 1]
    colour[table] = np.array([0.20, 0.19, 0.19]) * (
        1.0 + 0.15 * rc.value_noise(tx / 40.0, ty / 40.0, grids[1]))[:, None]
    el = np.arcsin(np.clip(D[room, 2], -1, 1))
    colour[room] = (0.10 + 0.06 * np.clip(el, 0, 1))[:, None] * np.array([0.95, 0.97, 1.05])
    out = rc.exposure(colour.reshape(h, w, 3), camera, rng)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def render_mice_video(camera: Camera, points3d: np.ndarray, scales: np.ndarray,
                      path: str | Path, rng: np.random.Generator, fps: float = 100.0,
                      crf: int = 12) -> Path:
    """Render a video of the mice for one camera, one frame at a time.

    Adds slow lighting changes (brightness and light direction) and Gaussian sensor noise
    (about 2.5 grey levels) to every frame, as the forelimb videos have
    (:mod:`synth.render_behaviour`). Memory does not grow with the number of frames.

    Parameters
    ----------
    camera : Camera
        Units mm; an even image width and height (H.264, yuv420p).
    points3d : (n_frames, n_mice, 14, 3) mm
        From :func:`~synth.mice.simulate_mice`.
    scales : (n_mice,)
    path : str or Path
        The MP4, written through a temporary file (:class:`~synth.video.VideoWriter`).
    rng : numpy.random.Generator
        Background exposure, lighting drift and noise; a fixed seed repeats the video.
    fps : float
    crf : int
        x264 quality (0: lossless).

    Returns
    -------
    Path
        ``path``.
    """
    pts = np.asarray(points3d, dtype=np.float64)
    if pts.ndim != 4 or pts.shape[2:] != (_N_KP, 3):
        raise ValueError(f"points3d must have shape (n_frames, n_mice, {_N_KP}, 3), got "
                         f"{pts.shape}")
    rays = rc.pixel_rays(camera)
    background = make_open_field_background(camera, rng, rays=rays)
    w, h = camera.size
    n = len(pts)
    gain, lights = rc.lighting_drift(rng, n, fps)
    noise_bank, offsets = rc.sensor_noise(rng, n, (w, h))
    with VideoWriter(path, (w, h), fps=fps, crf=crf) as vw:
        for k in range(n):
            oy, ox = offsets[k]
            frame, _ = render_mice_frame(pts[k], scales, rays, camera, background,
                                         light=lights[k], gain=gain[k],
                                         noise=noise_bank[oy:oy + h, ox:ox + w])
            vw.write(frame)
    return Path(path)
