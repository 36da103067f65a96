"""Several animals from files: association, identities, per-individual inputs and the report.

:func:`track_inputs` turns every camera's instances (:class:`~triangulate.files.Inputs` whose
individuals are the input's slots, in any order per camera and frame) into one 2D input per
individual (:func:`.associate.associate`, then :func:`.identity.resolve_identities`), so that
every triangulation method reconstructs each animal from its own views; :func:`build_report`
summarizes coverage, reprojection error and identity per individual, with the warnings that
bad input deserves (more animals than asked, individuals only one camera sees, frames where
nothing could be associated).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poses.atomic import write_json_atomic
from poses.errors import InputError

from .associate import Association, associate, gather
from .identity import Identities, resolve_identities, runs
from .inputs import Inputs

__all__ = ["Tracked", "track_inputs", "build_report", "save_report", "identity_csv_path",
           "save_identity_csv"]

log = logging.getLogger(__name__)


@dataclass
class Tracked:
    """What association did, for the report.

    Attributes
    ----------
    association : Association
    identities : Identities
    slot_names : list of str
        The input's individual names (slots).
    slot_cameras : dict of str to list of str
        The cameras whose input has data under each slot name.
    camera_names : dict of str to list of str
        The individuals every camera's input names (None when not known).
    instances : (n_frames,) int
        Instances (with enough keypoints) in every frame over all cameras.
    """

    association: Association
    identities: Identities
    slot_names: list[str]
    slot_cameras: dict
    instances: np.ndarray
    camera_names: dict | None = None

    @property
    def nothing_associated(self) -> np.ndarray:
        """``(n_frames,)`` bool: two or more instances, yet no individual seen by two views."""
        return (self.instances >= 2) & ~self.association.seen.any(1)


def track_inputs(rig, data, n_individuals: int, identity: str = "auto",
                 camera_names: dict | None = None, **options):
    """One 2D input per individual from every camera's unordered instances.

    Parameters
    ----------
    rig : CameraRig
    data : Inputs
        ``points2d (n_cams, n_frames, n_slots * n_keypoints, 2)`` with ``individuals`` the
        slot names.
    n_individuals : int
        The most animals present.
    identity : {"auto", "yes", "no"}
        Whether the slot names are identities (see :func:`.identity.resolve_identities`).
    camera_names : dict of str to list of str, optional
        The individuals every camera's input names (for the report's warnings).
    **options
        Passed to :func:`.associate.associate`.

    Returns
    -------
    inputs : Inputs
        ``(n_cams, n_frames, n_out * n_keypoints, 2)``, individuals named.
    tracked : Tracked
    """
    n_cams, n_frames, _, _ = data.points2d.shape
    n_slots, n_kp = len(data.individuals), len(data.keypoints)
    p = data.points2d.reshape(n_cams, n_frames, n_slots, n_kp, 2)
    s = data.scores.reshape(n_cams, n_frames, n_slots, n_kp)
    assoc = associate(rig, p, s, n_individuals, **options)
    if not assoc.n_started:
        raise InputError("no animal could be associated across two or more cameras in any "
                         "frame (every instance is seen by one camera only, or the views "
                         "disagree): check that the calibration matches the videos and that "
                         "the 2D files are named by the calibration's cameras")
    ident = resolve_identities(assoc.assignment, assoc.confidence, data.individuals,
                               identity=identity, n_started=assoc.n_started)
    n_out = len(ident.names)
    tp, ts = gather(p, s, ident.assignment(assoc.assignment))
    out = Inputs(tp.reshape(n_cams, n_frames, n_out * n_kp, 2).astype(data.points2d.dtype),
                 ts.reshape(n_cams, n_frames, n_out * n_kp).astype(data.scores.dtype),
                 data.keypoints, list(ident.names), data.fps)
    present = np.isfinite(p[..., 0]).any(-1).any(1)  # (n_cams, n_slots)
    slot_cameras = {n: [rig.names[c] for c in range(n_cams) if present[c, i]]
                    for i, n in enumerate(data.individuals)}
    min_kp = assoc.options["min_keypoints"]
    instances = ((s >= assoc.options["score_threshold"]) & np.isfinite(p[..., 0])).sum(-1)
    instances = (instances >= min_kp).sum((0, 2))
    log.info("associated %d instance(s) into %d individual(s) %s (identities from %s)",
             int(instances.sum()), n_out, ident.names,
             "the input's labels" if ident.used_labels else "geometry and motion")
    return out, Tracked(assoc, ident, list(data.individuals), slot_cameras, instances,
                        camera_names)


def _warnings(tracked: Tracked, n_individuals: int) -> list[str]:
    assoc, ident = tracked.association, tracked.identities
    out = []
    n_frames = len(assoc.excess)
    extra = assoc.excess > 0
    if extra.sum() >= max(10, 0.01 * n_frames):
        first = int(np.flatnonzero(extra)[0])
        out.append(f"more animals than --individuals {n_individuals}: up to "
                   f"{int(assoc.excess.max())} more seen consistently by 3 or more cameras "
                   f"in {int(extra.sum())} frame(s) (first at frame {first}); they are not "
                   f"reconstructed: raise --individuals")
    if ident.used_labels:
        for name, cams in tracked.slot_cameras.items():
            if name in ident.names and len(cams) == 1:
                out.append(f"individual {name!r} appears only in camera {cams[0]!r}: one "
                           f"view cannot triangulate it; it is reconstructed where the "
                           f"other cameras' instances match it")
        sets = tracked.camera_names or {}
        if len({tuple(sorted(v)) for v in sets.values()}) > 1:
            out.append(f"the cameras name different individuals "
                       f"({', '.join(f'{c}: {v}' for c, v in sets.items())}); names are "
                       f"used as identity evidence where present")
    nothing = tracked.nothing_associated
    if nothing.any():
        rr = runs(nothing)
        shown = ", ".join(f"{a}-{b - 1}" if b - a > 1 else f"{a}" for a, b in rr[:5])
        out.append(f"{int(nothing.sum())} frame(s) with detections where nothing could be "
                   f"associated across cameras (frames {shown}{' ...' if len(rr) > 5 else ''})"
                   f"; those frames are empty in the output")
    return out


def build_report(result, poses, tracked: Tracked | None, n_individuals: int,
                 inputs: dict | None = None) -> dict:
    """The ``--report`` JSON of a triangulation.

    Parameters
    ----------
    result : Triangulation
        Over the folded joints.
    poses : Poses
        ``(n_frames, n_individuals, n_keypoints, 3)``.
    tracked : Tracked or None
        None for single-animal input (no association).
    n_individuals : int
    inputs : dict, optional
        Camera name -> input path, recorded as strings.

    Returns
    -------
    dict
        ``individuals``: per individual ``name``, ``frames_reconstructed`` (fraction of
        frames with at least one keypoint), ``keypoints_reconstructed`` (fraction of all
        keypoints of all frames), ``reprojection_error_px`` (median), ``identity_confidence``
        (mean, 5th percentile, frames below 0.5), ``suspected_swaps``, ``repaired_swaps``;
        ``identity`` (source, label agreement), ``association`` (frame counts), ``warnings``.
    """
    n_frames, n_ind, n_kp = poses.position.shape[:3]
    ok = np.isfinite(poses.position).all(-1)
    err = result.reprojection_error.reshape(n_frames, n_ind, n_kp)
    ident = tracked.identities if tracked is not None else None
    individuals = []
    for i, name in enumerate(poses.individuals):
        e = err[:, i][np.isfinite(err[:, i])]
        entry = {"name": name,
                 "frames_reconstructed": round(float(ok[:, i].any(-1).mean()), 4),
                 "keypoints_reconstructed": round(float(ok[:, i].mean()), 4),
                 "reprojection_error_px": round(float(np.median(e)), 3) if e.size else None}
        if ident is not None:
            c = ident.confidence[:, i]
            c = c[np.isfinite(c)]
            entry["identity_confidence"] = {
                "mean": round(float(c.mean()), 4) if c.size else None,
                "p05": round(float(np.quantile(c, 0.05)), 4) if c.size else None,
                "frames_below_0.5": int((c < 0.5).sum())}
            entry["suspected_swaps"] = [s for s in ident.suspected if name in s["individuals"]]
            entry["repaired_swaps"] = [r for r in ident.repaired
                                       if name == r.get("individual")
                                       or name in r.get("individuals", [])]
        individuals.append(entry)
    report = {"individuals": individuals, "method": result.method,
              "n_frames": int(n_frames), "units": result.units,
              "individuals_asked": int(n_individuals)}
    if inputs:
        report["inputs"] = {str(k): str(v) for k, v in inputs.items()}
    if tracked is not None:
        assoc = tracked.association
        report["identity"] = {
            "source": "labels" if ident.used_labels else "geometry",
            "label_agreement": None if ident.label_agreement is None
            else round(ident.label_agreement, 4),
            "input_names": tracked.slot_names,
            "repaired_track_swaps": sum(r["kind"] == "track" for r in ident.repaired),
            "overruled_label_runs": sum(r["kind"] == "label" for r in ident.repaired),
            "suspected_swaps": len(ident.suspected)}
        report["association"] = {
            "frames_with_detections": int((tracked.instances > 0).sum()),
            "frames_nothing_associated": int(tracked.nothing_associated.sum()),
            "frames_with_excess_animals": int((assoc.excess > 0).sum()),
            "options": {k: v for k, v in assoc.options.items()}}
        report["warnings"] = _warnings(tracked, n_individuals)
    else:
        report["warnings"] = []
    report["warnings"] = list(dict.fromkeys([*report["warnings"], *result.warnings]))
    return report


def save_report(report: dict, path: str | Path) -> Path:
    """Write the report as JSON, atomically."""
    return write_json_atomic(Path(path), report)


def identity_csv_path(report_path: str | Path) -> Path:
    """``R_identity.csv`` beside the report ``R.json``."""
    p = Path(report_path)
    return p.with_name(f"{p.stem}_identity.csv")


def save_identity_csv(identities: Identities, path: str | Path) -> Path:
    """How sure every individual's identity is in every frame, as CSV.

    Columns ``frame``, then one per individual (confidence in [0, 1], empty where the
    individual is not seen), written atomically.
    """
    import pandas as pd

    from poses.atomic import atomic_path

    df = pd.DataFrame(np.round(identities.confidence, 4), columns=identities.names)
    df.insert(0, "frame", np.arange(len(df)))
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    return Path(path)
