"""Render the synthetic forelimb into each camera: ray-cast capsules, z-buffer, visibility.

Every pixel is shaded along its exact viewing ray (:func:`synth.raycast.pixel_rays`,
lens distortion included), so the drawn limb and :meth:`Camera.project` of the ground-truth
keypoints agree exactly. The limb is a union of capsules (one per limb of
:data:`~synth.forelimb.FORELIMB_SKELETON`, radii :data:`SEGMENT_RADII`), spheres at
the joints (:data:`JOINT_RADII`) and a flat ellipsoid for the palm; each primitive is
intersected only with the rays inside its projected bounding box, and a depth buffer keeps
the nearest surface, so parts occlude each other correctly. Depths are distances along the
ray from the camera centre, in mm.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from calibration import Camera

from .forelimb import FORELIMB_SKELETON, JOINT_RADII, PALM_SEMI_AXES, SEGMENT_RADII
from .raycast import (
    DEFAULT_LIGHT,
    capsule_t,
    ellipsoid_t,
    exposure,
    lambert,
    light_direction,
    lighting_drift,
    pixel_boxes,
    pixel_rays,
    scene_rays,
    sensor_noise,
    value_noise,
)
from .rig import ARENA_CENTER
from .video import VideoWriter

__all__ = [
    "make_background",
    "render_behaviour_frame",
    "keypoint_visibility",
    "render_behaviour_video",
    "DEFAULT_LIGHT",
]

log = logging.getLogger(__name__)

_BP = FORELIMB_SKELETON.bodyparts
_N_JOINTS = len(_BP)
_IDX = {b: i for i, b in enumerate(_BP)}
_JOINT_R = np.array([JOINT_RADII[b] for b in _BP])

# base colours (RGB in [0, 1]): brown agouti fur on the arm, pink skin on the paw; the four
# digits share one tone, so only their order tells them apart (as on a real paw)
_FUR_UPPER, _FUR_FORE = (0.50, 0.40, 0.33), (0.60, 0.49, 0.40)
_SEGMENT_COLOUR = {"shoulder-elbow": _FUR_UPPER, "elbow-wrist": _FUR_FORE,
                   "wrist-palm": (0.84, 0.62, 0.57), "palm-knuckle": (0.88, 0.64, 0.59),
                   "knuckle-middle": (0.92, 0.70, 0.64), "middle-tip": (0.95, 0.76, 0.70)}
_JOINT_COLOUR = {"shoulder": (0.46, 0.37, 0.31), "elbow": (0.55, 0.45, 0.37),
                 "wrist": (0.74, 0.57, 0.50), "knuckle": (0.82, 0.58, 0.54),
                 "middle": (0.90, 0.66, 0.61), "tip": (0.97, 0.88, 0.82)}
_PALM_COLOUR = (0.90, 0.66, 0.60)
_FURRY = {"shoulder-elbow", "elbow-wrist"}


def _kind(bodypart: str) -> str:
    return bodypart.split("_")[-1]


def _primitive_table():
    """Capsules (i, j, radius, colour, furry) and spheres (i, radius, colour) of the limb."""
    caps = []
    for a, b in FORELIMB_SKELETON.limbs:
        key = f"{_kind(a)}-{_kind(b)}"
        caps.append((_IDX[a], _IDX[b], SEGMENT_RADII[(a, b)], _SEGMENT_COLOUR[key],
                     key in _FURRY))
    spheres = [(_IDX[b], JOINT_RADII[b], _JOINT_COLOUR[_kind(b)]) for b in _BP if b != "palm"]
    return caps, spheres


_CAPSULES, _SPHERES = _primitive_table()
_PALM_OWNERS = tuple(_IDX[b] for b in ("palm", "wrist", "d2_knuckle", "d3_knuckle",
                                       "d4_knuckle", "d5_knuckle"))


# --- background ------------------------------------------------------------------------------
def _line_coverage(coord: np.ndarray, period: float, width: float, footprint: np.ndarray):
    """Anti-aliased coverage of lines ``width`` mm wide every ``period`` mm."""
    dist = np.abs((coord + period / 2) % period - period / 2)
    cov = np.clip(0.5 + (width / 2 - dist) / footprint, 0.0, 1.0)
    return cov * np.clip(2 * width / footprint, 0.0, 1.0)


def make_background(camera: Camera, rng: np.random.Generator, rays: np.ndarray | None = None,
                    scene_seed: int = 0) -> np.ndarray:
    """The empty scene seen by ``camera``: a textured floor mat under a dim room.

    The floor (z = 0) carries a mottled texture, a 20 mm grid and an arena ring fixed in the
    world (``scene_seed``), so every camera sees the same floor; ``rng`` varies only the
    camera's exposure, white balance and vignetting.

    Parameters
    ----------
    camera : Camera
        World units mm.
    rng : numpy.random.Generator
    rays : (h, w, 3), optional
        ``pixel_rays(camera)``, if already computed.
    scene_seed : int
        Seed of the floor and wall textures.

    Returns
    -------
    background : (h, w, 3) uint8 RGB
    """
    rays = scene_rays(camera, rays)
    w, h = camera.size
    O = camera.center
    D = rays.reshape(-1, 3)
    colour = np.empty((D.shape[0], 3))
    grids = [np.random.default_rng([scene_seed, k]).random((256, 256)) * 2 - 1 for k in range(6)]

    radius = 700.0  # floor disc and surrounding dome around the arena, mm
    with np.errstate(divide="ignore", invalid="ignore"):
        t_floor = np.where(D[:, 2] < -1e-6, -O[2] / D[:, 2], np.inf)
    hit = O + np.where(np.isfinite(t_floor), t_floor, 0.0)[:, None] * D
    floor = np.isfinite(t_floor) & (np.hypot(hit[:, 0] - ARENA_CENTER[0],
                                             hit[:, 1] - ARENA_CENTER[1]) < radius)
    # floor: pixel footprint (mm) sets how much fine texture survives without aliasing
    x, y = hit[floor, 0], hit[floor, 1]
    fp = t_floor[floor] / camera.focal[0] / np.maximum(-D[floor, 2], 0.15)
    tex = np.ones_like(x)
    for k, (cell, amp) in enumerate([(40.0, 0.16), (9.0, 0.12), (2.5, 0.10), (0.8, 0.08)]):
        fade = np.clip(cell / (2 * fp) - 0.5, 0.0, 1.0)
        tex += amp * fade * value_noise(x / cell + 0.37 * k, y / cell, grids[k])
    tex *= 1 - 0.35 * np.maximum(_line_coverage(x, 20.0, 0.7, fp),
                                 _line_coverage(y, 20.0, 0.7, fp))
    r = np.hypot(x - ARENA_CENTER[0], y - ARENA_CENTER[1])
    ring = np.clip(0.5 + (1.5 - np.abs(r - 90.0)) / fp, 0.0, 1.0)
    falloff = 0.72 + 0.28 * np.exp(-((r / 260.0) ** 2))
    base = np.array([0.36, 0.42, 0.50])
    floor_rgb = base * (tex * falloff)[:, None]
    colour[floor] = floor_rgb * (1 - ring[:, None]) + np.array([0.78, 0.78, 0.74]) * ring[:, None]
    # walls: a dim dome with panels and blotches
    d = D[~floor]
    az = np.arctan2(d[:, 1], d[:, 0])
    el = np.arcsin(np.clip(d[:, 2], -1, 1))
    blot = value_noise(az * 12.0, el * 12.0, grids[4]) + 0.5 * value_noise(
        az * 40.0, el * 40.0, grids[5])
    seam = np.abs(((az / np.radians(20.0)) + 0.5) % 1.0 - 0.5) < 0.015
    wall = (0.25 + 0.06 * blot - 0.08 * seam) * (1.0 - 0.3 * np.clip(el, 0, 1))
    colour[~floor] = wall[:, None] * np.array([0.95, 0.95, 1.05])
    # camera: exposure, white balance, vignetting
    colour = colour.reshape(h, w, 3)
    out = exposure(colour, camera, rng) * 255.0
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


# --- ray casting -----------------------------------------------------------------------------
def _palm_frame(P: np.ndarray):
    """Rotation (columns distal, palmar, across) and centre of the palm ellipsoid."""
    x = P[_IDX["palm"]] - P[_IDX["wrist"]]
    z = P[_IDX["d2_knuckle"]] - P[_IDX["d5_knuckle"]]
    x = x / np.linalg.norm(x)
    z = z - (z @ x) * x
    z = z / np.linalg.norm(z)
    return np.stack([x, np.cross(z, x), z], axis=1), P[_IDX["palm"]]


def _primitives(P: np.ndarray):
    """The drawable parts of one pose.

    Returns
    -------
    prims : list of (kind, A, B, radius, colour, furry, owners)
        ``kind`` is "capsule" (A-B), "sphere" (A = B) or "palm" (ellipsoid, A centre, B its
        rotation); ``owners`` are the joints the part belongs to. Parts touching NaN are left
        out.
    centres : (n, 4, 3)
        Sample points of each part, for bounding boxes.
    radii : (n,)
        Bounding radius around the samples.
    """
    prims, centres, radii = [], [], []
    ok = np.all(np.isfinite(P), axis=1)
    for i, j, r, col, furry in _CAPSULES:
        if ok[i] and ok[j]:
            prims.append(("capsule", P[i], P[j], r, col, furry, (i, j)))
            centres.append(P[i] + np.linspace(0, 1, 4)[:, None] * (P[j] - P[i]))
            radii.append(r)
    for i, r, col in _SPHERES:
        if ok[i]:
            prims.append(("sphere", P[i], P[i], r, col, False, (i,)))
            centres.append(np.repeat(P[i][None], 4, axis=0))
            radii.append(r)
    if np.all(ok[list(_PALM_OWNERS)]):
        Rp, Cp = _palm_frame(P)
        prims.append(("palm", Cp, Rp, 0.0, _PALM_COLOUR, False, _PALM_OWNERS))
        centres.append(np.repeat(Cp[None], 4, axis=0))
        radii.append(max(PALM_SEMI_AXES))
    return prims, np.array(centres).reshape(-1, 4, 3), np.array(radii)


def _check_frame(points3d_frame) -> np.ndarray:
    P = np.asarray(points3d_frame, dtype=np.float64)
    if P.shape != (_N_JOINTS, 3):
        raise ValueError(f"points3d_frame must have shape ({_N_JOINTS}, 3) (bodyparts of "
                         f"FORELIMB_SKELETON), got {P.shape}")
    return P


def render_behaviour_frame(
    points3d_frame: np.ndarray,
    rays: np.ndarray,
    camera: Camera,
    background: np.ndarray,
    *,
    light: np.ndarray | None = None,
    gain: float = 1.0,
    noise: np.ndarray | None = None,
    blur_sigma: float = 0.6,
) -> tuple[np.ndarray, np.ndarray]:
    """Ray-cast the forelimb in one pose over a background.

    Parameters
    ----------
    points3d_frame : (16, 3) mm
        World bodypart positions in ``FORELIMB_SKELETON`` order; primitives touching a NaN
        point are not drawn.
    rays : (h, w, 3)
        ``pixel_rays(camera)``.
    camera : Camera
    background : (h, w, 3) uint8
        From :func:`make_background`.
    light : (3,), optional
        Direction towards the main light, world frame (default :data:`DEFAULT_LIGHT`).
    gain : float
        Global brightness factor (lighting changes over time).
    noise : (h, w, 3) int, optional
        Additive sensor noise in grey levels, applied last (none by default).
    blur_sigma : float
        Optical blur in pixels, which also anti-aliases the edges; 0 turns it off.

    Returns
    -------
    rgb : (h, w, 3) uint8
    depth : (h, w) float64 mm
        Distance along each pixel's ray to the nearest limb surface; inf where the ray misses
        the limb (background).
    """
    P = _check_frame(points3d_frame)
    rays = scene_rays(camera, rays, background)
    w, h = camera.size
    L = light_direction(light)
    O = camera.center
    img = background.copy()
    depth = np.full((h, w), np.inf)
    prims, centres, radii = _primitives(P)
    boxes = pixel_boxes(camera, centres, radii)
    semi = np.asarray(PALM_SEMI_AXES, dtype=np.float64)

    for (kind, A, B, r, col, furry, _), (r0, r1, c0, c1) in zip(prims, boxes, strict=True):
        if r0 >= r1 or c0 >= c1:
            continue
        D = rays[r0:r1, c0:c1]
        t = ellipsoid_t(O, D, A, B, semi) if kind == "palm" else capsule_t(O, D, A, B, r)
        zbuf = depth[r0:r1, c0:c1]
        closer = t < zbuf
        if not closer.any():
            continue
        zbuf[closer] = t[closer]
        d = D[closer]
        p = O + t[closer][:, None] * d
        if kind == "palm":
            n = ((p - A) @ B / semi**2) @ B.T
        else:
            ba = B - A
            s = np.clip((p - A) @ ba / max(ba @ ba, 1e-12), 0.0, 1.0)
            n = p - (A + s[:, None] * ba)
        n /= np.linalg.norm(n, axis=1, keepdims=True)
        shade = lambert(n, d, L)
        if furry:  # fine streaks along the limb, fixed to its surface
            ax = (B - A) / np.linalg.norm(B - A)
            ref = np.cross(ax, [0.0, 0.0, 1.0] if abs(ax[2]) < 0.9 else [1.0, 0.0, 0.0])
            ref /= np.linalg.norm(ref)
            az = np.arctan2(n @ np.cross(ax, ref), n @ ref)
            along = (p - A) @ ax
            shade = shade * (1 + 0.09 * np.sin(23 * az + 0.9 * along)
                             + 0.06 * np.sin(9 * az - 2.3 * along))
        rgb = np.clip(shade[:, None] * np.asarray(col) * 255.0, 0, 255)
        img[r0:r1, c0:c1][closer] = rgb.astype(np.uint8)

    if blur_sigma > 0:
        img = cv2.GaussianBlur(img, (0, 0), float(blur_sigma))
    if gain != 1.0:
        img = cv2.LUT(img, np.clip(np.arange(256) * float(gain), 0, 255).astype(np.uint8))
    if noise is not None:
        out = img.astype(np.int16)
        out += np.asarray(noise).astype(np.int16, copy=False)
        img = np.clip(out, 0, 255).astype(np.uint8)
    return img, depth


def keypoint_visibility(points3d_frame: np.ndarray, camera: Camera, depth: np.ndarray,
                        tolerance: float | None = None) -> np.ndarray:
    """Which keypoints are in the image and not hidden behind another part.

    A keypoint at distance ``d`` from the camera, with joint radius ``r`` (:data:`JOINT_RADII`)
    is visible when the depth buffer at its projected pixel is at least ``d - r - tolerance``:
    its own joint surface always passes, a part well in front of it does not. Where the depth
    buffer fails that test, the keypoint's ray is cast again against the parts not attached to
    it, so a joint seen past its own segment at a glancing angle (a digit tip pointing away
    from the camera) stays visible while one behind another digit does not.

    Parameters
    ----------
    points3d_frame : (16, 3) mm
    camera : Camera
    depth : (h, w) mm
        From :func:`render_behaviour_frame` for the same pose and camera.
    tolerance : float, optional
        Extra slack in mm; default each joint's radius.

    Returns
    -------
    visible : (16,) bool
        False outside the image, behind the camera and for NaN points.
    """
    P = _check_frame(points3d_frame)
    w, h = camera.size
    if depth.shape != (h, w):
        raise ValueError(f"depth must have shape ({h}, {w}) for camera {camera.name!r}, "
                         f"got {depth.shape}")
    uv = camera.project(P)
    with np.errstate(invalid="ignore"):
        inside = camera.in_image(uv) & (camera.world_to_camera(P)[:, 2] > 0)
    col = np.clip(np.rint(np.nan_to_num(uv[:, 0])), 0, w - 1).astype(np.int64)
    row = np.clip(np.rint(np.nan_to_num(uv[:, 1])), 0, h - 1).astype(np.int64)
    O = camera.center
    dist = np.linalg.norm(P - O, axis=1)
    limit = dist - _JOINT_R - (_JOINT_R if tolerance is None else float(tolerance))
    with np.errstate(invalid="ignore"):
        visible = inside & (depth[row, col] >= limit)
    check = np.flatnonzero(inside & ~visible)
    if check.size:  # is the occluder only the keypoint's own segment?
        D = (P[check] - O) / dist[check, None]
        nearest = np.full(check.size, np.inf)
        semi = np.asarray(PALM_SEMI_AXES, dtype=np.float64)
        for kind, A, B, r, _, _, owners in _primitives(P)[0]:
            other = ~np.isin(check, owners)
            if not other.any():
                continue
            t = ellipsoid_t(O, D, A, B, semi) if kind == "palm" else capsule_t(O, D, A, B, r)
            nearest = np.where(other, np.minimum(nearest, t), nearest)
        visible[check] = nearest >= limit[check]
    return visible


def render_behaviour_video(camera: Camera, points3d: np.ndarray, path: str | Path,
                           rng: np.random.Generator, fps: float = 100.0,
                           crf: int = 12) -> np.ndarray:
    """Render a behaviour video of the forelimb for one camera and report keypoint visibility.

    Adds slow lighting changes (brightness and light direction) and Gaussian sensor noise
    (about 2.5 grey levels) to every frame.

    Parameters
    ----------
    camera : Camera
        World units mm; width and height even.
    points3d : (n_frames, 16, 3) mm
        From :func:`~synth.forelimb.simulate_reach`.
    path : str or Path
        MP4 written atomically with :class:`~synth.video.VideoWriter`.
    rng : numpy.random.Generator
        The same seed gives the same frames.
    fps : float

    Returns
    -------
    visible : (n_frames, 16) bool
        Keypoint in the image and not occluded (see :func:`keypoint_visibility`).
    """
    pts = np.asarray(points3d, dtype=np.float64)
    if pts.ndim != 3 or pts.shape[1:] != (_N_JOINTS, 3):
        raise ValueError(f"points3d must have shape (n_frames, {_N_JOINTS}, 3), got {pts.shape}")
    w, h = camera.size
    rays = pixel_rays(camera)
    background = make_background(camera, rng, rays=rays)
    n = len(pts)
    gain, lights = lighting_drift(rng, n, fps)
    noise_bank, offsets = sensor_noise(rng, n, (w, h))
    visible = np.zeros((n, _N_JOINTS), dtype=bool)
    with VideoWriter(path, (w, h), fps=fps, crf=crf) as vw:
        for k in range(n):
            oy, ox = offsets[k]
            frame, depth = render_behaviour_frame(
                pts[k], rays, camera, background, light=lights[k], gain=gain[k],
                noise=noise_bank[oy:oy + h, ox:ox + w],
            )
            visible[k] = keypoint_visibility(pts[k], camera, depth)
            vw.write(frame)
    log.debug("rendered %d behaviour frames of camera %s to %s", n, camera.name, path)
    return visible
