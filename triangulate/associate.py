"""Several animals: which instance in each view is which animal, frame after frame.

:func:`associate` matches the instances of every camera (a multi-animal detector's output, in
any order) across views and links them over time into ``n_tracks`` tracks, in one compiled
pass over the frames (:mod:`._association_kernels`): assignment to the projected predictions
of the tracks, robust triangulation per track, and epipolar association of what is left over
(cycle-consistent, robust to false positives, missing views and partial skeletons) to
re-acquire or start tracks. :func:`gather` then turns the assignment into one 2D array per
track, ready for any triangulation method. Identities given by the 2D input are used as
evidence in :mod:`.identity`.

Frames are processed in chunks (``chunk_frames``): memory beyond the inputs does not grow
with the recording's length.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from poses.errors import InputError

from .dlt import rig_arrays
from .prepare import chunk_bounds, prepare_chunk
from .validators import check_range

__all__ = ["ASSOCIATION_DEFAULTS", "Association", "associate", "gather",
           "essential_matrices"]

log = logging.getLogger(__name__)

#: Options of :func:`associate` (costs are relative to the animal's projected size).
ASSOCIATION_DEFAULTS = {
    "score_threshold": 0.3,
    "gate": 0.5,
    "view_gate": 0.2,
    "epi_gate": 0.08,
    "min_keypoints": 3,
    "keep": 0.6,
    "max_gap": 50,
    "chunk_frames": None,
}

#: Detections (camera x slot x keypoint) per chunk when ``chunk_frames`` is None (~40 MB).
CHUNK_DETECTIONS = 1_000_000


@dataclass
class Association:
    """Which instance every track takes in every camera and frame.

    Attributes
    ----------
    assignment : (n_cams, n_frames, n_tracks) int
        Slot (the input's individual index) of every track, -1 where it has none.
    confidence : (n_frames, n_tracks) in [0, 1]
        How clearly the track's instances beat their nearest competitors (1 far from other
        animals, near 0 when two animals are indistinguishable); NaN where not seen.
    centre : (n_frames, n_tracks, 3) rig units
        The tracker's skeleton centroid (NaN where never seen).
    excess : (n_frames,) int
        Consistent clusters of three views or more that fit no track: animals beyond
        ``n_tracks`` (or persistent false positives).
    n_started : int
        Tracks started (at most ``n_tracks``), in order of first appearance.
    options : dict
    """

    assignment: np.ndarray
    confidence: np.ndarray
    centre: np.ndarray
    excess: np.ndarray
    n_started: int
    options: dict = field(default_factory=dict)

    @property
    def n_tracks(self) -> int:
        """Number of tracks."""
        return self.assignment.shape[2]

    @property
    def seen(self) -> np.ndarray:
        """``(n_frames, n_tracks)`` bool: the track has at least two views."""
        return (self.assignment >= 0).sum(0) >= 2

    def reorder(self, order) -> Association:
        """Tracks in a new order (``order[i]`` is the old index of new track ``i``)."""
        order = np.asarray(order)
        return Association(self.assignment[:, :, order], self.confidence[:, order],
                           self.centre[:, order], self.excess, self.n_started, self.options)


def essential_matrices(rig) -> np.ndarray:
    """``E (n_cams, n_cams, 3, 3)`` with ``x_b^T E[a, b] x_a = 0`` for normalized ``x``."""
    R, t, _ = rig_arrays(rig)
    n = len(R)
    E = np.zeros((n, n, 3, 3))
    for a in range(n):
        for b in range(n):
            if a == b:
                continue
            Rab = R[b] @ R[a].T
            tab = t[b] - Rab @ t[a]
            tx = np.array([[0, -tab[2], tab[1]], [tab[2], 0, -tab[0]], [-tab[1], tab[0], 0]])
            E[a, b] = tx @ Rab
    return E


def _options(options: dict) -> dict:
    unknown = sorted(set(options) - set(ASSOCIATION_DEFAULTS))
    if unknown:
        raise InputError(f"unknown association option(s) {unknown}; known: "
                         f"{sorted(ASSOCIATION_DEFAULTS)}")
    o = {**ASSOCIATION_DEFAULTS, **options}
    check_range(o["score_threshold"], "score_threshold", 0.0, 1.0)
    for key in ("gate", "view_gate", "epi_gate", "keep"):
        check_range(o[key], key, 0.0, low_open=True)
    check_range(o["min_keypoints"], "min_keypoints", 2, integer=True)
    check_range(o["max_gap"], "max_gap", 1, integer=True)
    if o["chunk_frames"] is not None:
        check_range(o["chunk_frames"], "chunk_frames", 1, integer=True)
    return o


def associate(rig, points2d: np.ndarray, scores: np.ndarray | None, n_tracks: int,
              **options) -> Association:
    """Match instances across views and link them over time into ``n_tracks`` tracks.

    Parameters
    ----------
    rig : CameraRig
        Its camera order is the first axis of ``points2d``.
    points2d : (n_cams, n_frames, n_slots, n_keypoints, 2) pixels
        Every camera's instances in any order (NaN where a slot is empty or a keypoint
        missing); the slot order may differ between cameras and frames.
    scores : (n_cams, n_frames, n_slots, n_keypoints) in [0, 1], optional
    n_tracks : int
        The most animals present.
    **options
        See :data:`ASSOCIATION_DEFAULTS`: ``score_threshold`` (detections below it are
        ignored for association), ``gate`` (largest distance of an instance to a track's
        prediction, relative to the animal's projected size), ``view_gate`` (largest distance
        of a view to the triangulated skeleton), ``epi_gate`` (largest epipolar distance of
        two instances, relative), ``min_keypoints`` (shared keypoints needed to compare two
        instances), ``keep`` (fraction of the closest keypoints averaged: the rest may be
        another animal's), ``max_gap`` (frames a lost track is still predicted),
        ``chunk_frames``.

    Returns
    -------
    Association
    """
    from ._association_kernels import track_chunk

    o = _options(options)
    n_tracks = check_range(n_tracks, "individuals", 1, integer=True)
    p = np.asarray(points2d)
    if p.ndim != 5 or p.shape[-1] != 2 or p.shape[0] != rig.n_cams:
        raise InputError(f"points2d must be (n_cams={rig.n_cams}, n_frames, n_slots, "
                         f"n_keypoints, 2), got {p.shape}")
    n_cams, n_frames, n_slots, n_kp, _ = p.shape
    flat = p.reshape(n_cams, n_frames, n_slots * n_kp, 2)
    sflat = None if scores is None else np.asarray(scores).reshape(n_cams, n_frames, -1)
    R, t, _ = rig_arrays(rig)
    E = essential_matrices(rig)
    Xs = np.full((n_tracks, n_kp, 3), np.nan)
    V = np.zeros((n_tracks, 3))
    last = np.full(n_tracks, -1, np.int64)
    size3 = np.zeros(n_tracks)
    n_seen = np.zeros(1, np.int64)
    opts = np.array([o["gate"], o["view_gate"], o["epi_gate"], o["min_keypoints"], o["keep"],
                     o["max_gap"]], float)
    assign = np.full((n_cams, n_frames, n_tracks), -1, np.int16 if n_slots < 32000 else int)
    conf = np.full((n_frames, n_tracks), np.nan)
    centre = np.full((n_frames, n_tracks, 3), np.nan)
    excess = np.zeros(n_frames, np.int32)
    per = o["chunk_frames"] or max(1, CHUNK_DETECTIONS // max(1, n_cams * n_slots * n_kp))
    for start, stop in chunk_bounds(n_frames, per):
        if stop <= start:
            continue
        ch = prepare_chunk(rig, flat, sflat, start, stop, o["score_threshold"], kernel=True)
        m = stop - start
        u = ch.normalized.reshape(n_cams, m, n_slots, n_kp, 2)
        w = ch.weights.reshape(n_cams, m, n_slots, n_kp)
        a = np.empty((n_cams, m, n_tracks), np.int64)
        cf = np.empty((m, n_tracks))
        ce = np.empty((m, n_tracks, 3))
        ex = np.empty(m, np.int64)
        track_chunk(np.ascontiguousarray(u), np.ascontiguousarray(w), R, t, E, start,
                    Xs, V, last, size3, n_seen, opts, a, cf, ce, ex)
        assign[:, start:stop], conf[start:stop] = a, cf
        centre[start:stop], excess[start:stop] = ce, ex
        del ch, u, w  # before the next chunk is prepared: one chunk in memory at a time
    return Association(assign, conf, centre, excess, int(n_seen[0]), o)


def gather(points2d: np.ndarray, scores: np.ndarray | None, assignment: np.ndarray):
    """Every track's instance in every camera and frame.

    Parameters
    ----------
    points2d : (n_cams, n_frames, n_slots, n_keypoints, 2)
    scores : (n_cams, n_frames, n_slots, n_keypoints), optional
    assignment : (n_cams, n_frames, n_tracks) int, -1 for none

    Returns
    -------
    points2d : (n_cams, n_frames, n_tracks, n_keypoints, 2), NaN where a track has no view
    scores : (n_cams, n_frames, n_tracks, n_keypoints), 0 where none (None if not given)
    """
    a = np.asarray(assignment)
    idx = np.maximum(a, 0).astype(np.intp)
    out = np.take_along_axis(np.asarray(points2d), idx[..., None, None], axis=2)
    out = np.where((a >= 0)[..., None, None], out, np.nan)
    if scores is None:
        return out, None
    s = np.take_along_axis(np.asarray(scores), idx[..., None], axis=2)
    return out, np.where((a >= 0)[..., None], s, 0.0)
