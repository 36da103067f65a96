"""Identity over time: who is who, how sure, and where identities were repaired or may swap.

The tracker (:mod:`.associate`) keeps identity by continuity in 3D. Where it is unsure (two
animals in close contact: the confidence of their assignment drops) a swap is possible, so
each track is cut there into *tracklets* whose identity is certain within. Then:

- without identities in the input, tracks are named ``ind1 ... indN`` in order of first
  appearance and the low-confidence encounters are listed as *suspected swaps*;
- with identities in the input (DeepLabCut multi-animal with identity, SLEAP tracks: each
  camera's instances carry an animal's name), every tracklet collects the names its
  instances carry (one vote per camera and frame) and tracklets are named greedily, the
  best-supported first, never two overlapping tracklets with one name. A track whose next
  tracklet gets another name had swapped: the swap is *repaired*. Labels that disagree with
  the geometry (an instance labelled ``mouse2`` that is geometrically ``mouse1``) are
  overruled and listed as repaired label swaps of the input.

Whether the input's names are identities at all is measured (``identity="auto"``): the
share of votes that agree with their tracklet's majority (near 1 for identities, near
``1 / n_names`` for arbitrary per-frame slots).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Identities", "resolve_identities", "tracklets", "runs"]

#: Below this assignment confidence a track is cut (a swap cannot be ruled out).
CUT_CONFIDENCE = 0.15
#: Share of label votes agreeing with their tracklet's majority for names to be identities.
MIN_AGREEMENT = 0.7


@dataclass
class Identities:
    """Individuals as named in the output and how sure their identity is.

    Attributes
    ----------
    names : list of n_individuals str
    track : (n_frames, n_individuals) int
        The tracker's track holding every individual in every frame (-1 none).
    confidence : (n_frames, n_individuals) in [0, 1], NaN where not seen
        Identity confidence: the tracker's assignment confidence, raised by label support
        where the input's identities are used.
    used_labels : bool
    label_agreement : float or None
        Share of the input's label votes that agree with their tracklet (None: no labels).
    repaired : list of dict
        ``{"frame", "individuals": [a, b], "kind": "track"}``: the tracker had swapped them
        and the labels set it right; ``{"camera", "start", "stop", "label", "individual",
        "kind": "label"}``: the input's label was overruled by the geometry.
    suspected : list of dict
        ``{"start", "stop", "individuals": [...]}``: encounters where the identity could not
        be confirmed (confidence below :data:`CUT_CONFIDENCE`, no label to decide).
    """

    names: list[str]
    track: np.ndarray
    confidence: np.ndarray
    used_labels: bool = False
    label_agreement: float | None = None
    repaired: list = field(default_factory=list)
    suspected: list = field(default_factory=list)

    def assignment(self, tracks: np.ndarray) -> np.ndarray:
        """Every individual's instance per camera and frame, from the tracks'.

        Parameters
        ----------
        tracks : (n_cams, n_frames, n_tracks) int
            The tracker's assignment (:attr:`Association.assignment`), -1 for none.

        Returns
        -------
        (n_cams, n_frames, n_individuals) int
            Slot of each individual (the track holding it in that frame), -1 for none.
        """
        idx = np.broadcast_to(np.maximum(self.track, 0)[None],
                              (tracks.shape[0], *self.track.shape))
        return np.where((self.track >= 0)[None], np.take_along_axis(tracks, idx, axis=2), -1)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the True runs of a 1D boolean array."""
    m = np.concatenate([[False], np.asarray(mask, bool), [False]])
    d = np.flatnonzero(np.diff(m.astype(np.int8)))
    return list(zip(d[::2].tolist(), d[1::2].tolist(), strict=True))


