"""Compiled (numba) frame loop of multi-animal association and tracking.

Every frame, in normalized (undistorted) camera coordinates:

1. every track's skeleton is predicted (last 3D skeleton plus its velocity);
2. in every camera, instances are assigned to tracks by the Hungarian method on the distance
   between each instance and each track's projected prediction (trimmed mean over shared
   keypoints, relative to the track's projected size; gated);
3. every track is triangulated from its views; a view that disagrees with the others (its
   instance far from the triangulated skeleton) is let go, worst first;
4. instances left over are associated across cameras by epipolar distance (greedy complete
   linkage, so that a cluster holds at most one instance per camera and every pair in it
   agrees: the matching is cycle-consistent by construction); clusters of two views or more
   re-acquire tracks that were not seen this frame (Hungarian on 3D distance), start new ones
   while fewer than ``n_tracks`` exist (three views or more), or are counted as excess.

Costs are dimensionless: pixel distances divided by the animal's projected size, so one gate
serves every rig and animal. See :mod:`triangulate.associate` for the Python side.
"""

from __future__ import annotations

import numba
import numpy as np

from ._association_geometry import (
    INF,
    _centroid,
    _epipolar_cost,
    _extent,
    _robust_triangulate,
    project_skeleton,
    projection_cost,
)
from ._hungarian import assign_gated

__all__ = ["track_chunk"]


@numba.njit(cache=True)
def _update_track(k, T, f, Xs, V, last, size3):
    """Track ``k`` seen at frame ``f`` with skeleton ``T``: velocity from the median
    per-keypoint displacement, missing keypoints carried forward."""
    n_kp = T.shape[0]
    gap = f - last[k] if last[k] >= 0 else 0
    if gap > 0:
        d = np.empty((3, n_kp))
        n = 0
        for j in range(n_kp):
            if np.isfinite(T[j, 0]) and np.isfinite(Xs[k, j, 0]):
                for a in range(3):
                    d[a, n] = (T[j, a] - Xs[k, j, a]) / gap
                n += 1
        if n >= 2:
            for a in range(3):
                V[k, a] = 0.5 * V[k, a] + 0.5 * np.median(d[a, :n])
    else:
        V[k, :] = 0.0
    for j in range(n_kp):
        if np.isfinite(T[j, 0]):
            Xs[k, j] = T[j]
        elif np.isfinite(Xs[k, j, 0]):
            Xs[k, j] = Xs[k, j] + V[k] * max(gap, 1)
    e = _extent(T)
    if np.isfinite(e) and e > 0:
        size3[k] = e if size3[k] <= 0 else 0.9 * size3[k] + 0.1 * e
    last[k] = f


