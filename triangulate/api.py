"""``triangulate()``: 2D detections of a calibrated rig to 3D points, and its result type.

>>> res = triangulate(rig, points2d, scores, method="ransac")  # doctest: +SKIP
>>> res.points3d.shape  # (n_frames, n_joints, 3) rig units  # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from calibration.errors import InputError

from ._dlt_kernel import dlt_fused
from ._kernels import kernel_supported
from .dlt import rig_arrays, triangulate_dlt
from .prepare import chunk_bounds, evaluate, prepare_chunk
from .ransac import triangulate_ransac
from .validators import (
    METHODS,
    check_choice,
    check_chunk,
    check_points2d,
    check_range,
    check_scores,
)

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


@dataclass
class Triangulation:
    """3D points and their per-point quality.

    Attributes
    ----------
    points3d : (n_frames, n_joints, 3) float64, rig units; NaN where not triangulated
    reprojection_error : (n_frames, n_joints) pixels
        Mean distance between the used detections and the point's projections.
    n_cams : (n_frames, n_joints) int16
        Views used (0 where the point is NaN).
    score : (n_frames, n_joints) float32
        Lowest detection score among the used views (as anipose).
    inliers : (n_cams, n_frames, n_joints) bool
        Which views were used.
    camera_errors : (n_cams, n_frames, n_joints) float32 pixels
        Error of every valid detection (used or not) against the 3D point.
    uncertainty : (n_frames, n_joints) float64 or None
        Standard deviation of the 3D point (rig units, RMS over x, y, z) from the solver's
        normal equations (``method="optim"``).
    camera_names : list of str
    units : str
    method : str
    options : dict
        Options used (defaults filled in).
    warnings : list of str
        Problems found in the data (e.g. a camera that disagrees with the others).
    extra : dict
        Method-specific outputs (optim: ``limb_lengths``, ``iterations``).
    """

    points3d: np.ndarray
    reprojection_error: np.ndarray
    n_cams: np.ndarray
    score: np.ndarray
    inliers: np.ndarray
    camera_errors: np.ndarray
    camera_names: list[str]
    units: str
    method: str
    options: dict = field(default_factory=dict)
    uncertainty: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)
    _report: list | None = field(default=None, repr=False, compare=False)

    @property
    def n_frames(self) -> int:
        """Number of frames."""
        return self.points3d.shape[0]

    @property
    def n_joints(self) -> int:
        """Number of joints."""
        return self.points3d.shape[1]

    def camera_report(self) -> list[dict]:
        """Per camera: detections, fraction used and median errors (pixels).

        Returns
        -------
        list of dict
            Keys ``camera``, ``detections`` (valid ones at triangulated points), ``used``
            (fraction), ``median_error`` (all its detections), ``median_error_used``. Medians
            of long recordings are taken over an evenly strided sample of 200000 detections.
        """
        if self._report is not None:
            return self._report
        out = []
        for c, name in enumerate(self.camera_names):
            err = self.camera_errors[c].ravel()
            e, u = _report_sample(err), _report_sample(self.inliers[c].ravel())
            valid = np.isfinite(e)
            n = int(np.isfinite(err).sum())
            used = u & valid
            out.append({
                "camera": name,
                "detections": n,
                "used": float(used.sum() / valid.sum()) if valid.any() else float("nan"),
                "median_error": _median(e[valid]) if valid.any() else float("nan"),
                "median_error_used": _median(e[used]) if used.any() else float("nan"),
            })
        self._report = out
        return out

    def disagreeing_cameras(self, factor: float = 3.0, min_error: float | None = None) -> list:
        """Cameras whose detections disagree with the 3D points of the others.

        A camera is flagged when the median error of its detections exceeds both
        ``min_error`` (default: twice the inlier threshold) and ``factor`` times the median of
        the other cameras' median errors (robust methods leave a wrong camera out, so the
        others fit well and the wrong one does not). Twice the threshold keeps a merely
        less accurate camera of a 3-camera rig (whose two others always agree) unflagged.

        Returns
        -------
        list of str
        """
        if min_error is None:
            min_error = 2.0 * float(self.options.get("reproj_threshold", 10.0))
        if not self._may_exceed(min_error):
            return []
        rep = self.camera_report()
        med = np.array([r["median_error"] for r in rep])
        flagged = []
        for c, r in enumerate(rep):
            others = np.delete(med, c)
            others = others[np.isfinite(others)]
            if not np.isfinite(med[c]) or others.size == 0:
                continue
            if med[c] > min_error and med[c] > factor * np.median(others):
                flagged.append(r["camera"])
        return flagged

    def _may_exceed(self, threshold: float) -> bool:
        """Whether any camera's ``median_error`` can exceed ``threshold`` (pixels).

        A median exceeds it only if at least half of the (sampled, as in
        :meth:`camera_report`) valid errors do: two counts per camera instead of the medians.
        """
        if self._report is not None:
            return True
        for c in range(len(self.camera_names)):
            e = _report_sample(self.camera_errors[c].ravel())
            n = int(np.count_nonzero(np.isfinite(e)))
            if n and int(np.count_nonzero(e > threshold)) >= n - n // 2:
                return True
        return False

    def __repr__(self) -> str:
        ok = np.isfinite(self.points3d).all(-1)
        med = np.nanmedian(self.reprojection_error) if ok.any() else float("nan")
        return (f"Triangulation({self.method}, {self.n_frames} frames x {self.n_joints} joints, "
                f"{ok.mean():.0%} triangulated, median error {med:.2f} px, "
                f"units={self.units!r})")


def _report_sample(a: np.ndarray) -> np.ndarray:
    """Every ``max(1, a.size // 200000)``-th element of ``a`` (1-D): the sample of reports."""
    return a[::max(1, a.size // 200_000)]


def _median(x: np.ndarray) -> float:
    """``np.median`` of a non-empty 1-D array without NaN, ~8x faster (one partition)."""
    n = x.size
    k = n // 2
    part = np.partition(x, k)
    if n % 2:
        return float(part[k])
    return float(np.mean(np.array([part[:k].max(), part[k]])))


def _finite3(a: np.ndarray) -> np.ndarray:
    """``np.isfinite(a).all(-1)`` for a last axis of 3, without the slow short reduction."""
    return np.isfinite(a[..., 0]) & np.isfinite(a[..., 1]) & np.isfinite(a[..., 2])


def _options(method: str, options: dict) -> dict:
    known = set(DEFAULTS)
    if method == "optim":
        from .optimize import OPTIM_DEFAULTS

        known |= set(OPTIM_DEFAULTS)
        opts = {**DEFAULTS, **OPTIM_DEFAULTS}
    else:
        opts = dict(DEFAULTS)
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
    check_choice(method, METHODS, "method")
    p = check_points2d(points2d, rig.n_cams, rig.names)
    n_cams, n_frames, n_joints, _ = p.shape
    s = check_scores(scores, (n_cams, n_frames, n_joints))
    opts = _options(method, options)
    if method == "optim":
        from .optimize import triangulate_optim

        result = triangulate_optim(rig, p, s, opts)
    else:
        result = _triangulate_independent(rig, p, s, method, opts)
    _check_cameras(result)
    return result


def _triangulate_independent(rig, p, s, method: str, opts: dict) -> Triangulation:
    """DLT or RANSAC, chunk by chunk."""
    n_cams, n_frames, n_joints, _ = p.shape
    rng = np.random.default_rng(opts["rng"])
    per_chunk = max(int(opts["chunk_points"]) // max(n_joints, 1), 1)
    fused = method == "dlt" and opts["kernel"] and kernel_supported(rig)
    # the fused kernel writes every element: no need to fill
    new = (lambda shape, fill, dtype=np.float64: np.empty(shape, dtype)) if fused else np.full
    X = new((n_frames, n_joints, 3), np.nan)
    reproj = new((n_frames, n_joints), np.nan)
    ncams = new((n_frames, n_joints), 0, np.int16)
    score = new((n_frames, n_joints), np.nan, np.float32)
    inliers = new((n_cams, n_frames, n_joints), False, bool)
    cam_err = new((n_cams, n_frames, n_joints), np.nan, np.float32)
    out = {"points3d": X, "reprojection_error": reproj, "n_cams": ncams, "score": score,
           "inliers": inliers, "camera_errors": cam_err}
    if fused and opts["median_filter"] <= 1:
        # no chunk copies: the kernel masks, undistorts and summarizes in place (contiguous
        # inputs in one call; others a chunk at a time)
        whole = p.flags.c_contiguous and (s is None or s.flags.c_contiguous)
        ok = True
        for start, stop in [(0, n_frames)] if whole else chunk_bounds(n_frames, per_chunk):
            ok &= dlt_fused(rig, p[:, start:stop], None if s is None else s[:, start:stop],
                            opts["score_threshold"], out, start=start,
                            check_inf=opts["nonfinite"] == "error")
        if not ok:
            for start, stop in chunk_bounds(n_frames, per_chunk):  # raises with a position
                check_chunk(p[:, start:stop], None if s is None else s[:, start:stop],
                            rig.names, start=start, nonfinite=opts["nonfinite"])
        return Triangulation(camera_names=rig.names, units=rig.units, method=method,
                             options=opts, **out)
    if not fused:
        R, t, f = rig_arrays(rig)
    for start, stop in chunk_bounds(n_frames, per_chunk):
        if stop <= start:
            continue
        ch = prepare_chunk(rig, p, s, start, stop, opts["score_threshold"],
                           opts["median_filter"], opts["nonfinite"], undistort=not fused,
                           kernel=opts["kernel"])
        n = (stop - start) * n_joints
        w = ch.weights.reshape(n_cams, n)
        if fused:  # median-filtered detections, already masked
            dlt_fused(rig, ch.pixels, ch.weights, 0.0, out, start=start)
            continue
        u = ch.normalized.reshape(n_cams, n, 2)
        if method == "dlt":
            Xc, used = triangulate_dlt(u, w, R, t, f)
        else:
            Xc, used = triangulate_ransac(u, w, R, t, f, opts["reproj_threshold"],
                                          opts["max_pairs"], rng, kernel=opts["kernel"])
        Xc = Xc.reshape(stop - start, n_joints, 3)
        used = used.reshape(n_cams, stop - start, n_joints)
        err, rep, nc, sc = evaluate(rig, Xc, ch.pixels, ch.weights, used)
        X[start:stop], reproj[start:stop], ncams[start:stop] = Xc, rep, nc
        score[start:stop], inliers[:, start:stop], cam_err[:, start:stop] = sc, used, err
    return Triangulation(camera_names=rig.names, units=rig.units, method=method, options=opts,
                         **out)


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
