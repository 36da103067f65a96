"""A rig: ordered calibrated cameras sharing one world frame and one unit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .camera import Camera

__all__ = ["CameraRig"]


@dataclass(eq=False)
class CameraRig:
    """Ordered cameras of a synchronized rig.

    Parameters
    ----------
    cameras : list of Camera
        In the rig's order; this order is the ``n_cams`` axis of every array.
    units : str
        Unit of translations and of triangulated points (e.g. ``"mm"``, ``"m"``).
    metadata : dict
        Free-form values written to the ``[metadata]`` table of calibration.toml.
    """

    cameras: list[Camera]
    units: str = "mm"
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cameras = list(self.cameras)
        if not self.cameras:
            raise ValueError("a CameraRig needs at least one camera, got none")
        for cam in self.cameras:
            if not isinstance(cam, Camera):
                raise TypeError(f"CameraRig takes Camera objects, got {type(cam).__name__}")
        names = [c.name for c in self.cameras]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"camera names must be unique, repeated: {dup}")

    # --- container -------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """Camera names in rig order."""
        return [c.name for c in self.cameras]

    @property
    def n_cams(self) -> int:
        """Number of cameras."""
        return len(self.cameras)

    def __len__(self) -> int:
        return len(self.cameras)

    def __iter__(self):
        return iter(self.cameras)

    def __getitem__(self, key: int | str) -> Camera:
        if isinstance(key, str):
            return self.cameras[self.index(key)]
        return self.cameras[key]

    def index(self, name: str) -> int:
        """Position of the camera called ``name``.

        Raises
        ------
        KeyError
            Naming the unknown camera and listing the rig's.
        """
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no camera named {name!r} in the rig; cameras: {self.names}") from None

    def subset(self, names: Iterable[str | int]) -> CameraRig:
        """A rig of the named cameras, in the order given (copies).

        Parameters
        ----------
        names : iterable of str or int
            Camera names or positions.
        """
        cams = [self[n].copy() for n in names]
        return CameraRig(cams, units=self.units, metadata=dict(self.metadata))

    def copy(self) -> CameraRig:
        """A deep copy."""
        return CameraRig([c.copy() for c in self.cameras], self.units, dict(self.metadata))

    # --- geometry --------------------------------------------------------------------
    def project(self, points3d: np.ndarray) -> np.ndarray:
        """Project world points into every camera, with distortion.

        Parameters
        ----------
        points3d : (..., 3) rig units
            Any leading shape, e.g. ``(n_frames, n_joints, 3)``. NaN gives NaN.

        Returns
        -------
        points2d : (n_cams, ..., 2) pixels
        """
        p = np.asarray(points3d, dtype=np.float64)
        if p.shape[-1:] != (3,):
            raise ValueError(f"points3d must end in an axis of 3 (x, y, z), got shape {p.shape}")
        return np.stack([cam.project(p) for cam in self.cameras], axis=0)

    def undistort(self, points2d: np.ndarray, normalized: bool = True) -> np.ndarray:
        """Remove distortion from every camera's pixel coordinates.

        Parameters
        ----------
        points2d : (n_cams, ..., 2) pixels
        normalized : bool
            Ideal normalized coordinates (default) or ideal pixels.

        Returns
        -------
        undistorted : (n_cams, ..., 2)
        """
        p = np.asarray(points2d, dtype=np.float64)
        if p.shape[0] != self.n_cams or p.shape[-1] != 2:
            raise ValueError(
                f"points2d must have shape (n_cams={self.n_cams}, ..., 2), got {p.shape}"
            )
        return np.stack(
            [cam.undistort(p[i], normalized) for i, cam in enumerate(self.cameras)], axis=0
        )

    def reprojection_error(self, points3d: np.ndarray, points2d: np.ndarray) -> np.ndarray:
        """Pixel distance between observations and projections.

        Parameters
        ----------
        points3d : (..., 3) rig units
        points2d : (n_cams, ..., 2) pixels

        Returns
        -------
        error : (n_cams, ...) pixels (NaN where either is missing)
        """
        return np.linalg.norm(self.project(points3d) - np.asarray(points2d), axis=-1)

    @property
    def rotations(self) -> np.ndarray:
        """(n_cams, 3, 3) world-to-camera rotations."""
        return np.stack([c.R for c in self.cameras])

    @property
    def translations(self) -> np.ndarray:
        """(n_cams, 3) world-to-camera translations, rig units."""
        return np.stack([c.tvec for c in self.cameras])

    @property
    def centers(self) -> np.ndarray:
        """(n_cams, 3) camera centres in world coordinates, rig units."""
        return np.stack([c.center for c in self.cameras])

    @property
    def intrinsics(self) -> np.ndarray:
        """(n_cams, 3, 3) camera matrices."""
        return np.stack([c.matrix for c in self.cameras])

    def projection_matrices(self, normalized: bool = False) -> np.ndarray:
        """Linear projection matrices.

        Parameters
        ----------
        normalized : bool
            ``[R | t]`` for undistorted normalized coordinates, else ``K [R | t]``.

        Returns
        -------
        P : (n_cams, 3, 4)
        """
        Rt = np.concatenate([self.rotations, self.translations[:, :, None]], axis=2)
        return Rt if normalized else self.intrinsics @ Rt

    # --- I/O and interop (implemented in their own modules) ----------------------------
    @classmethod
    def load(cls, path: str | Path, format: str = "auto") -> CameraRig:
        """Read a calibration TOML (anipose, sleap-anipose or Pose2Sim).

        See :func:`calibration.load_rig.load_rig`.
        """
        from .load_rig import load_rig

        return load_rig(path, format=format)

    def save(self, path: str | Path) -> Path:
        """Write an anipose-compatible calibration.toml atomically.

        See :func:`calibration.save_rig.save_rig`.
        """
        from .save_rig import save_rig

        return save_rig(self, path)

    def to_aniposelib(self):
        """An ``aniposelib.cameras.CameraGroup`` with the same cameras and order."""
        from .interop import to_aniposelib

        return to_aniposelib(self)

    @classmethod
    def from_aniposelib(cls, group, units: str = "mm") -> CameraRig:
        """A rig from an ``aniposelib.cameras.CameraGroup``."""
        from .interop import from_aniposelib

        return from_aniposelib(group, units=units)

    @classmethod
    def from_cameras(cls, cameras: Sequence[Camera], units: str = "mm") -> CameraRig:
        """Alias of the constructor for symmetry with the loaders."""
        return cls(list(cameras), units=units)

    def __repr__(self) -> str:
        return f"CameraRig({self.n_cams} cameras {self.names}, units={self.units!r})"
