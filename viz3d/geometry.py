"""Scene geometry in numpy: data bounds, up axis, floor, framing, glyph vertices, frustums.

No VTK here: :mod:`viz3d.scene` turns these arrays into meshes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from calibration.camera import Camera
from calibration.rig import CameraRig

__all__ = [
    "Bounds",
    "data_bounds",
    "world_up",
    "horizontal_axes",
    "view_direction",
    "floor_plane",
    "orbit_camera",
    "rig_camera_view",
    "place_spheres",
    "place_tubes",
    "unit_tube",
    "frustum_corners",
    "nice_step",
]


@dataclass
class Bounds:
    """Robust extent of the data: ``center``, ``low``, ``high`` (3,), ``radius``, and
    ``sample`` (k, 3), up to 4000 of the finite points (for framing)."""

    center: np.ndarray
    low: np.ndarray
    high: np.ndarray
    radius: float
    sample: np.ndarray
    robust: bool = True


def data_bounds(points: np.ndarray, fallback: np.ndarray | None = None,
                robust: bool = True) -> Bounds:
    """Bounds of the finite points, ignoring the outer 0.5 % per axis (outlier frames).

    ``robust=False`` keeps every point (e.g. camera centres must all be in the picture).

    Parameters
    ----------
    points : (..., 3) rig units
        NaN ignored.
    fallback : (k, 3), optional
        Used when no point is finite (e.g. camera centres); else a unit box at the origin.
    """
    p = np.asarray(points, float).reshape(-1, 3)
    p = p[np.isfinite(p).all(1)]
    if len(p) == 0 and fallback is not None:
        p = np.asarray(fallback, float).reshape(-1, 3)
    if len(p) == 0:
        p = np.array([[-0.5, -0.5, -0.5], [0.5, 0.5, 0.5]])
    if robust and len(p) > 200:
        low, high = np.percentile(p, 0.5, axis=0), np.percentile(p, 99.5, axis=0)
    else:
        low, high = p.min(0), p.max(0)
    center = (low + high) / 2
    radius = float(np.linalg.norm(high - low) / 2)
    if radius <= 0:
        radius = max(1.0, float(np.abs(center).max()) * 0.05)
    step = max(1, len(p) // 4000)
    return Bounds(center, low, high, radius, p[::step], robust)


def world_up(rig: CameraRig | None) -> np.ndarray:
    """The world's up axis: +z, or with a rig the world axis closest to the cameras' mean up.

    Cameras' up is ``-R[1]`` (image y points down). Snapping to an axis keeps the floor
    axis-aligned; anipose-style frames (camera 0 at the origin, y down) get ``-y``.

    Returns
    -------
    up : (3,) unit vector
    """
    up = np.array([0.0, 0.0, 1.0])
    if rig is None:
        return up
    mean = -np.mean([c.R[1] for c in rig], axis=0)
    if np.linalg.norm(mean) < 1e-6:
        return up
    k = int(np.argmax(np.abs(mean)))
    up = np.zeros(3)
    up[k] = np.sign(mean[k])
    return up


def horizontal_axes(up: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors spanning the plane perpendicular to ``up`` (``e1``, ``e2 = up x e1``).

    Returns
    -------
    e1, e2 : (3,) unit vectors
    """
    e1 = np.cross(up, [0.0, 1.0, 0.0] if abs(up[1]) < 0.9 else [1.0, 0.0, 0.0])
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(up, e1)


def view_direction(up: np.ndarray, azimuth: float, elevation: float) -> np.ndarray:
    """Unit vector from the scene towards a viewer at ``azimuth`` around ``up`` and
    ``elevation`` above the plane perpendicular to it (degrees)."""
    e1, e2 = horizontal_axes(up)
    az, el = np.radians(azimuth), np.radians(elevation)
    return np.cos(el) * (np.cos(az) * e1 + np.sin(az) * e2) + np.sin(el) * up