@numba.njit(cache=True)
def track_chunk(u, w, R, t, E, f0, Xs, V, last, size3, n_seen, opts,
                assign, conf, centre, excess):
    """Associate and track frames ``f0 .. f0 + n - 1`` (one chunk).

    Parameters
    ----------
    u : (n_cams, n, n_slots, n_kp, 2) normalized coordinates
    w : (n_cams, n, n_slots, n_kp) weights, 0 where missing
    R, t : (n_cams, 3, 3), (n_cams, 3) world-to-camera
    E : (n_cams, n_cams, 3, 3) essential matrices, ``x_b^T E[a, b] x_a = 0``
    f0 : int, frame number of the chunk's first frame
    Xs, V, last, size3 : track state (n_tracks, n_kp, 3), (n_tracks, 3), (n_tracks,) int,
        (n_tracks,), updated in place; tracks not started yet hold the initial state (NaN
        skeleton, zero velocity, ``last`` -1, size 0); ``n_seen (1,)`` tracks started so far
    opts : (gate, view_gate, epi_gate, min_kp, keep, max_gap)
    assign : (n_cams, n, n_tracks) int, out: slot of every track in every camera or -1
    conf : (n, n_tracks), out: assignment confidence in [0, 1], NaN where not seen
    centre : (n, n_tracks, 3), out: the tracker's skeleton centroid
    excess : (n,), out: consistent clusters that fit no track (animals beyond n_tracks)
    """
    n_cams, n, n_slots, n_kp, _ = u.shape
    n_tracks = Xs.shape[0]
    gate, view_gate, epi_gate = opts[0], opts[1], opts[2]
    min_kp, keep, max_gap = int(opts[3]), opts[4], opts[5]
    buf = np.empty(n_kp)
    P = np.empty((n_tracks, n_kp, 3))
    T = np.empty((n_kp, 3))
    cost = np.empty((n_cams, n_slots, n_tracks))
    valid = np.zeros((n_cams, n_slots), np.bool_)
    icentre = np.empty((n_cams, n_slots, 2))
    prj = np.empty((n_tracks, n_kp, 2))
    boxes = np.empty((n_tracks, 3))
    pr1 = np.empty((n_kp, 2))
    box1 = np.empty(3)
    cams = np.empty(n_cams, np.int64)
    slots = np.empty(n_cams, np.int64)
    dropped = np.empty(n_cams, np.bool_)
    for fi in range(n):
        f = f0 + fi
        uf = u[:, fi]
        wf = w[:, fi]
        for c in range(n_cams):
            for s in range(n_slots):
                cnt = 0
                icentre[c, s, 0] = icentre[c, s, 1] = 0.0
                for j in range(n_kp):
                    if wf[c, s, j] > 0:
                        cnt += 1
                        icentre[c, s, 0] += uf[c, s, j, 0]
                        icentre[c, s, 1] += uf[c, s, j, 1]
                valid[c, s] = cnt >= min_kp
                if cnt:
                    icentre[c, s] /= cnt
        # 1. predict
        live = np.zeros(n_tracks, np.bool_)
        for k in range(n_tracks):
            if last[k] >= 0 and f - last[k] <= max_gap:
                live[k] = True
                g = min(f - last[k], 5)
                for j in range(n_kp):
                    P[k, j] = Xs[k, j] + V[k] * g
        # 2. per camera assignment to predictions
        taken = np.zeros((n_cams, n_slots), np.bool_)
        for c in range(n_cams):
            for k in range(n_tracks):
                boxes[k, 2] = 0.0
                if live[k]:
                    project_skeleton(P[k], R, t, c, prj[k], boxes[k])
            for s in range(n_slots):
                for k in range(n_tracks):
                    cost[c, s, k] = INF
                    if valid[c, s] and live[k]:
                        cost[c, s, k] = projection_cost(uf, wf, c, s, prj[k], boxes[k],
                                                        icentre[c, s], gate, min_kp, keep,
                                                        buf)
            a = assign_gated(cost[c], gate)
            for k in range(n_tracks):
                assign[c, fi, k] = -1
            for s in range(n_slots):
                if a[s] >= 0:
                    assign[c, fi, a[s]] = s
                    taken[c, s] = True
        # 3. triangulate every track from its views, letting go of disagreeing ones
        updated = np.zeros(n_tracks, np.bool_)
        for k in range(n_tracks):
            conf[fi, k] = np.nan
            centre[fi, k] = np.nan
            nv = 0
            for c in range(n_cams):
                if assign[c, fi, k] >= 0:
                    cams[nv] = c
                    slots[nv] = assign[c, fi, k]
                    nv += 1
            if nv < 2:
                for c in range(n_cams):
                    if assign[c, fi, k] >= 0:
                        taken[c, assign[c, fi, k]] = False
                        assign[c, fi, k] = -1
                continue
            kept = _robust_triangulate(uf, wf, cams, slots, nv, R, t, T, view_gate, min_kp,
                                       keep, buf, dropped, pr1, box1)
            for i in range(nv):
                if dropped[i]:
                    taken[cams[i], slots[i]] = False
                    assign[cams[i], fi, k] = -1
            if kept < 2:
                continue
            # confidence: margin of every view's cost over its nearest competitor
            qsum = 0.0
            qn = 0
            for i in range(nv):
                if dropped[i]:
                    continue
                c, s = cams[i], slots[i]
                own = cost[c, s, k]
                alt = INF
                for k2 in range(n_tracks):
                    if k2 != k and cost[c, s, k2] < alt:
                        alt = cost[c, s, k2]
                for s2 in range(n_slots):
                    if s2 != s and cost[c, s2, k] < alt:
                        alt = cost[c, s2, k]
                q = 1.0 if alt >= INF else max(0.0, min(1.0, (alt - own) / max(alt, 1e-12)))
                qsum += q
                qn += 1
            conf[fi, k] = qsum / max(qn, 1)
            _update_track(k, T, f, Xs, V, last, size3)
            centre[fi, k] = _centroid(Xs[k])
            updated[k] = True
        # 4. leftovers: associate across cameras, re-acquire or start tracks
        m = 0
        lc = np.empty(n_cams * n_slots, np.int64)
        ls = np.empty(n_cams * n_slots, np.int64)
        for c in range(n_cams):
            for s in range(n_slots):
                if valid[c, s] and not taken[c, s]:
                    lc[m] = c
                    ls[m] = s
                    m += 1
        excess[fi] = 0
        if m < 2:
            continue
        D = np.full((m, m), INF)
        npairs = 0
        for i in range(m):
            for j in range(i + 1, m):
                if lc[i] != lc[j]:
                    d = _epipolar_cost(uf, wf, lc[i], ls[i], lc[j], ls[j], E, min_kp, keep,
                                       buf)
                    D[i, j] = d
                    D[j, i] = d
                    if d <= epi_gate:
                        npairs += 1
        if npairs == 0:
            continue
        pi = np.empty(npairs, np.int64)
        pj = np.empty(npairs, np.int64)
        pd = np.empty(npairs)
        q = 0
        for i in range(m):
            for j in range(i + 1, m):
                if D[i, j] <= epi_gate:
                    pi[q] = i
                    pj[q] = j
                    pd[q] = D[i, j]
                    q += 1
        order = np.argsort(pd)
        label = np.arange(m)
        for o in order:
            a, b = label[pi[o]], label[pj[o]]
            if a == b:
                continue
            ok = True
            for x in range(m):
                if label[x] != a:
                    continue
                for y in range(m):
                    if label[y] == b and (lc[x] == lc[y] or D[x, y] > epi_gate):
                        ok = False
            if ok:
                for x in range(m):
                    if label[x] == b:
                        label[x] = a
        # clusters -> candidate skeletons
        cand_X = np.full((m, n_kp, 3), np.nan)
        cand_views = np.zeros(m, np.int64)
        cand_members = np.full((m, n_cams), -1, np.int64)
        nc = 0
        for lab in range(m):
            nv = 0
            for x in range(m):
                if label[x] == lab:
                    cams[nv] = lc[x]
                    slots[nv] = ls[x]
                    nv += 1
            if nv < 2:
                continue
            kept = _robust_triangulate(uf, wf, cams, slots, nv, R, t, T, view_gate, min_kp,
                                       keep, buf, dropped, pr1, box1)
            if kept < 2:
                continue
            cand_X[nc] = T
            cand_views[nc] = kept
            for i in range(nv):
                if not dropped[i]:
                    cand_members[nc, cams[i]] = slots[i]
            nc += 1
        if nc == 0:
            continue
        # re-acquire tracks seen before but not this frame (3D distance / their size)
        free = np.zeros(n_tracks, np.int64)
        nf = 0
        for k in range(n_tracks):
            if last[k] >= 0 and not updated[k]:
                free[nf] = k
                nf += 1
        used = np.zeros(nc, np.bool_)
        if nf > 0:
            C3 = np.full((nc, nf), INF)
            for i in range(nc):
                ci = _centroid(cand_X[i])
                for q2 in range(nf):
                    k = free[q2]
                    gap = min(f - last[k], 5)
                    pk = _centroid(Xs[k]) + V[k] * gap
                    sz = size3[k] if size3[k] > 0 else 1.0
                    d = np.sqrt(((ci - pk) ** 2).sum()) / sz
                    lim = 0.75 + 0.05 * (f - last[k])
                    if f - last[k] > max_gap or d <= lim:
                        C3[i, q2] = d
            a = assign_gated(C3, INF / 2)
            for i in range(nc):
                if a[i] >= 0:
                    k = free[a[i]]
                    used[i] = True
                    for c in range(n_cams):
                        assign[c, fi, k] = cand_members[i, c]
                    conf[fi, k] = 0.5
                    _update_track(k, cand_X[i], f, Xs, V, last, size3)
                    centre[fi, k] = _centroid(Xs[k])
        for i in range(nc):
            if used[i]:
                continue
            if cand_views[i] >= min(3, n_cams) and n_seen[0] < n_tracks:
                k = n_seen[0]
                n_seen[0] += 1
                for c in range(n_cams):
                    assign[c, fi, k] = cand_members[i, c]
                conf[fi, k] = 1.0
                _update_track(k, cand_X[i], f, Xs, V, last, size3)  # a fresh track's state
                centre[fi, k] = _centroid(Xs[k])
            elif cand_views[i] >= min(3, n_cams):
                excess[fi] += 1
