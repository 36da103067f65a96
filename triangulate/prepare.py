"""Per-chunk preparation of detections and evaluation of triangulated points.

Triangulation walks a recording in chunks of frames so that memory stays bounded: each chunk
is converted to float64, checked, thresholded, optionally median-filtered (with context from
the neighbouring frames) and undistorted here; after the solve, :func:`evaluate` measures
every view's pixel error with the full (distorted) camera model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._kernels import kernel_supported, undistort_pinhole
from .filters import median_filter_2d
from .validators import check_chunk

__all__ = ["Chunk", "prepare_chunk", "evaluate", "summarize", "chunk_bounds"]


@dataclass
class Chunk:
    """Detections of frames ``start:stop``, ready for the solvers.

    Attributes
    ----------
    pixels : (n_cams, n, n_joints, 2) float64 pixels; NaN where missing or below threshold
    weights : (n_cams, n, n_joints) float64 in [0, 1]; 0 where missing
    normalized : (n_cams, n, n_joints, 2) undistorted normalized coordinates
    start, stop : int
    """

    pixels: np.ndarray
    weights: np.ndarray
    normalized: np.ndarray
    start: int
    stop: int


def chunk_bounds(n_frames: int, chunk: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``range(n_frames)`` in steps of ``chunk``."""
    chunk = max(int(chunk), 1)
    return [(s, min(s + chunk, n_frames)) for s in range(0, n_frames, chunk)] or [(0, 0)]


def prepare_chunk(rig, points2d: np.ndarray, scores: np.ndarray | None, start: int,
                  stop: int, score_threshold: float = 0.0, median_filter: int = 0,
                  nonfinite: str = "missing", undistort: bool = True,
                  kernel: bool = False) -> Chunk:
    """Detections of frames ``start:stop`` as float64, masked, filtered and undistorted.

    Parameters
    ----------
    rig : CameraRig
    points2d : (n_cams, n_frames, n_joints, 2) pixels (float32 or float64)
    scores : (n_cams, n_frames, n_joints) in [0, 1], or None (every detection weighs 1)
    start, stop : int
        Frames of the chunk.
    score_threshold : float
        Detections scoring below it are dropped.
    median_filter : int
        Odd kernel (frames) of a running median on each camera's 2D track; 0 is off. Frames
        around the chunk give it context, so chunked and whole results agree.
    nonfinite : {"missing", "error"}
        How ``inf`` coordinates are treated.
    undistort : bool
        Compute ``normalized`` (else it is None: a fused kernel undistorts itself).
    kernel : bool
        Undistort with the compiled :func:`._kernels.undistort_pinhole` where the rig allows
        (same results as ``rig.undistort`` to ~1e-15).

    Returns
    -------
    Chunk
    """
    n_frames = points2d.shape[1]
    pad = median_filter // 2 if median_filter > 1 else 0
    lo, hi = max(start - pad, 0), min(stop + pad, n_frames)
    p = np.array(points2d[:, lo:hi], dtype=np.float64)
    s = None if scores is None else np.array(scores[:, lo:hi], dtype=np.float64)
    check_chunk(p, s, rig.names, start=lo, nonfinite=nonfinite)
    finite = np.isfinite(p[..., 0]) & np.isfinite(p[..., 1])  # .all(-1) is ~10x slower
    if s is None:
        w = finite.astype(np.float64)
    else:
        w = np.where(finite & np.isfinite(s), s, 0.0)
        w[w < score_threshold] = 0.0
    p[w <= 0] = np.nan
    if pad:
        p = median_filter_2d(p, median_filter)
        w[~(np.isfinite(p[..., 0]) & np.isfinite(p[..., 1]))] = 0.0
    p, w = p[:, start - lo:stop - lo], w[:, start - lo:stop - lo]
    if not undistort:
        return Chunk(pixels=p, weights=w, normalized=None, start=start, stop=stop)
    if not p.size:
        u = np.zeros_like(p)
    elif kernel and kernel_supported(rig):
        u = undistort_pinhole(rig, p)
    else:
        u = rig.undistort(p)
    w[~(np.isfinite(u[..., 0]) & np.isfinite(u[..., 1]))] = 0.0
    return Chunk(pixels=p, weights=w, normalized=u, start=start, stop=stop)


def evaluate(rig, X: np.ndarray, pixels: np.ndarray, weights: np.ndarray,
             used: np.ndarray, proj: np.ndarray | None = None):
    """Pixel errors of every view and per-point summaries.

    Parameters
    ----------
    rig : CameraRig
    X : (n, n_joints, 3) rig units (NaN where not triangulated)
    pixels : (n_cams, n, n_joints, 2)
    weights : (n_cams, n, n_joints)
    used : (n_cams, n, n_joints) bool
        Views that entered each point.
    proj : (n_cams, n, n_joints, 2) pixels, optional
        ``rig.project(X)`` where ``X`` is finite, if already computed.

    Returns
    -------
    camera_errors : (n_cams, n, n_joints) float32 pixels; NaN where the view is missing or
        the point is not triangulated
    reprojection_error : (n, n_joints) pixels, mean over the used views
    n_cams : (n, n_joints) int16, used views (0 where ``X`` is NaN)
    score : (n, n_joints) float32, lowest weight among the used views (NaN where none)
    """
    finite = np.isfinite(X[..., 0]) & np.isfinite(X[..., 1]) & np.isfinite(X[..., 2])
    used = used & finite[None]
    if proj is None:
        proj = rig.project(np.where(finite[..., None], X, 0.0))
    err = np.linalg.norm(proj - pixels, axis=-1)
    err[~(finite[None] & (weights > 0))] = np.nan
    return summarize(err, used, weights)


def summarize(err: np.ndarray, used: np.ndarray, weights: np.ndarray):
    """Per-point summaries of per-view errors (see :func:`evaluate`)."""
    n_used = used.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        reproj = np.where(used, err, 0.0).sum(0) / n_used
        score = np.where(used, weights, np.inf).min(0)
    reproj[n_used == 0] = np.nan
    score[n_used == 0] = np.nan
    return (err.astype(np.float32), reproj, n_used.astype(np.int16),
            score.astype(np.float32))
