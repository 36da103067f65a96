"""Vectorized camera projection, distortion and undistortion with analytic Jacobians.

One camera's models, as pure functions over arrays with any leading shape:

- pinhole: OpenCV's full model with 4, 5, 8, 12 or 14 coefficients
  ``(k1, k2, p1, p2[, k3[, k4, k5, k6[, s1, s2, s3, s4[, tau_x, tau_y]]]])``;
- fisheye: OpenCV's Kannala-Brandt equidistant model with 4 coefficients ``(k1, k2, k3, k4)``.

Coordinates: ``points_cam`` are in the camera frame (x right, y down, z forward) in rig
units; ``normalized`` are ideal image coordinates ``(X/Z, Y/Z)``; ``pixels`` have their origin
at the centre of the top-left pixel, as in OpenCV. Results equal ``cv2.projectPoints`` and
``cv2.fisheye.projectPoints`` (tests check 1e-6 px); NaN in gives NaN out.
"""

from __future__ import annotations

import numpy as np

from .rotation import rodrigues_to_matrix

__all__ = [
    "N_DIST_PINHOLE",
    "pad_distortion",
    "tilt_matrix",
    "distort_normalized",
    "undistort_normalized",
    "project_camera_points",
    "project_world_points",
    "pixels_to_normalized",
    "normalized_to_pixels",
]

#: Allowed lengths of a pinhole distortion vector (OpenCV's).
N_DIST_PINHOLE = (0, 4, 5, 8, 12, 14)


def pad_distortion(dist: np.ndarray, fisheye: bool = False) -> np.ndarray:
    """Distortion coefficients padded with zeros to 14 (pinhole) or 4 (fisheye).

    Parameters
    ----------
    dist : (k,)
        Coefficients in OpenCV's order.
    fisheye : bool
        Whether they belong to the fisheye model.

    Returns
    -------
    dist : (14,) or (4,) float64
    """
    dist = np.asarray(dist, dtype=np.float64).ravel()
    n = 4 if fisheye else 14
    if dist.size > n:
        raise ValueError(f"expected at most {n} distortion coefficients, got {dist.size}")
    out = np.zeros(n)
    out[: dist.size] = dist
    return out


def tilt_matrix(tau_x: float, tau_y: float) -> np.ndarray:
    """OpenCV's tilted-sensor projection matrix (``computeTiltProjectionMatrix``).

    Parameters
    ----------
    tau_x, tau_y : radians

    Returns
    -------
    T : (3, 3)
    """
    cx, sx = np.cos(tau_x), np.sin(tau_x)
    cy, sy = np.cos(tau_y), np.sin(tau_y)
    rot_x = np.array([[1, 0, 0], [0, cx, sx], [0, -sx, cx]])
    rot_y = np.array([[cy, 0, -sy], [0, 1, 0], [sy, 0, cy]])
    rot_xy = rot_y @ rot_x
    proj_z = np.array(
        [[rot_xy[2, 2], 0, -rot_xy[0, 2]], [0, rot_xy[2, 2], -rot_xy[1, 2]], [0, 0, 1]]
    )
    return proj_z @ rot_xy


def _distort_pinhole(xy: np.ndarray, d: np.ndarray, jacobian: bool):
    x, y = xy[..., 0], xy[..., 1]
    k1, k2, p1, p2, k3, k4, k5, k6, s1, s2, s3, s4, tx, ty = d
    r2 = x * x + y * y
    num = 1 + r2 * (k1 + r2 * (k2 + r2 * k3))
    den = 1 + r2 * (k4 + r2 * (k5 + r2 * k6))
    radial = num / den
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x) + r2 * (s1 + s2 * r2)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y + r2 * (s3 + s4 * r2)
    out = np.stack([xd, yd], axis=-1)
    J = None
    if jacobian:
        dnum = k1 + r2 * (2 * k2 + 3 * k3 * r2)
        dden = k4 + r2 * (2 * k5 + 3 * k6 * r2)
        drad = (dnum * den - num * dden) / (den * den)  # d radial / d r2
        px = s1 + 2 * s2 * r2
        py = s3 + 2 * s4 * r2
        J = np.empty(xy.shape + (2,))
        J[..., 0, 0] = radial + 2 * x * x * drad + 2 * p1 * y + 6 * p2 * x + 2 * x * px
        J[..., 0, 1] = 2 * x * y * drad + 2 * p1 * x + 2 * p2 * y + 2 * y * px
        J[..., 1, 0] = 2 * x * y * drad + 2 * p1 * x + 2 * p2 * y + 2 * x * py
        J[..., 1, 1] = radial + 2 * y * y * drad + 6 * p1 * y + 2 * p2 * x + 2 * y * py
    if tx != 0 or ty != 0:
        T = tilt_matrix(tx, ty)
        v0 = T[0, 0] * xd + T[0, 1] * yd + T[0, 2]
        v1 = T[1, 0] * xd + T[1, 1] * yd + T[1, 2]
        v2 = T[2, 0] * xd + T[2, 1] * yd + T[2, 2]
        inv = np.where(v2 != 0, 1.0 / np.where(v2 != 0, v2, 1.0), 1.0)
        out = np.stack([v0 * inv, v1 * inv], axis=-1)
        if jacobian:
            Jt = np.empty(xy.shape + (2,))
            Jt[..., 0, 0] = (T[0, 0] * v2 - v0 * T[2, 0]) * inv * inv
            Jt[..., 0, 1] = (T[0, 1] * v2 - v0 * T[2, 1]) * inv * inv
            Jt[..., 1, 0] = (T[1, 0] * v2 - v1 * T[2, 0]) * inv * inv
            Jt[..., 1, 1] = (T[1, 1] * v2 - v1 * T[2, 1]) * inv * inv
            J = Jt @ J
    return out, J