def floor_plane(bounds: Bounds, up: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    """Height of the floor along ``up`` and the half-size of the drawn square.

    The floor is the world's ``up . x = 0`` plane when it lies under the data within one data
    diameter (a calibrated arena floor), else just under the lowest finite point.

    Returns
    -------
    level : float
        Floor height along ``up`` in rig units.
    half : float
        Half side of the floor square.
    """
    p = np.asarray(points, float).reshape(-1, 3)
    h = p[np.isfinite(p).all(1)] @ up
    lowest = float(np.percentile(h, 0.5)) if h.size else float(bounds.center @ up)
    diameter = 2 * bounds.radius
    level = 0.0 if 0.0 <= lowest <= diameter else lowest - 0.05 * diameter
    return level, 1.3 * bounds.radius


def nice_step(length: float, n: int = 10) -> float:
    """A 1-2-5 grid step giving about ``n`` cells over ``length``."""
    raw = max(length / n, 1e-12)
    mag = 10 ** np.floor(np.log10(raw))
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return float(m * mag)
    return float(10 * mag)


def orbit_camera(bounds: Bounds, up: np.ndarray, view_angle: float = 30.0,
                 azimuth: float = -55.0, elevation: float = 25.0,
                 aspect: float = 4 / 3, margin: float = 1.08) -> dict:
    """Camera looking at the data centre from an oblique direction, fitting the bounds.

    Parameters
    ----------
    bounds : Bounds
    up : (3,) unit vector
    view_angle : float
        Vertical field of view, degrees.
    azimuth, elevation : float
        Degrees around ``up`` and above the floor plane.
    aspect : float
        Width / height of the picture (a narrow picture needs more distance).
    margin : float
        Room left around the data (1 = touching the edges).

    Returns
    -------
    dict with ``position``, ``focal_point``, ``up`` (3,) and ``view_angle`` (degrees)
    """
    direction = view_direction(up, azimuth, elevation)
    # fit the data points: centre their extent in the picture, then back off until the
    # points nearest the edges fit (perspective, with a margin; 0.5 % outliers ignored)
    right = np.cross(-direction, up)
    right /= np.linalg.norm(right)
    vup = np.cross(right, -direction)
    pts = bounds.sample
    rel = pts - bounds.center
    cx, cy = rel @ right, rel @ vup
    q = [0.5, 99.5] if bounds.robust and len(pts) > 200 else [0.0, 100.0]
    lo_x, hi_x = np.percentile(cx, q)
    lo_y, hi_y = np.percentile(cy, q)
    focal = bounds.center + (lo_x + hi_x) / 2 * right + (lo_y + hi_y) / 2 * vup
    keep = (cx >= lo_x) & (cx <= hi_x) & (cy >= lo_y) & (cy <= hi_y)
    rel = pts[keep] - focal
    tan_v = np.tan(np.radians(view_angle) / 2) / margin
    tan_h = tan_v * aspect
    depth = rel @ -direction  # towards the camera
    dist = max(np.max(np.abs(rel @ right) / tan_h + depth),
               np.max(np.abs(rel @ vup) / tan_v + depth),
               0.5 * bounds.radius / tan_v)  # a single point still gets some room
    return {"position": focal + dist * direction, "focal_point": focal,
            "up": up.copy(), "view_angle": float(view_angle)}


def rig_camera_view(cam: Camera, size: tuple[int, int]) -> dict:
    """VTK camera parameters that reproduce ``cam``'s pinhole view (distortion ignored).

    The picture ``size`` should have the camera's aspect ratio; pixels then match the
    camera's (scaled by ``size / cam.size``). The principal point becomes VTK's window centre.

    Returns
    -------
    dict with ``position``, ``focal_point``, ``up`` (3,), ``view_angle`` (degrees) and
    ``window_center`` (2,)
    """
    R = cam.R
    center = cam.center
    K = cam.matrix
    w, h = cam.size if all(cam.size) else (2 * K[0, 2], 2 * K[1, 2])
    view_angle = float(np.degrees(2 * np.arctan(h / 2 / K[1, 1])))
    cx, cy = K[0, 2], K[1, 2]
    window_center = (-(cx - (w - 1) / 2) / (w / 2), (cy - (h - 1) / 2) / (h / 2))
    return {"position": center, "focal_point": center + R[2] * 100.0, "up": -R[1],
            "view_angle": view_angle, "window_center": window_center}


# --- glyphs: vertices of many spheres / tubes at once --------------------------------------
def place_spheres(template: np.ndarray, centers: np.ndarray, radius: float,
                  park: np.ndarray) -> np.ndarray:
    """Vertices of one sphere per centre; missing centres collapse to ``park`` (invisible).

    Parameters
    ----------
    template : (n_v, 3) unit-sphere vertices
    centers : (n, 3) rig units, NaN = missing
    radius : float
    park : (3,) a point inside the scene

    Returns
    -------
    vertices : (n * n_v, 3)
    """
    ok = np.isfinite(centers).all(1)
    c = np.where(ok[:, None], centers, park)
    r = np.where(ok, radius, 0.0)
    return (c[:, None, :] + r[:, None, None] * template[None]).reshape(-1, 3)


def unit_tube(n_sides: int = 14) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An open cylinder of radius 1 from z=0 to z=1.

    Returns
    -------
    vertices : (2 * n_sides, 3)
    normals : (2 * n_sides, 3)
    quads : (n_sides, 4) vertex indices
    """
    a = np.linspace(0, 2 * np.pi, n_sides, endpoint=False)
    ring = np.stack([np.cos(a), np.sin(a), np.zeros_like(a)], 1)
    verts = np.concatenate([ring, ring + [0, 0, 1]])
    normals = np.concatenate([ring, ring])
    i = np.arange(n_sides)
    j = (i + 1) % n_sides
    quads = np.stack([i, j, j + n_sides, i + n_sides], 1)
    return verts, normals, quads


def place_tubes(template: np.ndarray, template_normals: np.ndarray, a: np.ndarray,
                b: np.ndarray, radius: float, park: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and normals of one tube per segment ``a -> b``; missing ends collapse.

    Parameters
    ----------
    template, template_normals : (n_v, 3) from :func:`unit_tube`
    a, b : (n, 3) rig units, NaN = missing
    radius : float
    park : (3,)

    Returns
    -------
    vertices, normals : (n * n_v, 3)
    """
    d = b - a
    length = np.linalg.norm(d, axis=1)
    ok = np.isfinite(length) & (length > 0)
    safe_len = np.where(ok, length, 1.0)
    z = np.where(ok[:, None], d / safe_len[:, None], [0.0, 0.0, 1.0])
    helper = np.where((np.abs(z[:, 0]) < 0.9)[:, None], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0])
    x = np.cross(z, helper)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.cross(z, x)
    rot = np.stack([x, y, z], axis=2)  # columns: local axes in world
    scale = np.stack([np.full_like(length, radius), np.full_like(length, radius),
                      np.where(ok, length, 0.0)], 1)
    scale[~ok] = 0.0
    origin = np.where(ok[:, None], a, park)
    local = template[None] * scale[:, None, :]
    verts = origin[:, None, :] + np.einsum("nij,nvj->nvi", rot, local)
    normals = np.einsum("nij,nvj->nvi", rot, np.broadcast_to(template_normals,
                                                            (len(a),) + template_normals.shape))
    return verts.reshape(-1, 3), normals.reshape(-1, 3)


def frustum_corners(cam: Camera, depth: float) -> np.ndarray:
    """Camera centre and the image corners back-projected to ``depth`` (distortion removed).

    Returns
    -------
    points : (5, 3) world units; row 0 is the centre, rows 1-4 the corners clockwise
    """
    w, h = cam.size if all(cam.size) else (2 * cam.matrix[0, 2], 2 * cam.matrix[1, 2])
    px = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    try:
        xy = cam.undistort(px)
        if not np.isfinite(xy).all():
            raise ValueError
    except (ValueError, np.linalg.LinAlgError):
        xy = (px - cam.matrix[:2, 2]) / np.diag(cam.matrix)[:2]
    rays = np.concatenate([xy, np.ones((4, 1))], 1) * depth
    world = (rays - cam.tvec) @ cam.R  # R^T (X_cam - t)
    return np.concatenate([cam.center[None], world])
