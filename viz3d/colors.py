"""Fixed, deterministic colours: one per bodypart (by position), one per camera, the theme."""

from __future__ import annotations

import colorsys

import numpy as np

__all__ = [
    "BACKGROUND",
    "BACKGROUND_TOP",
    "FLOOR",
    "GRID",
    "FRUSTUM",
    "TEXT",
    "PALETTE",
    "bodypart_colors",
    "camera_colors",
    "limb_colors",
]

#: Scene theme (RGB in [0, 1]): a light background, a subtle floor and grid.
BACKGROUND = (0.97, 0.97, 0.975)
BACKGROUND_TOP = (0.84, 0.87, 0.91)
FLOOR = (0.925, 0.93, 0.94)
GRID = (0.78, 0.80, 0.83)
FRUSTUM = (0.30, 0.32, 0.36)
TEXT = (0.15, 0.15, 0.18)

#: Qualitative palette (RGB uint8), saturated enough to read on the light background and
#: free of greys, so a joint's colour never looks like the floor. Bodypart ``i`` gets entry
#: ``i``; beyond its length, hues follow the golden ratio.
PALETTE = np.array([
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207), (0, 0, 160),
    (255, 187, 0), (0, 110, 60), (160, 0, 90), (90, 200, 120), (120, 60, 0),
    (100, 150, 255), (200, 70, 160), (110, 60, 180),
], dtype=np.uint8)


def _golden_hues(n: int, start: int) -> np.ndarray:
    out = np.empty((n, 3), np.uint8)
    for i in range(n):
        h = ((start + i) * 0.618033988749895) % 1.0
        out[i] = np.round(np.array(colorsys.hsv_to_rgb(h, 0.8, 0.85)) * 255)
    return out


def bodypart_colors(n_joints: int) -> np.ndarray:
    """Colours of ``n_joints`` bodyparts, by position.

    Returns
    -------
    colors : (n_joints, 3) uint8 RGB
        The same for the same ``n_joints`` on every call.
    """
    n = int(n_joints)
    if n <= len(PALETTE):
        return PALETTE[:n].copy()
    return np.concatenate([PALETTE, _golden_hues(n - len(PALETTE), len(PALETTE))])


def limb_colors(limbs: list[tuple[int, int]], joint_colors: np.ndarray) -> np.ndarray:
    """Each limb takes the colour of its second (distal) bodypart.

    Parameters
    ----------
    limbs : list of (int, int)
        Index pairs into the bodyparts.
    joint_colors : (n_joints, 3) uint8

    Returns
    -------
    colors : (n_limbs, 3) uint8
    """
    if not limbs:
        return np.zeros((0, 3), np.uint8)
    return joint_colors[np.array([b for _, b in limbs])]


def camera_colors(n_cams: int) -> np.ndarray:
    """Colours of cameras in rig order (a darker cycle, distinct from the board's).

    Returns
    -------
    colors : (n_cams, 3) uint8 RGB
    """
    base = np.array([(31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189),
                     (255, 127, 14), (23, 190, 207), (140, 86, 75), (227, 119, 194)], np.uint8)
    return base[np.arange(int(n_cams)) % len(base)]
