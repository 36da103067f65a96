"""Multi-view help while labelling: epipolar curves and triangulated proposals.

Pixels have their origin at the centre of the top-left pixel (OpenCV's, DeepLabCut's); every
projection goes through the camera's full distortion model (:mod:`calibration.projection`),
so an epipolar "line" is a curve. Triangulation is the reweighted linear method of
:mod:`triangulate.dlt` on undistorted coordinates.
"""

from __future__ import annotations

import numpy as np

from calibration.camera import Camera
from calibration.projection import distort_normalized
from calibration.rig import CameraRig
from triangulate.dlt import rig_arrays, triangulate_dlt

__all__ = ["epipolar_curves", "triangulate_views", "rig_scale"]

#: Depth range of the epipolar ray, as multiples of the rig's camera baseline.
DEPTH_RANGE = (0.05, 20.0)
#: Depth samples along the ray (before thinning to at most ``max_points``).
N_SAMPLES = 4000


def rig_scale(rig: CameraRig) -> float:
    """The rig's baseline: median distance between camera centres (rig units).

    One camera: its distance to the world origin (1 when at the origin).
    """
    c = rig.centers
    if len(c) < 2:
        d = float(np.linalg.norm(c[0]))
        return d if d > 0 else 1.0
    i, j = np.triu_indices(len(c), 1)
    d = np.linalg.norm(c[i] - c[j], axis=1)
    return float(np.median(d)) if np.median(d) > 0 else 1.0


def _valid_radius(cam: Camera) -> float:
    """Largest ideal normalized radius the camera's distortion maps faithfully: 1.5x the
    image border's (beyond it polynomial distortion can fold points back into the image)."""
    w, h = cam.size
    t = np.linspace(0.0, 1.0, 33)
    border = np.concatenate([np.stack([t * (w - 1), np.zeros_like(t)], -1),
                             np.stack([t * (w - 1), np.full_like(t, h - 1)], -1),
                             np.stack([np.zeros_like(t), t * (h - 1)], -1),
                             np.stack([np.full_like(t, w - 1), t * (h - 1)], -1)])
    ideal = cam.undistort(border)
    r = np.hypot(ideal[:, 0], ideal[:, 1])
    return 1.5 * float(np.nanmax(r)) if np.isfinite(r).any() else np.inf


def _thin(points: np.ndarray, max_points: int) -> np.ndarray:
    """At most ``max_points`` of a polyline's vertices, evenly spaced along its length (the
    ends kept; vertices are the curve's own samples, never interpolated)."""
    if len(points) <= max_points:
        return points
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    idx = np.searchsorted(s, np.linspace(0.0, s[-1], max_points))
    idx = np.unique(np.clip(idx, 0, len(points) - 1))
    return points[np.union1d(idx, [0, len(points) - 1])]


def _longest_run(mask: np.ndarray) -> slice:
    """The longest run of True in a 1D mask (empty slice when none)."""
    if not mask.any():
        return slice(0, 0)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    starts, stops = edges[::2], edges[1::2]
    k = int(np.argmax(stops - starts))
    return slice(int(starts[k]), int(stops[k]))


def epipolar_curves(rig: CameraRig, view: str, xy: tuple[float, float],
                    max_points: int = 160, margin: float = 20.0) -> dict[str, np.ndarray]:
    """The epipolar curve of pixel ``xy`` of ``view`` in every other camera of the rig.

    The pixel is undistorted to a ray of ``view``; points at depths log-spaced over
    :data:`DEPTH_RANGE` times :func:`rig_scale` are projected into each other camera with
    its full distortion; those in front of it, within its faithful distortion range and
    inside its image (plus ``margin``) form the curve.

    Parameters
    ----------
    rig : CameraRig
    view : str
        The camera the pixel belongs to.
    xy : (2,) px
    max_points : int
        Most vertices of a curve.
    margin : float
        Pixels beyond the image border still kept.

    Returns
    -------
    dict of str to (n_points, 2) px
        Every other camera; ``(0, 2)`` where the ray is not seen.
    """
    src = rig[view]
    u = src.undistort(np.asarray(xy, dtype=np.float64))
    out = {c.name: np.zeros((0, 2)) for c in rig.cameras if c.name != view}
    if not np.isfinite(u).all():
        return out
    scale = rig_scale(rig)
    depth = np.geomspace(DEPTH_RANGE[0] * scale, DEPTH_RANGE[1] * scale, N_SAMPLES)
    ray_cam = np.concatenate([u, [1.0]])[None] * depth[:, None]      # (N, 3) source frame
    world = (ray_cam - src.tvec) @ src.R                               # R^T (X_cam - t)
    for cam in rig.cameras:
        if cam.name == view:
            continue
        pc = cam.world_to_camera(world)
        z = pc[:, 2]
        front = z > 1e-9 * scale
        ideal = pc[:, :2] / np.where(front, z, 1.0)[:, None]
        ok = front & (np.hypot(ideal[:, 0], ideal[:, 1]) <= _valid_radius(cam))
        if not cam.fisheye:  # the distortion must not fold: positive Jacobian determinant
            _, J = distort_normalized(ideal, cam.dist, cam.fisheye, jacobian=True)
            ok &= np.linalg.det(J) > 0
        px = cam.distort(ideal)
        w, h = cam.size
        inside = ok & np.isfinite(px).all(-1) & (px[:, 0] >= -margin) & (px[:, 1] >= -margin)
        inside &= (px[:, 0] <= w - 1 + margin) & (px[:, 1] <= h - 1 + margin)
        out[cam.name] = _thin(px[_longest_run(inside)], max_points)
    return out


