"""``method="dlt"`` and ``method="ransac"``: every point triangulated on its own, a chunk of
frames at a time (memory bounded), through the fused compiled DLT kernel where the rig allows.
"""

from __future__ import annotations

import numpy as np

from ._dlt_kernel import dlt_fused
from ._kernels import kernel_supported
from .dlt import rig_arrays, triangulate_dlt
from .prepare import chunk_bounds, evaluate, prepare_chunk
from .ransac import triangulate_ransac
from .result import Triangulation
from .validators import check_chunk

__all__ = ["triangulate_independent", "run_dlt", "run_ransac"]


def run_dlt(rig, p, s, opts: dict) -> Triangulation:
    """Confidence-weighted linear triangulation of all views (see :mod:`.dlt`)."""
    return triangulate_independent(rig, p, s, "dlt", opts)


def run_ransac(rig, p, s, opts: dict) -> Triangulation:
    """Per point, the views that agree best, refit (see :mod:`.ransac`)."""
    return triangulate_independent(rig, p, s, "ransac", opts)


def triangulate_independent(rig, p, s, method: str, opts: dict) -> Triangulation:
    """DLT or RANSAC, chunk by chunk (every point on its own).

    Parameters
    ----------
    rig : CameraRig
    p : (n_cams, n_frames, n_joints, 2) pixels (checked)
    s : (n_cams, n_frames, n_joints) in [0, 1], or None
    method : {"dlt", "ransac"}
    opts : dict
        Options with defaults filled in (:data:`triangulate.api.DEFAULTS`).

    Returns
    -------
    Triangulation
    """
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
