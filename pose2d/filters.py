"""2D track filters for analysis output (anipose's ``filter`` step): median and Viterbi.

Pure array-in, array-out. Shapes: ``xy (n_frames, n_joints, 2)`` pixels, ``conf
(n_frames, n_joints)`` in [0, 1]; candidates ``(n_frames, n_joints, K, 2)`` and
``(n_frames, n_joints, K)``. Points a filter rejects are replaced by linear interpolation
over time with likelihood 0 (so triangulation ignores them unless asked otherwise).
"""

from __future__ import annotations

import numpy as np

from poses.filters import check_window, median_outliers

from .validators import check_track

__all__ = ["FILTERS", "median_filter_track", "viterbi_filter_track", "filter_track"]

FILTERS = ("median", "viterbi")


def _interpolate(xy: np.ndarray, bad: np.ndarray) -> np.ndarray:
    out = xy.copy()
    t = np.arange(len(xy))
    for j in range(xy.shape[1]):
        good = ~bad[:, j] & np.isfinite(xy[:, j]).all(axis=1)
        if good.sum() < 2:
            continue
        for c in range(2):
            out[~good, j, c] = np.interp(t[~good], t[good], xy[good, j, c])
    return out


def median_filter_track(xy: np.ndarray, conf: np.ndarray, size: int = 13,
                        offset_threshold: float = 25.0, score_threshold: float = 0.05):
    """Anipose's ``medfilt``: reject points far from the running median, interpolate them.

    The running median and the outlier rule are :mod:`poses.filters`' (the same as
    ``triangulate``'s ``median_filter_2d`` with an offset threshold): NaN-aware, so missing
    points neither count nor get invented in the median.

    Parameters
    ----------
    xy : (n_frames, n_joints, 2) pixels
    conf : (n_frames, n_joints)
    size : int
        Median window, frames (odd).
    offset_threshold : float
        Pixels (|dx| + |dy|) from the median at or beyond which a point is rejected.
    score_threshold : float
        Points with lower likelihood are rejected too.

    Returns
    -------
    xy : (n_frames, n_joints, 2), conf : (n_frames, n_joints)
        Rejected and missing points linearly interpolated over time, with likelihood 0.
    """
    size = check_window(size)
    xy, conf = check_track(xy, conf)
    bad = (median_outliers(xy, size, offset_threshold) | ~np.isfinite(xy).all(axis=2)
           | (conf < score_threshold))
    out = _interpolate(xy, bad)
    c = np.where(bad, 0.0, conf)
    return out, c


def viterbi_filter_track(cand_xy: np.ndarray, cand_conf: np.ndarray, max_step_px: float = 20.0,
                         miss_cost: float = 4.0):
    """Anipose's Viterbi filter: the most likely path through per-frame candidates.

    Each frame offers ``K`` candidate positions per joint (e.g. the top peaks of the
    scoremap) plus a "missing" state. Emission cost ``-log(conf)``, transition cost
    ``0.5 * (step / max_step_px)^2`` between candidates, ``miss_cost`` to or from missing.

    Parameters
    ----------
    cand_xy : (n_frames, n_joints, K, 2) pixels
    cand_conf : (n_frames, n_joints, K)
    max_step_px : float
        Typical displacement per frame, pixels.
    miss_cost : float

    Returns
    -------
    xy : (n_frames, n_joints, 2), conf : (n_frames, n_joints)
        The chosen candidates; missing frames interpolated with likelihood 0.
    """
    cx, cc = check_track(cand_xy, cand_conf, candidates=True)
    cc = np.clip(cc, 1e-6, 1.0)
    if cx.ndim == 3:
        cx, cc = cx[:, :, None], cc[:, :, None]
    t_n, j_n, k_n = cc.shape
    xy = np.full((t_n, j_n, 2), np.nan)
    conf = np.zeros((t_n, j_n))
    bad = np.zeros((t_n, j_n), bool)
    for j in range(j_n):
        emit = np.concatenate([-np.log(cc[:, j]), np.full((t_n, 1), miss_cost)], axis=1)
        emit[:, :k_n][~np.isfinite(cx[:, j]).all(axis=2)] = np.inf
        cost = emit[0].copy()
        back = np.zeros((t_n, k_n + 1), int)
        for t in range(1, t_n):
            d = np.linalg.norm(cx[t, j][:, None] - cx[t - 1, j][None], axis=2)  # (K, K)
            trans = np.full((k_n + 1, k_n + 1), miss_cost)
            trans[:k_n, :k_n] = 0.5 * np.nan_to_num(d / max_step_px, nan=1e3) ** 2
            trans[k_n, k_n] = 0.0
            total = cost[None, :] + trans  # (to, from)
            back[t] = np.argmin(total, axis=1)
            cost = total[np.arange(k_n + 1), back[t]] + emit[t]
        s = int(np.argmin(cost))
        for t in range(t_n - 1, -1, -1):
            if s < k_n:
                xy[t, j], conf[t, j] = cx[t, j, s], cc[t, j, s]
            else:
                bad[t, j] = True
            s = back[t, s] if t > 0 else s
    return _interpolate(xy, bad), conf


def filter_track(xy: np.ndarray, conf: np.ndarray, method: str = "median", **kwargs):
    """Apply one of :data:`FILTERS`.

    ``median`` takes ``xy (n_frames, n_joints, 2)``; ``viterbi`` also accepts candidates
    ``(n_frames, n_joints, K, 2)`` and ``(n_frames, n_joints, K)`` (with one candidate it
    acts as an outlier gate).

    Returns
    -------
    xy : (n_frames, n_joints, 2), conf : (n_frames, n_joints)
    """
    if method == "median":
        return median_filter_track(xy, conf, **kwargs)
    if method == "viterbi":
        return viterbi_filter_track(xy, conf, **kwargs)
    raise ValueError(f"filter must be one of {', '.join(FILTERS)}; got {method!r}")
