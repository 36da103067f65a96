"""The synthetic calibration scene: the printed board's texture and a cluttered background.

Used by :mod:`synth.render_board`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from calibration import Board, Camera

from .render_behaviour import make_background

__all__ = ["BoardTexture", "board_texture", "make_calibration_background"]

#: Reflectance of the printed black and white and of the card's back.
_ALBEDO_BLACK, _ALBEDO_WHITE, _ALBEDO_BACK = 0.06, 0.90, 0.72
#: Texture resolutions (pixels per square): each frame samples the finest one whose texels
#: are not smaller than its sub-pixel sample spacing (a mip-map).
_LEVELS = (16, 32, 64, 128)


# --- textures and backgrounds ----------------------------------------------------------------
@dataclass(frozen=True)
class BoardTexture:
    """The card at several resolutions (pixels per square -> (H, W, 2) float32 image of
    reflectance times coverage and coverage) for the printed ``front`` and the plain light grey
    ``back``, with a white margin of ``margin_squares`` around the pattern."""

    front: dict
    back: dict
    margin_squares: float


def board_texture(board: Board, levels: tuple[int, ...] = _LEVELS,
                  margin_squares: float = 0.5) -> BoardTexture:
    """The board's texture for :func:`sample_board`, from :meth:`Board.render`.

    Parameters
    ----------
    board : Board
    levels : tuple of int
        Pixels per square of each resolution (multiples of 8 put the default board's marker
        bits on whole texels).
    margin_squares : float
        White margin around the pattern, in squares (as on a printed board).
    """
    front, back = {}, {}
    for pps in map(int, levels):
        img = board.render(pixels_per_square=pps, margin_squares=margin_squares)
        albedo = _ALBEDO_BLACK + (_ALBEDO_WHITE - _ALBEDO_BLACK) * img.astype(np.float32) / 255
        ones = np.ones_like(albedo)
        front[pps], back[pps] = np.dstack([albedo, ones]), np.dstack([ones * _ALBEDO_BACK, ones])
    return BoardTexture(front=front, back=back, margin_squares=float(margin_squares))


def make_calibration_background(camera: Camera, rng: np.random.Generator,
                                rays: np.ndarray | None = None) -> np.ndarray:
    """A cluttered grey scene: the textured arena floor and room, objects near the lens.

    Parameters
    ----------
    camera : Camera
        Units mm.
    rng : numpy.random.Generator
    rays : (h, w, 3), optional
        ``pixel_rays(camera)``, if already computed.

    Returns
    -------
    background : (h, w) float32 grey levels in [0, 255]
    """
    layer = cv2.cvtColor(make_background(camera, rng, rays=rays), cv2.COLOR_RGB2GRAY)
    w, h = camera.size
    for _ in range(int(rng.integers(6, 12))):  # boxes, bottles and cables
        colour, kind, (x, y) = int(rng.integers(10, 230)), rng.integers(3), rng.uniform(0, 1, 2)
        x, y = float(x * w), float(y * h)
        if kind == 0:
            box = ((x, y), tuple(rng.uniform(15, 120, 2).tolist()), float(rng.uniform(0, 180)))
            pts = np.round(cv2.boxPoints(box) * 16).astype(np.int32)
            cv2.fillPoly(layer, [pts], colour, cv2.LINE_AA, shift=4)
        elif kind == 1:
            axes = tuple(int(a) for a in rng.uniform(8, 70, 2))
            cv2.ellipse(layer, (int(x), int(y)), axes, float(rng.uniform(0, 180)), 0, 360,
                        colour, -1, cv2.LINE_AA)
        else:
            pts = np.round(np.cumsum(rng.normal(0, 60, (5, 2)), axis=0) + (x, y)).astype(np.int32)
            cv2.polylines(layer, [pts], False, colour, int(rng.integers(2, 7)), cv2.LINE_AA)
    return cv2.GaussianBlur(layer, (0, 0), 0.8).astype(np.float32)
