"""Targets, decoding and augmentation agree on where a keypoint is."""

from __future__ import annotations

import numpy as np
import torch

from pose2d.augment import AugmentConfig, augment_batch, crop_matrix
from pose2d.model import decode
from pose2d.targets import make_targets, pose_loss


def test_targets_decode_to_the_keypoint():
    rng = np.random.default_rng(0)
    kp = rng.uniform(5, 59, (3, 2, 2))
    kp[1, 1] = np.nan
    score, locref, mask = make_targets(kp, (16, 16), 4, sigma=3.0, radius=8.0, locref_scale=7.2)
    assert score.shape == (3, 2, 16, 16) and locref.shape == (3, 4, 16, 16)
    assert score[1, 1].max() == 0 and mask[1, 1].sum() == 0
    logits = torch.logit(torch.from_numpy(score).clamp(1e-6, 1 - 1e-6))
    xy, conf = decode(logits, torch.from_numpy(locref), 7.2, 4)
    ok = np.isfinite(kp).all(axis=2)
    np.testing.assert_allclose(xy.numpy()[ok], kp[ok], atol=1e-4)
    assert (conf.numpy()[ok] > 0.6).all()  # nearest cell within 2.83 px, sigma 3


def test_loss_is_lower_for_the_target():
    kp = np.array([[[20.0, 30.0]]])
    s, l_, m = (torch.from_numpy(a) for a in make_targets(kp, (16, 16), 4, 3.0, 8.0, 7.2))
    good, _ = pose_loss(torch.logit(s.clamp(1e-4, 1 - 1e-4)), l_, s, l_, m, 3.0)
    bad, _ = pose_loss(torch.zeros_like(s), torch.zeros_like(l_), s, l_, m, 3.0)
    assert float(good) < float(bad)


def test_crop_matrix_maps_centre_to_crop_centre():
    m = crop_matrix((100.0, 50.0), 64, scale=1.5, angle_deg=33.0, flip=True)
    np.testing.assert_allclose(m[:, :2] @ [100.0, 50.0] + m[:, 2], [31.5, 31.5])


def test_augmented_keypoints_follow_the_pixels():
    rng = np.random.default_rng(1)
    img = np.zeros((80, 96, 3), np.uint8)
    kp = np.array([[30.0, 20.0], [60.0, 50.0]])
    img[20, 30] = (255, 0, 0)
    img[50, 60] = (0, 255, 0)
    cfg = AugmentConfig(crop=64, blur=0, occlusion=0, noise=0, brightness=0, contrast=0,
                        animal_crop=1.0, flip=1.0, scale=(1.0, 1.0))
    for _ in range(5):
        crops, out = augment_batch([img], kp[None], cfg, rng, pairs=[(0, 1)])
        for j, ch in ((1, 0), (0, 1)):  # flipped: joint 0 now holds the green pixel
            if np.isfinite(out[0, j]).all():
                yx = np.unravel_index(np.argmax(crops[0, :, :, ch]), crops.shape[1:3])
                assert np.hypot(yx[1] - out[0, j, 0], yx[0] - out[0, j, 1]) < 1.5
