"""Keypoint errors as DeepLabCut reports them, and predictions on labeled frames.

DeepLabCut's "RMSE" is the mean over labeled keypoints and frames of the Euclidean distance
between prediction and label (pixels); with a p-cutoff, predictions whose likelihood is below
the cutoff are left out of the mean.
"""

from __future__ import annotations

import numpy as np

__all__ = ["keypoint_errors", "error_summary", "predict_frames", "PCK_THRESHOLDS_PX"]

PCK_THRESHOLDS_PX = (2.0, 5.0, 10.0)


def keypoint_errors(pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Euclidean errors ``(n_frames, n_joints)`` pixels; NaN where the label is missing."""
    return np.linalg.norm(np.asarray(pred, float) - np.asarray(labels, float), axis=-1)


def _mean(a: np.ndarray) -> float | None:
    a = a[np.isfinite(a)]
    return float(a.mean()) if a.size else None


def error_summary(pred: np.ndarray, conf: np.ndarray, labels: np.ndarray, pcutoff: float,
                  bodyparts: list[str]) -> dict:
    """DeepLabCut's RMSE with and without a p-cutoff, per bodypart, and PCK.

    Parameters
    ----------
    pred : (n_frames, n_joints, 2) pixels
    conf : (n_frames, n_joints) in [0, 1]
    labels : (n_frames, n_joints, 2) pixels, NaN where unlabeled
    pcutoff : float
    bodyparts : list of n_joints str

    Returns
    -------
    dict
        ``rmse_px``, ``rmse_pcutoff_px``, ``n_keypoints``, ``pck`` (``{"2px": fraction, ...}``),
        ``per_bodypart`` (same keys per bodypart).
    """
    err = keypoint_errors(pred, labels)
    cut = np.where(np.asarray(conf) >= pcutoff, err, np.nan)

    def block(e, c):
        n = int(np.isfinite(e).sum())
        return {"rmse_px": _mean(e), "rmse_pcutoff_px": _mean(c), "n_keypoints": n,
                "pck": {f"{t:g}px": (float((e[np.isfinite(e)] <= t).mean()) if n else None)
                        for t in PCK_THRESHOLDS_PX}}

    out = block(err, cut)
    out["per_bodypart"] = {bp: block(err[:, j], cut[:, j]) for j, bp in enumerate(bodyparts)}
    return out


def predict_frames(predictor, images: list, batch_size: int = 8):
    """Predictions for a list of frames (sizes may differ; equal sizes are batched).

    Returns
    -------
    xy : (n, J, 2) float64 pixels
    conf : (n, J) float64
    """
    n = len(images)
    xy, conf = [None] * n, [None] * n
    by_shape: dict = {}
    for i, im in enumerate(images):
        by_shape.setdefault(im.shape, []).append(i)
    for idx in by_shape.values():
        for s in range(0, len(idx), batch_size):
            chunk = idx[s:s + batch_size]
            p, c = predictor(np.stack([images[i] for i in chunk]))
            for k, i in enumerate(chunk):
                xy[i], conf[i] = p[k], c[k]
    return np.asarray(xy), np.asarray(conf)
