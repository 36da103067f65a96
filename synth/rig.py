"""A synthetic camera rig around a mouse-scale arena (units mm, world z up, floor z = 0)."""

from __future__ import annotations

import numpy as np

from calibration import Board, Camera, CameraRig

__all__ = ["make_rig", "default_board", "look_at", "ARENA_CENTER"]

#: Centre of the working volume (mm): where the cameras point and the forelimb reaches.
ARENA_CENTER = np.array([0.0, 0.0, 40.0])


def look_at(center: np.ndarray, target: np.ndarray, roll_deg: float = 0.0) -> np.ndarray:
    """World-to-camera rotation of a camera at ``center`` looking at ``target``.

    Parameters
    ----------
    center, target : (3,) mm
    roll_deg : float
        Rotation about the optical axis.

    Returns
    -------
    R : (3, 3)
        Rows are the camera's x (right), y (down) and z (forward) axes in world coordinates.
    """
    f = np.asarray(target, float) - np.asarray(center, float)
    f /= np.linalg.norm(f)
    up = np.array([0.0, 0.0, 1.0])
    if abs(f @ up) > 0.999:  # looking straight down or up
        up = np.array([0.0, 1.0, 0.0])
    x = np.cross(f, up)
    x /= np.linalg.norm(x)
    y = np.cross(f, x)
    R = np.stack([x, y, f])
    a = np.radians(roll_deg)
    roll = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    return roll @ R


def make_rig(n_cams: int = 4, size: tuple[int, int] = (640, 480), seed: int = 0) -> CameraRig:
    """Cameras on a ring around the arena with realistic intrinsics and varied distortion.

    Parameters
    ----------
    n_cams : int
        2 to 16 cameras, named ``cam0``, ``cam1``, ...
    size : (width, height) pixels
    seed : int

    Returns
    -------
    CameraRig
        Units mm. Cameras 180-240 mm from the arena centre at 15-65 deg elevation, horizontal
        field of view about 37-49 deg, radial distortion k1 in [-0.28, 0.05].
    """
    if not 2 <= int(n_cams) <= 16:
        raise ValueError(f"n_cams must be between 2 and 16, got {n_cams}")
    rng = np.random.default_rng(seed)
    w, h = int(size[0]), int(size[1])
    cams = []
    for i in range(int(n_cams)):
        azimuth = 2 * np.pi * i / n_cams + rng.uniform(-0.15, 0.15)
        elevation = np.radians([20.0, 45.0, 30.0, 60.0][i % 4] + rng.uniform(-5, 5))
        dist = rng.uniform(180.0, 240.0)
        center = ARENA_CENTER + dist * np.array(
            [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth),
             np.sin(elevation)]
        )
        target = ARENA_CENTER + rng.normal(0, 4.0, 3)
        R = look_at(center, target, roll_deg=rng.uniform(-8, 8))
        fx = w * rng.uniform(1.1, 1.5)
        K = np.array([[fx, 0.0, (w - 1) / 2 + rng.normal(0, 6)],
                      [0.0, fx * (1 + rng.normal(0, 0.002)), (h - 1) / 2 + rng.normal(0, 6)],
                      [0.0, 0.0, 1.0]])
        k1 = rng.uniform(-0.28, 0.05)
        dist_coeffs = np.array([k1, rng.uniform(-0.1, 0.15) * abs(k1) / 0.28,
                                rng.normal(0, 4e-4), rng.normal(0, 4e-4), 0.0])
        cam = Camera(name=f"cam{i}", size=(w, h), matrix=K, dist=dist_coeffs)
        cam.R = R
        cam.tvec = -R @ center
        cams.append(cam)
    return CameraRig(cams, units="mm", metadata={"source": "tripose synth", "seed": int(seed)})


def default_board() -> Board:
    """The synthetic ChArUco board: 7 x 5 squares of 12 mm, 9 mm 4x4 markers (84 x 60 mm)."""
    return Board(type="charuco", squares_x=7, squares_y=5, square_length=12.0,
                 marker_length=9.0, dictionary="DICT_4X4_50", legacy=False, inverted=False)
