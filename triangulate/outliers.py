"""Frames worth relabeling, ranked by what a calibrated rig knows and one camera cannot.

Five criteria per frame, individual, keypoint (and camera), each divided by its threshold so
that 1 is "just past the threshold" (the *ratio*):

``disagreement``
    Leave one view out: the view's confident detection against the reprojection of the point
    triangulated (weighted DLT) from the *other* confident views, where those others agree
    (each within ``max_disagreement_px`` of it; at least 2 of them). Pixels, ratio
    ``px / max_disagreement_px``. Names the camera that disagrees.
``reprojection``
    The session's 3D point projected through the calibration against each confident
    detection. Pixels, ratio ``px / max_reprojection_px``.
``limb``
    The relative deviation ``|length / reference - 1|`` of each limb of the skeleton, the
    reference being the session's median length of that limb over frames where both ends
    are supported by at least 2 agreeing views. Ratio ``deviation / max_limb_deviation``.
``jump``
    The 3D speed, rig units per frame, against a robust per-keypoint scale of the session's
    speeds: ratio ``jump / (median + jump_mad * MAD)`` (MAD scaled by 1.4826 and floored
    at a quarter of the median), where ``jump = max(min(v_in, v_out), max(v_in, v_out) / 2)``
    of the speeds into and out of the frame: a point that leaves and comes back (a one-frame
    spike) scores its speed at that frame and half of it at its neighbours; a lasting step
    half its speed on each side.
``low_score``
    A detection scoring below ``pcutoff`` in a view where the point should be visible: the
    3D point projects inside the image, in front of the camera, and the same view detects it
    confidently in at least ``visible_fraction`` of the neighbouring frames (``f - window``
    to ``f + window`` without ``f``, where it projects inside the image), so that a lasting
    occlusion is not taken for an outlier. Ratio ``(1 - score) / (1 - pcutoff)`` (1 at the
    p-cutoff, ``1 / (1 - pcutoff)`` for a score of 0 or a missing detection).

A detection is *confident* when its score is at least ``pcutoff``. The combined score of a
frame and individual is the largest ratio, ``score = max_j ratio_j``; its criterion is the
frame's *reason*. A frame's score is its worst individual's, and frames scoring above 1 are
the candidates. :func:`pick_diverse` then picks frames of different poses among them.

Everything is vectorized over frames, individuals, keypoints and cameras (the leave-one-out
solves run in chunks of points, one stacked weighted DLT for every left-out view).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from poses.errors import InputError

from .dlt import rig_arrays, triangulate_dlt

__all__ = ["CRITERIA", "FrameScores", "score_frames", "match_detections", "pose_features",
           "pick_diverse"]

#: The criteria, in the order that breaks ties between equal ratios.
CRITERIA = ("disagreement", "reprojection", "limb", "jump", "low_score")
_MAD = 1.4826  # MAD to the standard deviation of a normal distribution


@dataclass
class FrameScores:
    """Outlier criteria of every frame and individual (see the module docstring).

    Attributes
    ----------
    score : (n_frames, n_individuals) float
        ``max_j ratio_j`` (0 where nothing could be measured).
    ratios : dict criterion -> (n_frames, n_individuals) float
        Value over threshold (0 where unknown).
    values : dict criterion -> (n_frames, n_individuals) float
        The worst value: pixels (``disagreement``, ``reprojection``), relative deviation
        (``limb``), rig units per frame (``jump``, the speed defined above), likelihood
        (``low_score``, the lowest score of a view where the point should be visible); NaN
        where unknown.
    keypoint : dict criterion -> (n_frames, n_individuals) int
        Keypoint of the worst value (-1 where unknown; ``limb``: the limb's second end).
    camera : dict criterion -> (n_frames, n_individuals) int
        Camera of the worst value (-1 where unknown and for ``limb`` and ``jump``).
    limb : (n_frames, n_individuals) int
        Index of the worst limb (-1 where unknown).
    agreeing : (n_frames, n_individuals, n_keypoints) int
        Views whose confident detection lies within ``max_reprojection_px`` of the
        reprojection of the 3D point.
    reference_lengths : (n_limbs,) float
        Reference length of each limb, rig units (NaN where never measured).
    """

    score: np.ndarray
    ratios: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    keypoint: dict[str, np.ndarray]
    camera: dict[str, np.ndarray]
    limb: np.ndarray
    agreeing: np.ndarray
    reference_lengths: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def reason(self) -> np.ndarray:
        """(n_frames, n_individuals) int: index into :data:`CRITERIA` of the largest ratio."""
        return np.argmax(np.stack([self.ratios[c] for c in CRITERIA]), axis=0)

    @property
    def worst_individual(self) -> np.ndarray:
        """(n_frames,) int: the individual with the highest score in each frame."""
        return np.argmax(self.score, axis=1)

    def frame_score(self) -> np.ndarray:
        """(n_frames,) float: the score of each frame's worst individual."""
        return self.score.max(axis=1)


def _check_positive(value: float, name: str) -> float:
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise InputError(f"{name} must be a positive number, got {value!r}")
    return v


def _worst(values: np.ndarray, n_lead: int, lowest: bool = False):
    """The largest (or smallest) value over the trailing axes, and where it is.

    Parameters
    ----------
    values : (*lead, *rest) float, NaN where unknown
    n_lead : int
        Leading axes kept.
    lowest : bool
        Take the minimum instead of the maximum.

    Returns
    -------
    best : (*lead) float, NaN where every value is NaN
    index : (*lead) int, flat index into ``rest`` (-1 where every value is NaN)
    """
    lead = values.shape[:n_lead]
    flat = values.reshape(*lead, -1)
    known = np.isfinite(flat)
    fill = np.inf if lowest else -np.inf
    filled = np.where(known, flat, fill)
    idx = np.argmin(filled, axis=-1) if lowest else np.argmax(filled, axis=-1)
    best = np.take_along_axis(filled, idx[..., None], axis=-1)[..., 0]
    none = ~known.any(axis=-1)
    return np.where(none, np.nan, best), np.where(none, -1, idx)


def _window_sum(a: np.ndarray, window: int, axis: int) -> np.ndarray:
    """Sum of ``a`` over ``f - window .. f + window`` (clipped at the ends) along ``axis``."""
    a = np.moveaxis(a, axis, 0)
    n = a.shape[0]
    cs = np.concatenate([np.zeros((1, *a.shape[1:]), a.dtype), np.cumsum(a, axis=0)])
    f = np.arange(n)
    hi = np.minimum(f + window, n - 1) + 1
    lo = np.maximum(f - window, 0)
    return np.moveaxis(cs[hi] - cs[lo], 0, axis)


def match_detections(rig, points3d: np.ndarray, points2d: np.ndarray,
                     scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each 3D individual, the 2D instance of each view and frame that it projects onto.

    Parameters
    ----------
    rig : CameraRig
    points3d : (n_frames, n_individuals, n_keypoints, 3) rig units
    points2d : (n_cams, n_frames, n_instances, n_keypoints, 2) pixels
    scores : (n_cams, n_frames, n_instances, n_keypoints)

    Returns
    -------
    points2d : (n_cams, n_frames, n_individuals, n_keypoints, 2) pixels
        The instance whose detections lie nearest (median over keypoints) to the
        individual's reprojection; NaN where the view has none.
    scores : (n_cams, n_frames, n_individuals, n_keypoints)
    instance : (n_cams, n_frames, n_individuals) int
        The instance chosen (-1: none).
    """
    X = np.asarray(points3d, float)
    P = np.asarray(points2d, float)
    S = np.asarray(scores, float)
    n_ind, n_inst = X.shape[1], P.shape[2]
    if n_ind == 1 and n_inst == 1:
        inst = np.where(np.isfinite(P).all(-1).any(-1), 0, -1)
        return P, S, inst
    proj = rig.project(X)                                           # (C, F, I, K, 2)
    d = np.linalg.norm(proj[:, :, :, None] - P[:, :, None], axis=-1)  # (C, F, I, M, K)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(d, axis=-1)                              # (C, F, I, M)
    inst = np.argmin(np.where(np.isfinite(med), med, np.inf), axis=-1)
    inst = np.where(np.isfinite(med).any(-1), inst, -1)
    take = np.maximum(inst, 0)
    P_m = np.take_along_axis(P, take[..., None, None], axis=2)     # (C, F, I, K, 2)
    S_m = np.take_along_axis(S, take[..., None], axis=2)            # (C, F, I, K)
    none = inst < 0
    P_m = np.where(none[..., None, None], np.nan, P_m)
    S_m = np.where(none[..., None], np.nan, S_m)
    return P_m, S_m, inst


def _leave_one_out(rig, P: np.ndarray, w: np.ndarray, conf: np.ndarray, threshold: float,
                   chunk_points: int) -> np.ndarray:
    """Leave-one-view-out error of every confident detection whose other views agree.

    Parameters
    ----------
    rig : CameraRig
    P : (n_cams, N, 2) pixels
    w : (n_cams, N) weights (0 where not confident)
    conf : (n_cams, N) bool
    threshold : float
        Pixels within which the other views must all lie of their own point.
    chunk_points : int
        Points solved at once (memory ~ ``n_cams^2 * chunk_points``).

    Returns
    -------
    (n_cams, N) pixels: the view's distance to the reprojection of the point triangulated
    from the other confident views; NaN where fewer than 2 other views, where they do not
    agree, or where the view is not confident.
    """
    C, N = conf.shape
    out = np.full((C, N), np.nan)
    todo = np.flatnonzero(conf.sum(0) >= 3)
    if todo.size == 0:
        return out
    R, t, f = rig_arrays(rig)
    off = ~np.eye(C, dtype=bool)                                    # [view, left out]
    u_all = rig.undistort(np.where(conf[..., None], P, np.nan))     # (C, N, 2)
    step = max(1, int(chunk_points) // C)
    for s in range(0, todo.size, step):
        j = todo[s:s + step]
        m = j.size
        u = np.broadcast_to(u_all[:, None, j], (C, C, m, 2)).reshape(C, C * m, 2)
        ww = (w[:, None, j] * off[:, :, None]).reshape(C, C * m)
        X, _ = triangulate_dlt(u, ww, R, t, f, reweight=2, kernel=True)  # (C * m, 3)
        X = X.reshape(C, m, 3)                                      # [left out, point]
        d = np.linalg.norm(rig.project(X) - P[:, None, j], axis=-1)  # (C view, C out, m)
        own = d[np.arange(C), np.arange(C)]                         # (C, m)
        others = conf[:, None, j] & off[:, :, None]                 # (C view, C out, m)
        worst_other = np.where(others, d, -np.inf).max(axis=0)      # (C out, m)
        agree = (others.sum(0) >= 2) & (worst_other <= threshold)
        out[:, j] = np.where(conf[:, j] & agree & np.isfinite(own), own, np.nan)
    return out


def score_frames(rig, points3d: np.ndarray, points2d: np.ndarray, scores: np.ndarray,
                 limbs: Sequence[tuple[int, int]] = (), *, pcutoff: float = 0.6,
                 max_reprojection_px: float = 15.0, max_disagreement_px: float = 15.0,
                 max_limb_deviation: float = 0.3, jump_mad: float = 10.0, window: int = 5,
                 visible_fraction: float = 0.8, chunk_points: int = 200_000) -> FrameScores:
    """Every outlier criterion of every frame and individual (see the module docstring).

    Parameters
    ----------
    rig : CameraRig
        ``n_cams`` cameras in the order of ``points2d``.
    points3d : (n_frames, n_individuals, n_keypoints, 3) rig units
        The session's triangulated points (NaN where missing).
    points2d : (n_cams, n_frames, n_individuals, n_keypoints, 2) pixels
        The 2D detections of each individual (see :func:`match_detections`).
    scores : (n_cams, n_frames, n_individuals, n_keypoints)
        Their likelihoods in [0, 1] (NaN: missing).
    limbs : sequence of (int, int)
        Keypoint index pairs of the skeleton's limbs.
    pcutoff : float
        Likelihood from which a detection is confident.
    max_reprojection_px, max_disagreement_px : float
        Pixels, the thresholds of ``reprojection`` and ``disagreement``.
    max_limb_deviation : float
        Relative limb-length deviation threshold (0.3: 30 %).
    jump_mad : float
        Robust standard deviations above the median speed that make a jump.
    window : int
        Frames on each side that tell an occlusion from a dropout (``low_score``).
    visible_fraction : float
        Share of confident neighbours from which a point should be visible.
    chunk_points : int
        Points per leave-one-out chunk (bounds memory).

    Returns
    -------
    FrameScores
    """
    X = np.asarray(points3d, float)
    P = np.asarray(points2d, float)
    S = np.asarray(scores, float)
    if X.ndim != 4 or X.shape[-1] != 3:
        raise InputError(f"points3d must have shape (n_frames, n_individuals, n_keypoints, 3), "
                         f"got {X.shape}")
    C = rig.n_cams
    if P.shape != (C, *X.shape[:3], 2) or S.shape != P.shape[:-1]:
        raise InputError(f"points2d {P.shape} and scores {S.shape} must be (n_cams={C}, "
                         f"{', '.join(map(str, X.shape[:3]))}, 2) and without the 2")
    if not 0 <= pcutoff <= 1:
        raise InputError(f"pcutoff must lie in [0, 1], got {pcutoff}")
    for v, name in ((max_reprojection_px, "max_reprojection_px"),
                    (max_disagreement_px, "max_disagreement_px"),
                    (max_limb_deviation, "max_limb_deviation"), (jump_mad, "jump_mad")):
        _check_positive(v, name)
    F, n_ind, K = X.shape[:3]
    lim = np.asarray(limbs, dtype=np.int64).reshape(-1, 2)
    if lim.size and (lim.min() < 0 or lim.max() >= K):
        raise InputError(f"limbs index keypoints outside 0..{K - 1}: {lim.tolist()}")
    s = np.nan_to_num(S, nan=0.0)
    conf = (s >= pcutoff) & np.isfinite(P).all(-1)                  # (C, F, I, K)
    x_ok = np.isfinite(X).all(-1)                                   # (F, I, K)

    # (a) reprojection of the session's 3D
    proj = rig.project(X)                                           # (C, F, I, K, 2)
    err = np.linalg.norm(proj - P, axis=-1)
    rep = np.where(conf & np.isfinite(err), err, np.nan)
    agreeing = (conf & (err <= max_reprojection_px)).sum(0)         # (F, I, K)
    order = (1, 2, 0, 3)                                            # (F, I, C, K)
    rep_v, rep_i = _worst(rep.transpose(order), 2)

    # (b) leave one view out
    loo = _leave_one_out(rig, P.reshape(C, -1, 2), np.where(conf, s, 0.0).reshape(C, -1),
                         conf.reshape(C, -1), max_disagreement_px, chunk_points)
    loo = loo.reshape(C, F, n_ind, K)
    dis_v, dis_i = _worst(loo.transpose(order), 2)

    # (c) limb lengths
    n_limbs = len(lim)
    lim_v = np.full((F, n_ind), np.nan)
    lim_i = np.full((F, n_ind), -1)
    ref = np.full(n_limbs, np.nan)
    if n_limbs:
        length = np.linalg.norm(X[:, :, lim[:, 0]] - X[:, :, lim[:, 1]], axis=-1)  # (F, I, L)
        sure = (agreeing[:, :, lim[:, 0]] >= 2) & (agreeing[:, :, lim[:, 1]] >= 2)
        sure &= np.isfinite(length)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ref = np.nanmedian(np.where(sure, length, np.nan).reshape(-1, n_limbs), axis=0)
            loose = np.nanmedian(length.reshape(-1, n_limbs), axis=0)
        ref = np.where(sure.reshape(-1, n_limbs).sum(0) >= 3, ref, loose)
        ref = np.where(ref > 0, ref, np.nan)
        dev = np.abs(length / ref - 1.0)
        lim_v, lim_i = _worst(dev, 2)
    lim_k = np.where(lim_i >= 0, lim[np.maximum(lim_i, 0), 1] if n_limbs else -1, -1)

    # (d) 3D jumps: speeds in and out of each frame, scaled per keypoint
    v_in = np.full((F, n_ind, K), np.nan)
    if F > 1:
        v_in[1:] = np.linalg.norm(np.diff(X, axis=0), axis=-1)
    v_out = np.full_like(v_in, np.nan)
    v_out[:-1] = v_in[1:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(v_in.reshape(-1, K), axis=0)             # (K,)
        mad = _MAD * np.nanmedian(np.abs(v_in - med).reshape(-1, K), axis=0)
        # a spike scores its speed at its frame, half of it beside; a step half on each side
        jump = np.fmax(np.minimum(v_in, v_out), 0.5 * np.fmax(v_in, v_out))
    scale = np.maximum(np.nan_to_num(mad), 0.25 * np.nan_to_num(med))
    thr = np.nan_to_num(med) + jump_mad * scale
    thr = np.where(thr > 0, thr, np.inf)
    jr, jump_k = _worst(jump / thr, 2)
    jump_v = np.where(jump_k >= 0,
                      np.take_along_axis(jump, np.maximum(jump_k, 0)[..., None], -1)[..., 0],
                      np.nan)

    # (e) low scores where the point should be visible
    depth = np.einsum("cj,fikj->cfik", rig.rotations[:, 2, :], np.nan_to_num(X)) \
        + rig.translations[:, 2][:, None, None, None]
    inside = np.stack([cam.in_image(proj[c]) for c, cam in enumerate(rig.cameras)])
    inside &= (depth > 0) & x_ok[None]
    ok_in = (conf & inside).astype(np.int32)
    n_in = _window_sum(inside.astype(np.int32), window, axis=1) - inside
    n_ok = _window_sum(ok_in, window, axis=1) - ok_in
    near = np.zeros_like(inside)                                    # confident just before
    if F > 2:                                                       # and just after
        near[:, 1:-1] = (conf & inside)[:, :-2] & (conf & inside)[:, 2:]
    expected = inside & near & (n_in >= 2) & (n_ok >= visible_fraction * n_in)
    low = expected & (s < pcutoff)
    low_v, low_i = _worst(np.where(low, s, np.nan).transpose(order), 2, lowest=True)
    low_r = (1.0 - low_v) / max(1.0 - pcutoff, 1e-6)

    ratios = {
        "disagreement": dis_v / max_disagreement_px,
        "reprojection": rep_v / max_reprojection_px,
        "limb": lim_v / max_limb_deviation,
        "jump": jr,
        "low_score": low_r,
    }
    ratios = {k: np.nan_to_num(v, nan=0.0) for k, v in ratios.items()}
    values = {"disagreement": dis_v, "reprojection": rep_v, "limb": lim_v,
              "jump": jump_v, "low_score": low_v}
    none = np.full((F, n_ind), -1)

    def split(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.where(flat >= 0, flat // K, -1), np.where(flat >= 0, flat % K, -1)

    (dis_c, dis_k), (rep_c, rep_k), (low_c, low_k) = split(dis_i), split(rep_i), split(low_i)
    score = np.max(np.stack([ratios[c] for c in CRITERIA]), axis=0)
    return FrameScores(
        score=score, ratios=ratios, values=values,
        keypoint={"disagreement": dis_k, "reprojection": rep_k, "limb": lim_k,
                  "jump": jump_k, "low_score": low_k},
        camera={"disagreement": dis_c, "reprojection": rep_c, "limb": none,
                "jump": none.copy(), "low_score": low_c},
        limb=lim_i, agreeing=agreeing, reference_lengths=ref)


def pose_features(points3d: np.ndarray) -> np.ndarray:
    """Poses as vectors for clustering: centred on the animal and scaled.

    Parameters
    ----------
    points3d : (n_frames, n_keypoints, 3) rig units

    Returns
    -------
    (n_frames, n_keypoints * 3) float
        ``(X - centroid) / rms distance to the centroid``; missing keypoints at the centroid
        (0), all-missing frames all 0.
    """
    X = np.asarray(points3d, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        centre = np.nanmean(X, axis=1, keepdims=True)
        d = X - centre
        rms = np.sqrt(np.nanmean(np.sum(d * d, axis=-1), axis=1))
    rms = np.where(np.isfinite(rms) & (rms > 0), rms, 1.0)
    return np.nan_to_num(d / rms[:, None, None], nan=0.0).reshape(len(X), -1)


def pick_diverse(features: np.ndarray, score: np.ndarray, n: int, seed: int = 0,
                 threshold: float = 1.0) -> np.ndarray:
    """Up to ``n`` frames scoring above ``threshold``, of different poses.

    k-means (scipy's ``kmeans2``, k-means++ start, ``seed``) with ``k = n`` over the
    candidates' ``features``; the highest-scored frame of each cluster. When clusters come
    out empty, the highest-scored remaining candidates fill up to ``n``; with ``n`` or fewer
    candidates, all of them.

    Parameters
    ----------
    features : (n_frames, n_features) float
        E.g. :func:`pose_features`.
    score : (n_frames,) float
    n : int
        Frames wanted (>= 1).
    seed : int
    threshold : float
        Candidates score strictly above it.

    Returns
    -------
    (n_picked,) int
        Frame positions, sorted.
    """
    if n < 1:
        raise InputError(f"n must be at least 1, got {n}")
    score = np.nan_to_num(np.asarray(score, float), nan=0.0)
    cand = np.flatnonzero(score > threshold)
    if cand.size <= n:
        return np.sort(cand)
    from scipy.cluster.vq import kmeans2

    feats = np.asarray(features, float)[cand]
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "One of the clusters is empty"
        _, labels = kmeans2(feats, n, minit="++", seed=rng)
    # highest score of each cluster: sort by (label, -score), first of each label
    order = np.lexsort((-score[cand], labels))
    first = np.ones(order.size, bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    picked = cand[order[first]]
    if picked.size < n:
        rest = np.setdiff1d(cand, picked)
        rest = rest[np.argsort(-score[rest], kind="stable")][:n - picked.size]
        picked = np.concatenate([picked, rest])
    return np.sort(picked)
