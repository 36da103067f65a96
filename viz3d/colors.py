"""Fixed, deterministic colours: one per bodypart (by position), one per camera, the theme.

Several individuals in one picture each get a colour family: one hue per individual
(:data:`INDIVIDUAL_HUES`), its bodyparts shades of that hue (dark to light, with a small hue
swing so neighbours stay apart). One individual keeps :func:`bodypart_colors`.
"""

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
    "INDIVIDUAL_HUES",
    "individual_hues",
    "individual_colors",
    "individual_label_colors",
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


#: Hues (in [0, 1)) of the first individuals' colour families: blue, orange, green, magenta,
#: teal, red, violet, olive; then golden-ratio steps.
INDIVIDUAL_HUES = (0.60, 0.075, 0.34, 0.86, 0.50, 0.995, 0.74, 0.18)

#: Lightness range (HLS) of a family's shades, and the hue swing between neighbours.
_SHADE_LIGHTNESS = (0.30, 0.60)
_SHADE_SATURATION = 0.85
_SHADE_HUE_SWING = 0.025


def individual_hues(n_individuals: int) -> np.ndarray:
    """Hue (in [0, 1)) of each of ``n_individuals`` colour families, by position.

    Returns
    -------
    hues : (n_individuals,) float
    """
    n = int(n_individuals)
    base = np.array(INDIVIDUAL_HUES, float)
    extra = (np.arange(len(base), max(n, len(base))) * 0.618033988749895 + 0.6) % 1.0
    return np.concatenate([base, extra])[:n]


def _hls_to_rgb255(h: np.ndarray, lightness: np.ndarray, s: float) -> np.ndarray:
    """Vectorized HLS -> RGB uint8 (colorsys' formulas over arrays)."""
    h, lightness = np.broadcast_arrays(np.asarray(h, float) % 1.0, np.asarray(lightness, float))
    m2 = np.where(lightness <= 0.5, lightness * (1 + s), lightness + s - lightness * s)
    m1 = 2 * lightness - m2

    def v(hue: np.ndarray) -> np.ndarray:
        hue = hue % 1.0
        return np.select([hue < 1 / 6, hue < 0.5, hue < 2 / 3],
                         [m1 + (m2 - m1) * hue * 6, m2, m1 + (m2 - m1) * (2 / 3 - hue) * 6],
                         m1)

    rgb = np.stack([v(h + 1 / 3), v(h), v(h - 1 / 3)], -1)
    return np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def individual_colors(n_individuals: int, n_joints: int) -> np.ndarray:
    """Colours of every bodypart of every individual.

    One individual: :func:`bodypart_colors` (single-animal pictures look as they always
    did). Several: individual ``i`` takes hue ``individual_hues(n)[i]``; its bodyparts run
    from dark to light shades of it (HLS lightness 0.30 to 0.60, saturation 0.85), the hue
    swinging by +-0.025 between neighbours.

    Returns
    -------
    colors : (n_individuals, n_joints, 3) uint8 RGB
    """
    n_i, n_j = int(n_individuals), int(n_joints)
    if n_i == 1:
        return bodypart_colors(n_j)[None]
    lo, hi = _SHADE_LIGHTNESS
    light = np.linspace(lo, hi, n_j) if n_j > 1 else np.full(1, (lo + hi) / 2)
    swing = _SHADE_HUE_SWING * ((np.arange(n_j) % 3) - 1)
    hue = individual_hues(n_i)[:, None] + swing[None]
    return _hls_to_rgb255(hue, light[None], _SHADE_SATURATION)


def individual_label_colors(n_individuals: int) -> np.ndarray:
    """The colour of each individual's name label: a dark shade of its family (one
    individual: the dark grey of :data:`TEXT`).

    Returns
    -------
    colors : (n_individuals, 3) uint8 RGB
    """
    n = int(n_individuals)
    if n == 1:
        return np.round(np.array([TEXT]) * 255).astype(np.uint8)
    return _hls_to_rgb255(individual_hues(n), np.full(n, 0.32), _SHADE_SATURATION)
