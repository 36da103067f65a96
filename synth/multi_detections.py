"""Simulated multi-animal detector output: instances per camera, without or with identity.

What a bottom-up or top-down multi-animal network (DeepLabCut, SLEAP) gives for every frame of
every camera: a set of instances (a partial skeleton with confidences), in an order that means
nothing unless the network was trained for identity. Degraded from the ground truth with

- pixel noise on visible keypoints; occluded ones dropped or guessed with low confidence;
- whole animals missed now and then, or when too little of them is visible;
- keypoints taken from another animal where two animals touch in the image (confident);
- false-positive instances: plausible mouse shapes where there is no mouse, lasting a few
  frames (reflections, the experimenter's glove ...);
- slot order: shuffled every frame (no identity), or, with ``identity=True``, each animal in
  its own slot except for bursts where two animals' labels are exchanged in one camera.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["MultiDetections", "simulate_multi_detections"]


@dataclass
class MultiDetections:
    """Detector output with what was done to it.

    Attributes
    ----------
    points2d : (n_cams, n_frames, n_slots, n_keypoints, 2) pixels, NaN where not detected
    scores : (n_cams, n_frames, n_slots, n_keypoints) in [0, 1], 0 where not detected
    truth : (n_cams, n_frames, n_slots) int
        The animal an instance belongs to; -1 for false positives and empty slots.
    false_positive : (n_cams, n_frames, n_slots) bool
    swapped : (n_cams, n_frames, n_slots, n_keypoints) bool
        Keypoints taken from another animal.
    slot_names : list of n_slots str
        ``ind1 ...`` (no identity) or the animals' names then ``unknown1 ...``.
    label_swapped : (n_cams, n_frames, n_slots) bool
        Identity mode: the instance sits in another animal's slot.
    """

    points2d: np.ndarray
    scores: np.ndarray
    truth: np.ndarray
    false_positive: np.ndarray
    swapped: np.ndarray
    slot_names: list[str]
    label_swapped: np.ndarray


def _bursts(rng, n: int, p_start: float, lo: int, hi: int) -> list[tuple[int, int]]:
    """Start and stop frames of bursts starting with probability ``p_start`` per frame."""
    starts = np.flatnonzero(rng.random(n) < p_start)
    return [(int(s), int(min(n, s + rng.integers(lo, hi + 1)))) for s in starts]


def simulate_multi_detections(truth2d: np.ndarray, visible: np.ndarray,
                              image_size: tuple[int, int], rng: np.random.Generator,
                              noise_px: float = 1.0, false_positive_rate: float = 0.05,
                              miss_rate: float = 0.02, touch_swap_rate: float = 0.08,
                              identity: bool = False, identity_swap_rate: float = 0.02,
                              names: list[str] | None = None,
                              extra_slots: int = 2) -> MultiDetections:
    """Degrade exact projections of several animals into multi-animal detector output.

    Parameters
    ----------
    truth2d : (n_cams, n_frames, n_animals, n_keypoints, 2) pixels
        Exact projections.
    visible : (n_cams, n_frames, n_animals, n_keypoints) bool
        In the image and not hidden.
    image_size : (width, height) pixels
    rng : numpy Generator
    noise_px : float
        Pixel noise (std) of visible keypoints (10% get twice that).
    false_positive_rate : float
        False-positive instances as a fraction of all instances.
    miss_rate : float
        Fraction of visible animals not detected at all in a frame.
    touch_swap_rate : float
        Where two animals' boxes overlap in an image, the chance that a visible keypoint is
        taken from the other one.
    identity : bool
        Instances in their animal's slot (``names``) instead of shuffled.
    identity_swap_rate : float
        Identity mode: fraction of instances whose label is another animal's (in bursts of
        5-30 frames of one camera).
    names : list of n_animals str, optional
        Default ``mouse1 ...``.
    extra_slots : int
        Slots beyond the animals for false positives.

    Returns
    -------
    MultiDetections
    """
    t = np.asarray(truth2d, float)
    vis = np.asarray(visible, bool)
    n_cams, n_frames, n_ani, n_kp, _ = t.shape
    names = list(names) if names is not None else [f"mouse{k + 1}" for k in range(n_ani)]
    n_slots = n_ani + int(extra_slots)
    w, h = image_size
    with np.errstate(invalid="ignore"):
        inside = (t[..., 0] >= 0) & (t[..., 0] <= w - 1) & (t[..., 1] >= 0) & (t[..., 1] <= h - 1)
    occluded = inside & ~vis

    sigma = np.where(rng.random(vis.shape) < 0.1, 2.0, 1.0) * noise_px
    pts = t + rng.normal(0.0, 1.0, t.shape) * sigma[..., None]
    scores = np.clip(rng.beta(12, 1.2, vis.shape), 0, 1)
    guess = occluded & (rng.random(vis.shape) < 0.5)
    pts = np.where(guess[..., None], t + rng.normal(0, 4.0 * max(noise_px, 0.5), t.shape), pts)
    scores = np.where(guess, rng.uniform(0.02, 0.45, vis.shape), scores)
    keep = vis | guess

    # keypoints of touching animals: boxes (with a margin) overlapping in the image
    swapped = np.zeros(vis.shape, bool)
    if n_ani > 1:
        tv = np.where(vis[..., None], t, np.nan)
        with warnings.catch_warnings():  # animals with nothing visible: NaN boxes, no touch
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanmin(tv, axis=3), np.nanmax(tv, axis=3)  # (c, f, a, 2)
        for a in range(n_ani):
            for b in range(n_ani):
                if a == b:
                    continue
                with np.errstate(invalid="ignore"):
                    touch = ((lo[:, :, a] - 5 < hi[:, :, b]) & (lo[:, :, b] - 5 < hi[:, :, a])
                             ).all(-1)
                take = touch[..., None] & vis[:, :, a] & vis[:, :, b] & (
                    rng.random((n_cams, n_frames, n_kp)) < touch_swap_rate)
                take &= ~swapped[:, :, b]
                pts[:, :, a] = np.where(take[..., None], t[:, :, b] + rng.normal(
                    0, noise_px, (n_cams, n_frames, n_kp, 2)), pts[:, :, a])
                swapped[:, :, a] |= take
    detected = (vis.sum(-1) >= 3) & (rng.random((n_cams, n_frames, n_ani)) >= miss_rate)
    keep &= detected[..., None]

    P = np.full((n_cams, n_frames, n_slots, n_kp, 2), np.nan)
    S = np.zeros((n_cams, n_frames, n_slots, n_kp))
    truth = np.full((n_cams, n_frames, n_slots), -1)
    fp = np.zeros((n_cams, n_frames, n_slots), bool)
    sw = np.zeros((n_cams, n_frames, n_slots, n_kp), bool)
    label_swapped = np.zeros((n_cams, n_frames, n_slots), bool)
    P[:, :, :n_ani] = np.where(keep[..., None], pts, np.nan)
    S[:, :, :n_ani] = np.where(keep, scores, 0.0)
    truth[:, :, :n_ani] = np.where(detected, np.arange(n_ani), -1)
    sw[:, :, :n_ani] = swapped & keep

    # false positives: a mouse's shape from elsewhere in the recording, moved, for a few frames
    mean_len = 5.5
    p_fp = false_positive_rate * n_ani / max(1e-9, (1 - false_positive_rate)) / mean_len
    for c in range(n_cams):
        bursts = _bursts(rng, n_frames, p_fp, 1, 10)  # drawn even without slots for them
        for slot_i, (s, e) in enumerate(bursts if extra_slots else ()):
            slot = n_ani + slot_i % extra_slots
            free = truth[c, s:e, slot] < 0
            src_f, src_a = rng.integers(n_frames), rng.integers(n_ani)
            shape = t[c, src_f, src_a]
            if not np.isfinite(shape).all():
                continue
            shape = shape - np.nanmean(shape, axis=0)
            centre = rng.uniform([0.15 * w, 0.15 * h], [0.85 * w, 0.85 * h])
            sub = rng.random(n_kp) < rng.uniform(0.4, 1.0)
            jitter = rng.normal(0, noise_px, (e - s, n_kp, 2))
            fpp = np.where(sub[:, None], centre + shape + jitter, np.nan)
            P[c, s:e, slot] = np.where(free[:, None, None], fpp, P[c, s:e, slot])
            S[c, s:e, slot] = np.where(free[:, None] & sub, rng.uniform(0.5, 0.9, (e - s, n_kp)),
                                       S[c, s:e, slot])
            fp[c, s:e, slot] |= free

    if identity:
        slot_names = names + [f"unknown{j + 1}" for j in range(n_slots - n_ani)]
        if n_ani > 1:
            p_sw = identity_swap_rate * n_ani / 2 / 17.5
            for c in range(n_cams):
                for s, e in _bursts(rng, n_frames, p_sw, 5, 30):
                    a, b = rng.choice(n_ani, 2, replace=False)
                    for arr in (P, S, truth, fp, sw):
                        arr[c, s:e, [a, b]] = arr[c, s:e, [b, a]]
                    label_swapped[c, s:e, [a, b]] = True
    else:
        slot_names = [f"ind{j + 1}" for j in range(n_slots)]
        order = np.argsort(rng.random((n_cams, n_frames, n_slots)), axis=-1)
        P = np.take_along_axis(P, order[..., None, None], axis=2)
        S = np.take_along_axis(S, order[..., None], axis=2)
        truth = np.take_along_axis(truth, order, axis=2)
        fp = np.take_along_axis(fp, order, axis=2)
        sw = np.take_along_axis(sw, order[..., None], axis=2)
    return MultiDetections(points2d=P, scores=S, truth=truth, false_positive=fp, swapped=sw,
                           slot_names=slot_names, label_swapped=label_swapped)
