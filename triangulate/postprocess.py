"""Post steps on 3D results: gap filling, low-pass and axis alignment, for every individual.

:func:`filter_points` works on the arrays; :func:`filter_poses` on the pose data model, where
it also keeps the per-point quality honest (a filter's output is never reported with the
errors of the points it replaced): interpolated points have no views (``ncams`` 0, error,
score and sigma NaN), moved points an unknown error and sigma (NaN) since no detections are
at hand (``triangulate_views`` measures them again when it has the 2D), removed points
nothing. Alignment is one rigid transform of the whole scene, taken from all individuals'
points together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from poses import Poses
from poses.errors import InputError

from .align import alignment_transform, check_alignment
from .filters import check_lowpass
from .filters import fill_gaps as _fill
from .filters import lowpass as _lowpass

__all__ = ["filter_points", "filter_poses", "needs_filtering", "check_post_steps"]


def needs_filtering(fill_gaps: int = 0, lowpass_hz: float | None = None, axes=None,
                    reference_point: str | None = None) -> bool:
    """Whether any post step is on."""
    return bool(fill_gaps or lowpass_hz or axes or reference_point)


def check_post_steps(keypoints: Sequence[str], fill_gaps: int = 0,
                     lowpass_hz: float | None = None, fps: float | None = None,
                     axes: Sequence[Sequence[str]] | None = None,
                     reference_point: str | None = None) -> None:
    """Refuse post-step options that would fail after the expensive work (check them first).

    Raises
    ------
    InputError
        A negative gap length, a low-pass cutoff without a frame rate or above ``fps / 2``,
        or alignment options naming unknown bodyparts.
    """
    if fill_gaps and (int(fill_gaps) != fill_gaps or fill_gaps < 0):
        raise InputError(f"fill_gaps (gap filling) takes a number of frames >= 0, got {fill_gaps}")
    if lowpass_hz:
        if fps is None:
            raise InputError("the low-pass filter needs the frame rate; pass --fps (or set "
                             "the project's fps)")
        check_lowpass(lowpass_hz, fps)
    check_alignment(keypoints, axes, reference_point)


def filter_points(points3d: np.ndarray, keypoints: Sequence[str], n_individuals: int = 1,
                  fill_gaps: int = 0, lowpass_hz: float | None = None,
                  fps: float | None = None, axes: Sequence[Sequence[str]] | None = None,
                  reference_point: str | None = None) -> np.ndarray:
    """Gap filling, then low-pass, then alignment.

    Parameters
    ----------
    points3d : (n_frames, n_individuals * n_keypoints, 3) rig units
        Individuals folded into the joint axis, one after the other.
    keypoints : sequence of n_keypoints str
    n_individuals : int
    fill_gaps : int
        Interpolate interior gaps up to this many frames (0 off).
    lowpass_hz : float, optional
        Zero-phase Butterworth cutoff, Hz (needs ``fps``).
    fps : float, optional
        Frame rate, Hz.
    axes, reference_point :
        See :func:`triangulate.align.alignment_transform`.

    Returns
    -------
    (n_frames, n_individuals * n_keypoints, 3) rig units
    """
    X = np.asarray(points3d, dtype=np.float64)
    if fill_gaps:
        X = _fill(X, fill_gaps)
    if lowpass_hz:
        if fps is None:
            raise InputError("the low-pass filter needs the frame rate; pass --fps (or set "
                             "the project's fps)")
        X = _lowpass(X, lowpass_hz, fps)
    if axes or reference_point:
        n_kp = len(keypoints)
        pooled = X.reshape(X.shape[0], n_individuals, n_kp, 3).reshape(-1, n_kp, 3)
        M, origin = alignment_transform(pooled, keypoints, axes, reference_point)
        X = (X - origin) @ M.T
    return X


def filter_poses(poses: Poses, fill_gaps: int = 0, lowpass_hz: float | None = None,
                 fps: float | None = None, axes: Sequence[Sequence[str]] | None = None,
                 reference_point: str | None = None) -> Poses:
    """:func:`filter_points` on 3D poses, with quality that fits the new points.

    Parameters
    ----------
    poses : Poses
        3D, ``(n_frames, n_individuals, n_keypoints, 3)``.
    fps : float, optional
        Default ``poses.fps``.

    Returns
    -------
    Poses
        A new object; ``poses`` is unchanged. Unchanged points keep their quality.
    """
    if not poses.is_3d:
        raise InputError(f"{poses.source_file or 'poses'}: 3D filters need 3D points, got 2D")
    if not needs_filtering(fill_gaps, lowpass_hz, axes, reference_point):
        return poses
    n_f, n_i, n_k, _ = poses.position.shape
    X = filter_points(poses.position.reshape(n_f, n_i * n_k, 3), poses.keypoints, n_i,
                      fill_gaps, lowpass_hz, fps if fps is not None else poses.fps, axes,
                      reference_point).reshape(n_f, n_i, n_k, 3)
    old = np.isfinite(poses.position).all(-1)
    new = np.isfinite(X).all(-1)
    with np.errstate(invalid="ignore"):
        same = old & new & (X == poses.position).all(-1)
    kept = old & new
    quality = {}
    for key, arr in poses.quality.items():
        if key == "ncams":
            quality[key] = np.where(kept, arr, 0.0)
        else:  # error, sigma and anything else measured on the old points
            quality[key] = np.where(same, arr, np.nan)
    conf = np.where(kept, poses.confidence, np.nan)
    return poses.replace(position=X, confidence=conf, quality=quality)