def _distort_fisheye(xy: np.ndarray, d: np.ndarray, jacobian: bool):
    k1, k2, k3, k4 = d
    r = np.hypot(xy[..., 0], xy[..., 1])
    theta = np.arctan(r)
    t2 = theta * theta
    theta_d = theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))
    small = r < 1e-8
    r_safe = np.where(small, 1.0, r)
    scale = np.where(small, 1.0, theta_d / r_safe)
    out = xy * scale[..., None]
    J = None
    if jacobian:
        dtd = 1 + t2 * (3 * k1 + t2 * (5 * k2 + t2 * (7 * k3 + t2 * 9 * k4)))
        dtheta = 1.0 / (1.0 + r * r)
        dscale_dr = (dtd * dtheta * r - theta_d) / (r_safe * r_safe)
        g = np.where(small, 0.0, dscale_dr / r_safe)  # (d scale / d r) / r
        x, y = xy[..., 0], xy[..., 1]
        J = np.empty(xy.shape + (2,))
        J[..., 0, 0] = scale + x * x * g
        J[..., 0, 1] = x * y * g
        J[..., 1, 0] = x * y * g
        J[..., 1, 1] = scale + y * y * g
    return out, J


def distort_normalized(
    normalized: np.ndarray, dist: np.ndarray, fisheye: bool = False, jacobian: bool = False
):
    """Apply lens distortion to normalized image coordinates.

    Parameters
    ----------
    normalized : (..., 2)
        Ideal coordinates ``(X/Z, Y/Z)``.
    dist : (k,)
        Distortion coefficients (OpenCV order).
    fisheye : bool
        Kannala-Brandt model instead of the pinhole one.
    jacobian : bool
        Also return ``d distorted / d normalized``.

    Returns
    -------
    distorted : (..., 2)
        Distorted normalized coordinates (pixels are ``K @ [distorted, 1]``).
    J : (..., 2, 2), only when ``jacobian``
    """
    xy = np.asarray(normalized, dtype=np.float64)
    d = pad_distortion(dist, fisheye)
    out, J = _distort_fisheye(xy, d, jacobian) if fisheye else _distort_pinhole(xy, d, jacobian)
    return (out, J) if jacobian else out


def undistort_normalized(
    distorted: np.ndarray, dist: np.ndarray, fisheye: bool = False, iterations: int = 30
) -> np.ndarray:
    """Invert :func:`distort_normalized` by damped Newton iterations, vectorized.

    Parameters
    ----------
    distorted : (..., 2)
        Distorted normalized coordinates (``K^-1`` applied to pixels).
    dist : (k,)
    fisheye : bool
    iterations : int
        Upper bound on Newton steps; converges to ~1e-12 in a few for usual lenses.

    Returns
    -------
    normalized : (..., 2)
        Ideal coordinates ``(X/Z, Y/Z)``; NaN where the input is NaN.
    """
    target = np.asarray(distorted, dtype=np.float64)
    d = pad_distortion(dist, fisheye)
    if not np.any(d):
        return target.copy()
    if fisheye:
        theta_d = np.hypot(target[..., 0], target[..., 1])
        theta = np.array(theta_d)
        k1, k2, k3, k4 = d
        for _ in range(iterations):
            t2 = theta * theta
            f = theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4)))) - theta_d
            df = 1 + t2 * (3 * k1 + t2 * (5 * k2 + t2 * (7 * k3 + t2 * 9 * k4)))
            step = f / np.where(np.abs(df) < 1e-12, 1e-12, df)
            theta = theta - step
            if np.nanmax(np.abs(step), initial=0.0) < 1e-14:
                break
        theta = np.clip(theta, -np.pi / 2 + 1e-9, np.pi / 2 - 1e-9)
        small = theta_d < 1e-12
        scale = np.where(small, 1.0, np.tan(theta) / np.where(small, 1.0, theta_d))
        return target * scale[..., None]
    # pinhole: initial guess from the inverse tilt, then Newton on the full model
    xy = target.copy()
    if d[12] != 0 or d[13] != 0:
        Ti = np.linalg.inv(tilt_matrix(d[12], d[13]))
        h = np.einsum("ij,...j->...i", Ti, np.concatenate([xy, np.ones_like(xy[..., :1])], -1))
        xy = h[..., :2] / h[..., 2:]
    guess = xy.copy()
    for _ in range(iterations):
        f, J = _distort_pinhole(xy, d, True)
        r = f - target
        det = J[..., 0, 0] * J[..., 1, 1] - J[..., 0, 1] * J[..., 1, 0]
        det = np.where(np.abs(det) < 1e-12, 1e-12, det)
        dx = (J[..., 1, 1] * r[..., 0] - J[..., 0, 1] * r[..., 1]) / det
        dy = (-J[..., 1, 0] * r[..., 0] + J[..., 0, 0] * r[..., 1]) / det
        step = np.stack([dx, dy], axis=-1)
        # keep steps bounded: strong distortion far outside the image can send Newton astray
        norm = np.hypot(dx, dy)[..., None]
        step = np.where(norm > 0.5, step * (0.5 / np.where(norm > 0, norm, 1.0)), step)
        xy = xy - step
        if np.nanmax(np.abs(step), initial=0.0) < 1e-14:
            break
    bad = ~np.isfinite(xy).all(-1) & np.isfinite(guess).all(-1)
    if np.any(bad):
        xy[bad] = np.nan
    return xy