def tracklets(seen: np.ndarray, confidence: np.ndarray,
              cut: float = CUT_CONFIDENCE) -> list[tuple[int, int, int]]:
    """Pieces of every track whose identity is certain within.

    Parameters
    ----------
    seen : (n_frames, n_tracks) bool
    confidence : (n_frames, n_tracks)
    cut : float
        A frame below this confidence ends a tracklet (and starts the next).

    Returns
    -------
    list of (track, start, stop)
    """
    out = []
    for k in range(seen.shape[1]):
        for s, e in runs(seen[:, k]):
            low = np.flatnonzero(~(confidence[s:e, k] >= cut)) + s
            bounds = [s, *[b for b in low.tolist() if b > s], e]
            out += [(k, a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
    return out


def _votes(assignment: np.ndarray, slot_label: np.ndarray, n_labels: int) -> np.ndarray:
    """``(n_frames, n_tracks, n_labels)`` cameras whose instance carries each label."""
    n_cams, n_frames, n_tracks = assignment.shape
    lab = np.where(assignment >= 0, slot_label[np.maximum(assignment, 0)], -1)
    votes = np.zeros((n_frames, n_tracks, n_labels + 1), np.int32)
    f, k = np.meshgrid(np.arange(n_frames), np.arange(n_tracks), indexing="ij")
    for c in range(n_cams):
        np.add.at(votes, (f, k, np.where(lab[c] >= 0, lab[c], n_labels)), 1)
    return votes[..., :n_labels]


def resolve_identities(assignment: np.ndarray, confidence: np.ndarray,
                       slot_names: list[str] | None = None, identity: str = "auto",
                       n_started: int | None = None) -> Identities:
    """Name the tracks and measure how sure their identities are.

    Parameters
    ----------
    assignment : (n_cams, n_frames, n_tracks) int
        Slot of every track's instance per camera (-1 none), from :func:`associate`.
    confidence : (n_frames, n_tracks)
        The tracker's assignment confidence.
    slot_names : list of n_slots str, optional
        The input's individual names (one per slot); identities when ``identity`` says so.
    identity : {"auto", "yes", "no"}
        Use the names as identity evidence: when they agree with the geometry
        (:data:`MIN_AGREEMENT`), always, or never.
    n_started : int, optional
        Tracks that were started (the rest are dropped); default all.

    Returns
    -------
    Identities
    """
    n_cams, n_frames, n_tracks = assignment.shape
    n_started = n_tracks if n_started is None else int(n_started)
    assignment = assignment[:, :, :n_started]
    confidence = confidence[:, :n_started]
    seen = (assignment >= 0).sum(0) >= 2
    pieces = tracklets(seen, confidence)
    result, agreement = None, None
    if slot_names and identity != "no" and n_started:
        labels = list(dict.fromkeys(slot_names))
        slot_label = np.array([labels.index(s) for s in slot_names])
        votes = _votes(assignment, slot_label, len(labels))
        tv = np.array([votes[a:b, k].sum(0) for k, a, b in pieces]).reshape(-1, len(labels))
        total = tv.sum()
        agreement = float(tv.max(1).sum() / total) if total else 0.0
        if identity == "yes" or (identity == "auto" and agreement >= MIN_AGREEMENT):
            result = _named_by_labels(pieces, tv, labels, assignment, slot_label, confidence)
            result.label_agreement = agreement
    if result is None:  # named by first appearance: track k is ind<k+1> wherever it is seen
        result = Identities([f"ind{k + 1}" for k in range(n_started)],
                            np.where(seen, np.arange(n_started)[None], -1), confidence.copy(),
                            label_agreement=agreement)
    result.suspected = _suspected(result, pieces)
    return result


def _named_by_labels(pieces, tv, labels, assignment, slot_label, confidence) -> Identities:
    n_cams, n_frames, n_tracks = assignment.shape
    # the names used: the most voted labels, one per track started
    used = [labels[i] for i in np.argsort(-tv.sum(0), kind="stable")[:n_tracks]
            if tv.sum(0)[i] > 0]
    col = [labels.index(n) for n in used]
    names = sorted(used, key=lambda n: (len(n), n))
    name_idx = {n: i for i, n in enumerate(names)}
    # greedy: best supported tracklets first; overlapping tracklets never share a name
    taken = np.zeros((n_frames, len(names)), bool)
    piece_name = [-1] * len(pieces)
    support = tv[:, col] if len(col) else np.zeros((len(pieces), 0))
    order = np.argsort(-(support.max(1) if support.size else np.zeros(len(pieces))),
                       kind="stable")
    for p in order:
        k, a, b = pieces[p]
        for c in np.argsort(-support[p], kind="stable"):
            ni = name_idx[used[c]]
            if support[p, c] > 0 and not taken[a:b, ni].any():
                piece_name[p] = ni
                taken[a:b, ni] = True
                break
    # tracklets without votes keep their track's previous name when it is free
    for p, (k, a, b) in enumerate(pieces):
        if piece_name[p] >= 0:
            continue
        prev = [piece_name[q] for q, (k2, _, b2) in enumerate(pieces) if k2 == k and b2 <= a
                and piece_name[q] >= 0]
        cands = ([prev[-1]] if prev else []) + list(range(len(names)))
        for ni in cands:
            if not taken[a:b, ni].any():
                piece_name[p] = ni
                taken[a:b, ni] = True
                break
    track = np.full((n_frames, len(names)), -1)
    conf = np.full((n_frames, len(names)), np.nan)
    repaired = []
    for p, (k, a, b) in enumerate(pieces):
        ni = piece_name[p]
        if ni < 0:
            continue
        track[a:b, ni] = k
        s = support[p]
        share = s[used.index(names[ni])] / max(s.sum(), 1)
        conf[a:b, ni] = np.maximum(confidence[a:b, k], share)
    # a track whose consecutive tracklets got different names had swapped
    for k in range(n_tracks):
        mine = sorted((a, b, piece_name[p]) for p, (kk, a, b) in enumerate(pieces) if kk == k)
        for (_, _, n0), (a1, _, n1) in zip(mine[:-1], mine[1:], strict=True):
            if n0 >= 0 and n1 >= 0 and n0 != n1:
                repaired.append({"kind": "track", "frame": int(a1),
                                 "individuals": [names[n0], names[n1]]})
    # input labels overruled by the geometry, as runs per camera and individual
    ident = Identities(names, track, conf, used_labels=True)
    slot = ident.assignment(assignment)  # (n_cams, n_frames, n_names)
    lab = np.where(slot >= 0, slot_label[np.maximum(slot, 0)], -1)
    own = np.array([labels.index(n) for n in names])
    for ni, name in enumerate(names):
        for c in range(n_cams):
            for s, e in runs((slot[c, :, ni] >= 0) & (lab[c, :, ni] != own[ni])):
                repaired.append({"kind": "label", "camera": int(c), "start": s, "stop": e,
                                 "label": labels[int(lab[c, s, ni])], "individual": name})
    repaired.sort(key=lambda r: r.get("frame", r.get("start", 0)))
    ident.repaired = repaired
    return ident


def _suspected(ident: Identities, pieces) -> list[dict]:
    """Low-confidence encounters that no label decided."""
    low = ~(ident.confidence >= CUT_CONFIDENCE) & (ident.track >= 0)
    out = []
    for i, name in enumerate(ident.names):
        for s, e in runs(low[:, i]):
            others = [ident.names[j] for j in range(len(ident.names))
                      if j != i and low[s:e, j].any()]
            out.append({"start": s, "stop": e, "individuals": [name, *others]})
    # one entry per encounter (the same run seen from each individual)
    uniq = {}
    for o in out:
        key = (o["start"], tuple(sorted(o["individuals"])))
        uniq.setdefault(key, o)
    return sorted(uniq.values(), key=lambda o: o["start"])
