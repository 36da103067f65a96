"""The camera model: one calibrated camera as a plain data class (no I/O, no solvers)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from . import projection
from .rotation import matrix_to_rodrigues, rodrigues_to_matrix

__all__ = ["Camera"]


def _as_array(value, shape: tuple[int, ...], what: str, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != shape:
        if arr.size == int(np.prod(shape)) and arr.ndim <= 2:
            arr = arr.reshape(shape)
        else:
            raise ValueError(
                f"camera {name!r}: {what} must have shape {shape}, got {tuple(arr.shape)}"
            )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"camera {name!r}: {what} contains NaN or inf: {arr.tolist()}")
    return arr


@dataclass(eq=False)
class Camera:
    """One calibrated camera.

    Parameters
    ----------
    name : str
        Unique camera name within a rig (e.g. ``"cam0"``, ``"back"``).
    size : (2,) int
        Image width and height in pixels.
    matrix : (3, 3)
        Intrinsic matrix ``K`` in pixels.
    dist : (k,)
        Distortion coefficients in OpenCV's order: pinhole with 0/4/5/8/12/14 values, or
        fisheye with 4.
    rvec : (3,) radians
        Rodrigues rotation, world to camera.
    tvec : (3,) rig units
        Translation, world to camera (``X_cam = R @ X_world + t``).
    fisheye : bool
        Kannala-Brandt (``cv2.fisheye``) model instead of the pinhole one.
    """

    name: str
    size: tuple[int, int] = (0, 0)
    matrix: np.ndarray = field(default_factory=lambda: np.eye(3))
    dist: np.ndarray = field(default_factory=lambda: np.zeros(5))
    rvec: np.ndarray = field(default_factory=lambda: np.zeros(3))
    tvec: np.ndarray = field(default_factory=lambda: np.zeros(3))
    fisheye: bool = False

    def __post_init__(self) -> None:
        self.name = str(self.name)
        size = np.asarray(self.size, dtype=np.float64).ravel()
        if size.shape != (2,) or np.any(size < 0) or np.any(size != np.round(size)):
            raise ValueError(
                f"camera {self.name!r}: size must be [width, height] in whole pixels, "
                f"got {np.asarray(self.size).tolist()}"
            )
        self.size = (int(size[0]), int(size[1]))
        self.matrix = _as_array(self.matrix, (3, 3), "matrix", self.name)
        if self.matrix[0, 0] <= 0 or self.matrix[1, 1] <= 0:
            raise ValueError(
                f"camera {self.name!r}: matrix must have positive focal lengths fx, fy, "
                f"got {self.matrix[0, 0]}, {self.matrix[1, 1]}"
            )
        dist = np.asarray(self.dist, dtype=np.float64).ravel()
        allowed = (4,) if self.fisheye else projection.N_DIST_PINHOLE
        if dist.size not in allowed:
            model = "fisheye" if self.fisheye else "pinhole"
            raise ValueError(
                f"camera {self.name!r}: a {model} camera takes {list(allowed)} distortion "
                f"coefficients, got {dist.size}"
            )
        self.dist = _as_array(dist, dist.shape, "distortions", self.name)
        self.rvec = _as_array(np.asarray(self.rvec, dtype=np.float64).ravel(), (3,), "rotation",
                              self.name)
        self.tvec = _as_array(np.asarray(self.tvec, dtype=np.float64).ravel(), (3,),
                              "translation", self.name)
        self.fisheye = bool(self.fisheye)

    # --- derived geometry -------------------------------------------------------------
    @property
    def R(self) -> np.ndarray:
        """(3, 3) world-to-camera rotation matrix."""
        return rodrigues_to_matrix(self.rvec)

    @R.setter
    def R(self, value: np.ndarray) -> None:
        self.rvec = matrix_to_rodrigues(_as_array(value, (3, 3), "rotation matrix", self.name))

    @property
    def center(self) -> np.ndarray:
        """(3,) camera centre in world coordinates, rig units."""
        return -self.R.T @ self.tvec

    @property
    def extrinsics(self) -> np.ndarray:
        """(4, 4) world-to-camera rigid transform."""
        T = np.eye(4)
        T[:3, :3] = self.R
        T[:3, 3] = self.tvec
        return T

    @property
    def projection_matrix(self) -> np.ndarray:
        """(3, 4) ``K [R | t]`` (ignores distortion)."""
        return self.matrix @ self.extrinsics[:3]

    @property
    def focal(self) -> tuple[float, float]:
        """Focal lengths ``(fx, fy)`` in pixels."""
        return float(self.matrix[0, 0]), float(self.matrix[1, 1])

    @property
    def principal_point(self) -> tuple[float, float]:
        """Principal point ``(cx, cy)`` in pixels."""
        return float(self.matrix[0, 2]), float(self.matrix[1, 2])

    # --- geometry --------------------------------------------------------------------
    def world_to_camera(self, points3d: np.ndarray) -> np.ndarray:
        """Points in this camera's frame.

        Parameters
        ----------
        points3d : (..., 3) rig units, world frame

        Returns
        -------
        points_cam : (..., 3) rig units, camera frame
        """
        return np.asarray(points3d, dtype=np.float64) @ self.R.T + self.tvec

    def project(self, points3d: np.ndarray) -> np.ndarray:
        """Project world points to distorted pixels.

        Parameters
        ----------
        points3d : (..., 3) rig units

        Returns
        -------
        points2d : (..., 2) pixels
        """
        return projection.project_camera_points(
            self.world_to_camera(points3d), self.matrix, self.dist, self.fisheye
        )

    def undistort(self, points2d: np.ndarray, normalized: bool = True) -> np.ndarray:
        """Remove lens distortion from pixel coordinates.

        Parameters
        ----------
        points2d : (..., 2) pixels
        normalized : bool
            Return ideal normalized coordinates ``(X/Z, Y/Z)`` (default) or ideal pixels
            ``K @ [x, y, 1]``.

        Returns
        -------
        undistorted : (..., 2)
        """
        dn = projection.pixels_to_normalized(points2d, self.matrix)
        xy = projection.undistort_normalized(dn, self.dist, self.fisheye)
        return xy if normalized else projection.normalized_to_pixels(xy, self.matrix)

    def distort(self, normalized: np.ndarray) -> np.ndarray:
        """Pixels of ideal normalized coordinates (inverse of :meth:`undistort`).

        Parameters
        ----------
        normalized : (..., 2)

        Returns
        -------
        points2d : (..., 2) pixels
        """
        d = projection.distort_normalized(normalized, self.dist, self.fisheye)
        return projection.normalized_to_pixels(d, self.matrix)

    def in_image(self, points2d: np.ndarray, margin: float = 0.0) -> np.ndarray:
        """Whether pixel coordinates fall inside the image.

        Parameters
        ----------
        points2d : (..., 2) pixels
        margin : float
            Pixels to shrink the image by on each side.

        Returns
        -------
        inside : (...) bool (False for NaN)
        """
        p = np.asarray(points2d)
        w, h = self.size
        with np.errstate(invalid="ignore"):
            return (
                (p[..., 0] >= -0.5 + margin)
                & (p[..., 0] <= w - 0.5 - margin)
                & (p[..., 1] >= -0.5 + margin)
                & (p[..., 1] <= h - 0.5 - margin)
            )

    def copy(self, **changes) -> Camera:
        """A deep copy, with optional fields replaced."""
        fields = dict(
            name=self.name, size=self.size, matrix=self.matrix.copy(), dist=self.dist.copy(),
            rvec=self.rvec.copy(), tvec=self.tvec.copy(), fisheye=self.fisheye,
        )
        fields.update(changes)
        return Camera(**fields)

    def __repr__(self) -> str:
        fx, fy = self.focal
        cx, cy = self.principal_point
        model = "fisheye" if self.fisheye else f"pinhole/{self.dist.size}"
        c = np.round(self.center, 2).tolist()
        return (
            f"Camera({self.name!r}, {self.size[0]}x{self.size[1]}, f=({fx:.1f}, {fy:.1f}), "
            f"c=({cx:.1f}, {cy:.1f}), {model}, center={c})"
        )