def normalized_to_pixels(distorted: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pixels from (distorted) normalized coordinates.

    Parameters
    ----------
    distorted : (..., 2)
    K : (3, 3)
        Camera matrix; its skew ``K[0, 1]`` is applied as OpenCV's fisheye model does.

    Returns
    -------
    pixels : (..., 2)
    """
    K = np.asarray(K, dtype=np.float64)
    x, y = distorted[..., 0], distorted[..., 1]
    return np.stack([K[0, 0] * x + K[0, 1] * y + K[0, 2], K[1, 1] * y + K[1, 2]], axis=-1)


def pixels_to_normalized(pixels: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Inverse of :func:`normalized_to_pixels`.

    Parameters
    ----------
    pixels : (..., 2)
    K : (3, 3)

    Returns
    -------
    distorted : (..., 2)
        Distorted normalized coordinates.
    """
    K = np.asarray(K, dtype=np.float64)
    pixels = np.asarray(pixels, dtype=np.float64)
    y = (pixels[..., 1] - K[1, 2]) / K[1, 1]
    x = (pixels[..., 0] - K[0, 2] - K[0, 1] * y) / K[0, 0]
    return np.stack([x, y], axis=-1)


def project_camera_points(
    points_cam: np.ndarray,
    K: np.ndarray,
    dist: np.ndarray,
    fisheye: bool = False,
    jacobian: bool = False,
):
    """Project points given in the camera frame to pixels.

    Parameters
    ----------
    points_cam : (..., 3) rig units
        Points in the camera frame.
    K : (3, 3)
    dist : (k,)
    fisheye : bool
    jacobian : bool
        Also return ``d pixels / d points_cam``.

    Returns
    -------
    pixels : (..., 2)
    J : (..., 2, 3), only when ``jacobian``
    """
    P = np.asarray(points_cam, dtype=np.float64)
    z = P[..., 2]
    inv_z = 1.0 / np.where(z == 0, np.finfo(float).eps, z)
    xy = P[..., :2] * inv_z[..., None]
    res = distort_normalized(xy, dist, fisheye, jacobian)
    if not jacobian:
        return normalized_to_pixels(res, K)
    dist_xy, Jd = res
    K = np.asarray(K, dtype=np.float64)
    Kp = np.array([[K[0, 0], K[0, 1]], [0.0, K[1, 1]]])
    # d normalized / d points_cam: (..., 2, 3)
    Jn = np.zeros(P.shape[:-1] + (2, 3))
    Jn[..., 0, 0] = inv_z
    Jn[..., 1, 1] = inv_z
    Jn[..., 0, 2] = -xy[..., 0] * inv_z
    Jn[..., 1, 2] = -xy[..., 1] * inv_z
    J = Kp @ Jd @ Jn
    return normalized_to_pixels(dist_xy, K), J


def project_world_points(
    points3d: np.ndarray,
    rvec: np.ndarray,
    tvec: np.ndarray,
    K: np.ndarray,
    dist: np.ndarray,
    fisheye: bool = False,
) -> np.ndarray:
    """Project world points through one camera (same result as ``cv2.projectPoints``).

    Parameters
    ----------
    points3d : (..., 3) rig units
    rvec : (3,) radians, world to camera
    tvec : (3,) rig units, world to camera
    K : (3, 3)
    dist : (k,)
    fisheye : bool

    Returns
    -------
    pixels : (..., 2)
    """
    R = rodrigues_to_matrix(rvec)
    P = np.asarray(points3d, dtype=np.float64) @ R.T + np.asarray(tvec, dtype=np.float64)
    return project_camera_points(P, K, dist, fisheye)
