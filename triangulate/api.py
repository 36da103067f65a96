"""``triangulate()``: 2D detections of a calibrated rig to 3D points (the result type is in
:mod:`.result`, the methods in :mod:`.methods`).

>>> res = triangulate(rig, points2d, scores, method="ransac")  # doctest: +SKIP
>>> res.points3d.shape  # (n_frames, n_joints, 3) rig units  # doctest: +SKIP
"""

from __future__ import annotations

import logging

import numpy as np

from calibration.errors import InputError

from .methods import METHODS, method_defaults
from .result import Triangulation, _finite3
from .validators import check_choice, check_points2d, check_range, check_scores

__all__ = ["Triangulation", "triangulate", "DEFAULTS"]

log = logging.getLogger(__name__)

#: Default options of :func:`triangulate`.
DEFAULTS = {
    "score_threshold": 0.5,
    "reproj_threshold": 10.0,
    "median_filter": 0,
    "max_pairs": 28,
    "rng": 0,
    "chunk_points": 100_000,
    "nonfinite": "missing",
    "skeleton": None,
    "kernel": True,
}


def _options(method: str, options: dict) -> dict:
    extra = method_defaults(method)
    known = set(DEFAULTS) | set(extra)
    opts = {**DEFAULTS, **extra}
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(f"unknown option(s) {unknown} for method {method!r}; "
                         f"known: {sorted(known)}")
    opts.update(options)
    check_range(opts["score_threshold"], "score_threshold", 0.0, 1.0)
    check_range(opts["reproj_threshold"], "reproj_threshold", 0.0, low_open=True)
    mf = check_range(opts["median_filter"], "median_filter", 0, integer=True)
    if mf > 1 and mf % 2 == 0:
        raise InputError(f"median_filter must be 0 (off) or an odd number of frames, got {mf}")
    check_range(opts["max_pairs"], "max_pairs", 1, integer=True)
    check_range(opts["chunk_points"], "chunk_points", 1, integer=True)
    check_choice(opts["nonfinite"], ("missing", "error"), "nonfinite")
    return opts


def triangulate(rig, points2d, scores=None, method: str = "dlt", **options) -> Triangulation:
    """Triangulate 2D detections of a calibrated rig.

    Parameters
    ----------
    rig : CameraRig
        Its camera order is the ``n_cams`` axis of ``points2d``.
    points2d : (n_cams, n_frames, n_joints, 2) pixels
        Float32 or float64; NaN (or inf) where missing. Origin at the top-left pixel centre.
    scores : (n_cams, n_frames, n_joints) in [0, 1], optional
        Detection confidences; they weight the views and are thresholded. ``None`` weighs
        every finite detection 1.
    method : {"dlt", "ransac", "optim"}
        ``dlt``: confidence-weighted linear triangulation of all views (depth-reweighted
        towards the pixel error); ``ransac``: per point, the views that agree best (inliers
        within ``reproj_threshold``), refit; ``optim``: robust reprojection error plus temporal
        smoothness and limb-length terms over whole tracks (:mod:`.optimize`).
    **options
        ``score_threshold`` (0.5): detections scoring lower are dropped.
        ``reproj_threshold`` (10 px): RANSAC inlier threshold and optim's robust scale.
        ``median_filter`` (0): odd window (frames) of a 2D running median, 0 off.
        ``max_pairs`` (28): RANSAC tries all camera pairs up to this many, else samples.
        ``rng`` (0): seed or Generator of the sampled pairs.
        ``chunk_points`` (100000): points per chunk (memory bound).
        ``nonfinite`` ("missing"): ``inf`` coordinates are missing, or ``"error"``.
        ``kernel`` (True): on pinhole rigs (no tilt) with numba present, dlt runs the fused
        compiled kernel of :mod:`._dlt_kernel`, ransac its compiled undistortion, pair
        solves and view errors (:mod:`._kernels`), and optim its compiled cost, normal
        equations, conjugate gradients and uncertainty (:mod:`._optim_kernels`); same
        results as the numpy paths (``kernel=False``) to rounding.
        ``skeleton`` (None): a :class:`~poses.skeleton.Skeleton` whose bodyparts are the
        joints; optim uses its limbs (others ignore it).
        optim's own options are listed in :data:`triangulate.optimize.OPTIM_DEFAULTS`.

    Returns
    -------
    Triangulation
        ``points3d (n_frames, n_joints, 3)`` in ``rig.units``, per-point error, cameras used,
        score, and for optim ``uncertainty``. A point seen by fewer than 2 usable views is
        NaN with ``n_cams`` 0.

    Raises
    ------
    InputError
        Bad shapes, scores outside [0, 1], unknown method or option.
    """
    check_choice(method, list(METHODS), "method")
    p = check_points2d(points2d, rig.n_cams, rig.names)
    n_cams, n_frames, n_joints, _ = p.shape
    s = check_scores(scores, (n_cams, n_frames, n_joints))
    opts = _options(method, options)
    result = METHODS[method](rig, p, s, opts)
    _check_cameras(result)
    return result


def _check_cameras(result: Triangulation) -> None:
    """Log (and record) cameras that disagree with the rest and points left NaN."""
    flagged = result.disagreeing_cameras()
    rep = {r["camera"]: r for r in result.camera_report()} if flagged else {}
    for name in flagged:
        others = [r["median_error"] for n, r in rep.items() if n != name]
        msg = (f"camera {name!r} disagrees with the other cameras: median reprojection error "
               f"{rep[name]['median_error']:.1f} px against {np.nanmedian(others):.1f} px for "
               f"the others; {1 - rep[name]['used']:.0%} of its detections were "
               f"{'rejected' if result.method != 'dlt' else 'poorly fit'}. Its calibration "
               f"entry (or its synchronization or camera naming) is probably wrong.")
        result.warnings.append(msg)
        log.warning(msg)
    ok = _finite3(result.points3d)
    if ok.size and not ok.any():
        msg = "no point could be triangulated (every joint seen by fewer than 2 usable views)"
        result.warnings.append(msg)
        log.warning(msg)
