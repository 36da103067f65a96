"""Training augmentation: one affine warp per frame (crop, scale, rotation, flip) + photometric.

Geometry is one ``cv2.warpAffine`` per frame into a square crop, with the keypoints moved by
the same matrix (pixel-centre convention on both sides); a horizontal flip swaps left/right
partners. Photometric changes (brightness, contrast, blur, occlusion boxes, noise) act on the
whole batch in numpy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import cv2
import numpy as np

__all__ = ["AugmentConfig", "augment_batch", "crop_matrix"]


@dataclass
class AugmentConfig:
    """Augmentation settings (saved in the model folder).

    Attributes
    ----------
    crop : int
        Side of the square training crop, pixels (a multiple of 16).
    rotation_deg : float
        Rotations are uniform within +-rotation_deg.
    scale : (float, float)
        Log-uniform scale range.
    flip : float
        Probability of a horizontal flip (only applied when left/right pairs are known or
        ``flip_without_pairs``).
    flip_without_pairs : bool
    animal_crop : float
        Probability that the crop is centred near the labeled keypoints (else anywhere).
    brightness, contrast : float
        Additive brightness (fraction of 255) and multiplicative contrast ranges (+-).
    blur : float
        Probability of a Gaussian blur (sigma 0.5-2 px).
    occlusion : float
        Probability of one random box (8-25% of the crop side) painted over the frame.
    noise : float
        Std of additive Gaussian pixel noise (fraction of 255), drawn per frame within [0, noise].
    """

    crop: int = 256
    rotation_deg: float = 30.0
    scale: tuple = (0.8, 1.25)
    flip: float = 0.5
    flip_without_pairs: bool = False
    animal_crop: float = 0.85
    brightness: float = 0.2
    contrast: float = 0.3
    blur: float = 0.2
    occlusion: float = 0.3
    noise: float = 0.03

    def to_dict(self) -> dict:
        d = asdict(self)
        d["scale"] = list(self.scale)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> AugmentConfig:
        d = dict(d)
        d["scale"] = tuple(d.get("scale", (0.8, 1.25)))
        return cls(**d)


def crop_matrix(centre_xy, out_size: int, scale: float = 1.0, angle_deg: float = 0.0,
                flip: bool = False) -> np.ndarray:
    """The 2x3 affine map from source pixels to a square crop of side ``out_size``.

    The source point ``centre_xy`` lands at the crop centre; the source is scaled by
    ``scale``, rotated by ``angle_deg`` (counter-clockwise on screen) and optionally mirrored.

    Returns
    -------
    (2, 3) float64
    """
    a = np.deg2rad(angle_deg)
    c, s = np.cos(a), np.sin(a)
    lin = scale * np.array([[c, s], [-s, c]])
    if flip:
        lin = np.array([[-1.0, 0.0], [0.0, 1.0]]) @ lin
    half = (out_size - 1) / 2.0
    t = np.array([half, half]) - lin @ np.asarray(centre_xy, dtype=np.float64)
    return np.concatenate([lin, t[:, None]], axis=1)


def augment_batch(images: list, points2d: np.ndarray, cfg: AugmentConfig,
                  rng: np.random.Generator, pairs=()) -> tuple[np.ndarray, np.ndarray]:
    """Random training crops of labeled frames.

    Parameters
    ----------
    images : list of B (H, W, 3) uint8 RGB
    points2d : (B, J, 2) float64 pixels, NaN where unlabeled
    cfg : AugmentConfig
    rng : numpy Generator
    pairs : sequence of (int, int)
        Left/right partner joints swapped by a flip.

    Returns
    -------
    crops : (B, crop, crop, 3) uint8
    keypoints : (B, J, 2) float64 crop pixels, NaN where unlabeled or outside the crop
    """
    b, n = len(images), cfg.crop
    out = np.empty((b, n, n, 3), np.uint8)
    kps = np.full_like(points2d, np.nan, dtype=np.float64)
    lo, hi = np.log(cfg.scale[0]), np.log(cfg.scale[1])
    can_flip = bool(pairs) or cfg.flip_without_pairs
    for i, (img, p) in enumerate(zip(images, points2d, strict=True)):
        h, w = img.shape[:2]
        scale = float(np.exp(rng.uniform(lo, hi)))
        angle = float(rng.uniform(-cfg.rotation_deg, cfg.rotation_deg))
        flip = can_flip and rng.random() < cfg.flip
        ok = np.isfinite(p).all(axis=1)
        if ok.any() and rng.random() < cfg.animal_crop:
            lab = p[ok]
            centre = lab.mean(axis=0) + rng.uniform(-0.3, 0.3, 2) * n / scale
        else:
            centre = rng.uniform([0, 0], [w - 1, h - 1])
        m = crop_matrix(centre, n, scale, angle, flip)
        out[i] = cv2.warpAffine(img, m, (n, n), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
        q = p @ m[:, :2].T + m[:, 2]
        if flip:
            q = q.copy()
            for a, c in pairs:
                q[[a, c]] = q[[c, a]]
        inside = (q >= -0.5).all(axis=1) & (q <= n - 0.5).all(axis=1)
        q[~inside] = np.nan
        kps[i] = q
        if cfg.blur and rng.random() < cfg.blur:
            out[i] = cv2.GaussianBlur(out[i], (0, 0), float(rng.uniform(0.5, 2.0)))
        if cfg.occlusion and rng.random() < cfg.occlusion:
            bw, bh = (rng.uniform(0.08, 0.25, 2) * n).astype(int)
            x0, y0 = rng.integers(0, n - bw), rng.integers(0, n - bh)
            out[i, y0:y0 + bh, x0:x0 + bw] = rng.integers(0, 256, 3, dtype=np.uint8)
    # photometric, vectorised over the batch
    f = out.astype(np.float32)
    contrast = 1.0 + rng.uniform(-cfg.contrast, cfg.contrast, (b, 1, 1, 1))
    bright = rng.uniform(-cfg.brightness, cfg.brightness, (b, 1, 1, 1)) * 255.0
    mean = f.mean(axis=(1, 2, 3), keepdims=True)
    f = (f - mean) * contrast.astype(np.float32) + mean + bright.astype(np.float32)
    if cfg.noise:
        sd = rng.uniform(0, cfg.noise, (b, 1, 1, 1)).astype(np.float32) * 255.0
        f += rng.standard_normal(f.shape, np.float32) * sd
    np.clip(f, 0, 255, out=f)
    return f.astype(np.uint8), kps
