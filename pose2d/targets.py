"""Scoremap and location-refinement targets (vectorised numpy) and the training loss.

For a keypoint ``k`` and a cell centred on ``g`` (see :func:`pose2d.model.cell_centres`):

- scoremap target ``exp(-|k - g|^2 / (2 sigma^2))`` (a soft Gaussian; 0 for unlabeled joints);
- locref target ``(k - g) / locref_scale``, weighted only where ``|k - g| <= radius``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["make_targets", "pose_loss"]


def make_targets(keypoints: np.ndarray, out_hw: tuple[int, int], stride: int, sigma: float,
                 radius: float, locref_scale: float):
    """Targets for a batch of keypoints.

    Parameters
    ----------
    keypoints : (B, J, 2) float pixels in the network input, NaN where unlabeled
    out_hw : (h, w) of the output maps
    stride : int
    sigma : float
        Gaussian width of the scoremap target, pixels.
    radius : float
        Cells within this distance (pixels) get a locref target.
    locref_scale : float
        Pixels per locref unit.

    Returns
    -------
    score : (B, J, h, w) float32 in [0, 1]
    locref : (B, 2J, h, w) float32 (x then y per joint)
    mask : (B, J, h, w) float32, 1 where the locref target applies
    """
    kp = np.asarray(keypoints, dtype=np.float32)
    b, j = kp.shape[:2]
    h, w = out_hw
    gx = np.arange(w, dtype=np.float32) * stride + (stride - 1) / 2.0
    gy = np.arange(h, dtype=np.float32) * stride + (stride - 1) / 2.0
    valid = np.isfinite(kp).all(axis=2)  # (B, J)
    k = np.where(valid[..., None], kp, -1e4)
    dx = k[:, :, 0, None, None] - gx[None, None, None, :]  # (B, J, 1, w)
    dy = k[:, :, 1, None, None] - gy[None, None, :, None]  # (B, J, h, 1)
    d2 = dx * dx + dy * dy  # (B, J, h, w)
    score = np.exp(-d2 / (2.0 * sigma * sigma)).astype(np.float32)
    mask = (d2 <= radius * radius).astype(np.float32)
    locref = np.empty((b, j, 2, h, w), np.float32)
    locref[:, :, 0] = np.broadcast_to(dx / locref_scale, (b, j, h, w))
    locref[:, :, 1] = np.broadcast_to(dy / locref_scale, (b, j, h, w))
    return score, locref.reshape(b, 2 * j, h, w), mask


def pose_loss(pred_score: torch.Tensor, pred_locref: torch.Tensor, score: torch.Tensor,
              locref: torch.Tensor, mask: torch.Tensor, norm: float,
              locref_weight: float = 1.0) -> tuple[torch.Tensor, dict]:
    """Sigmoid cross-entropy on scoremaps plus Huber loss on location refinement.

    Parameters
    ----------
    pred_score, score : (B, J, h, w) logits and targets
    pred_locref, locref : (B, 2J, h, w)
    mask : (B, J, h, w)
    norm : float
        Scoremap loss normaliser (about the number of cells under a target peak).
    locref_weight : float

    Returns
    -------
    loss : scalar tensor
    parts : dict of floats ``{"score": ..., "locref": ...}``
    """
    bce = F.binary_cross_entropy_with_logits(pred_score.float(), score, reduction="none")
    l_score = bce.sum(dim=(2, 3)).mean() / norm
    b, j, h, w = mask.shape
    diff = F.smooth_l1_loss(pred_locref.float(), locref, reduction="none", beta=0.5)
    diff = diff.reshape(b, j, 2, h, w).sum(dim=2) * mask
    l_loc = diff.sum() / mask.sum().clamp_min(1.0)
    loss = l_score + locref_weight * l_loc
    return loss, {"score": float(l_score.detach()), "locref": float(l_loc.detach())}