def _errors(rig: CameraRig, X: np.ndarray, pixels: np.ndarray) -> np.ndarray:
    """(n_cams,) px distance between the projections of ``X`` and ``pixels``."""
    return np.linalg.norm(rig.project(X) - pixels, axis=-1)


def triangulate_views(rig: CameraRig, points: dict[str, tuple[float, float]],
                      min_px: float = 8.0, factor: float = 3.0) -> dict:
    """A 3D point from two or more views, its reprojections, and the views that disagree.

    With three or more views, views are flagged greedily by leave-one-out: each view is left
    out in turn; the one whose removal leaves the others most consistent (smallest largest
    error) is flagged when its own error, from the others' point, exceeds
    ``max(min_px, factor * median error of the others)``; this repeats while three or more
    views remain. The point is triangulated from the views not flagged.

    Parameters
    ----------
    rig : CameraRig
        The group's cameras.
    points : dict of str to (2,) px
        Views (camera names of ``rig``) and their pixels.
    min_px, factor : float
        The flagging threshold.

    Returns
    -------
    dict
        ``point3d`` (3,) rig units (NaN when the rays do not fix a point),
        ``reprojected`` {camera: (2,) px} for every camera, ``errors`` {given view: px},
        ``flagged`` [views], ``threshold`` px (of the last test; ``min_px`` with 2 views).
    """
    names = [n for n in rig.names if n in points]
    unknown = sorted(set(points) - set(names))
    if unknown:
        raise KeyError(f"no camera {unknown} in this group; cameras: {rig.names}")
    if len(names) < 2:
        raise ValueError(f"triangulation needs points in 2 or more views, got {len(names)}")
    sub = rig.subset(names)
    pix = np.array([points[n] for n in names], dtype=np.float64).reshape(len(names), 2)
    if not np.isfinite(pix).all():
        raise ValueError("pixel coordinates must be finite numbers")
    u = sub.undistort(pix[:, None, :])                                  # (n, 1, 2)
    R, t, f = rig_arrays(sub)

    def solve(mask: np.ndarray) -> np.ndarray:
        X, _ = triangulate_dlt(u, mask.astype(np.float64)[:, None], R, t, f)
        return X[0]

    active = np.ones(len(names), dtype=bool)
    threshold = float(min_px)
    while active.sum() >= 3:
        best = None
        for v in np.flatnonzero(active):
            rest = active.copy()
            rest[v] = False
            err = _errors(sub, solve(rest), pix)
            consistency = float(np.nanmax(err[rest])) if np.isfinite(err[rest]).any() else np.inf
            if best is None or (consistency, -err[v]) < (best[0], -best[1]):
                thr = max(float(min_px), factor * float(np.nanmedian(err[rest])))
                best = (consistency, float(err[v]), int(v), thr)
        consistency, err_v, v, thr = best
        threshold = thr
        if np.isnan(err_v) or err_v <= thr:
            break
        active[v] = False
    X = solve(active)
    errors = _errors(sub, X, pix)
    reproj = rig.project(X)
    return {"point3d": X, "reprojected": {c.name: reproj[i] for i, c in enumerate(rig.cameras)},
            "errors": {n: float(errors[i]) for i, n in enumerate(names)},
            "flagged": [n for i, n in enumerate(names) if not active[i]],
            "threshold": threshold}
