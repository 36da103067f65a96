"""File-level triangulation: 2D files of named cameras + calibration (+ skeleton) to 3D files.

The one orchestration behind ``tripose triangulate`` and the pipeline's triangulate step:
read every camera's 2D file into the pose data model (:func:`poses.io.load_views`), match
them to the calibration's cameras, triangulate each individual (their joints folded into
one joint axis, so every method and kernel serves several animals unchanged), apply the
optional post steps through :meth:`Triangulation.with_points` (quality that fits the
filtered points) and write atomically with :func:`poses.io.save_poses`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from poses import (
    DEFAULT_INDIVIDUAL,
    Poses,
    PoseViews,
    Skeleton,
    load_views,
    parse_inputs,
    save_poses,
)
from poses.atomic import check_output
from poses.errors import InputError
from poses.io.registry import writer_format

from .inputs import Inputs
from .postprocess import check_post_steps, filter_points, needs_filtering
from .validators import check_skeleton_bodyparts, match_cameras

__all__ = ["parse_inputs", "load_inputs", "Inputs", "triangulate_views", "triangulate_files",
           "check_outputs", "save_result", "individual_path"]

log = logging.getLogger(__name__)


def load_inputs(inputs: Mapping[str, Path] | PoseViews, camera_names: Sequence[str],
                truncate: bool = False, truncate_hint: str = "pass --truncate",
                dtype=np.float32, skeleton: Skeleton | None = None,
                same_individuals: bool = True) -> Inputs:
    """Read every camera's 2D file and stack them in the rig's order.

    Parameters
    ----------
    inputs : mapping camera name -> path, or PoseViews already read
    camera_names : rig cameras in order
    truncate : bool
        Cut every camera to the shortest frame count (with a warning) instead of refusing.
    truncate_hint : str
        How the caller's user asks for ``truncate`` (the refusal's message says it).
    dtype : numpy dtype
        Of ``points2d`` and ``scores`` (float32 halves the memory of long recordings).
    skeleton : Skeleton, optional
        Names the keypoints of inputs that carry none (OpenPose / Pose2Sim JSON folders:
        BODY_25, BODY_25B, ... differ only by their names and order).
    same_individuals : bool
        Refuse inputs whose cameras name different individuals (they are triangulated by
        name); False stacks the union of the names as slots (for association, which
        matches instances whatever their names).

    Returns
    -------
    Inputs
    """
    if isinstance(inputs, PoseViews):
        views = inputs
    else:
        views = load_views(inputs, skeleton=skeleton)
    order = match_cameras(views.cameras, camera_names, where="2D inputs")
    counts = views.n_frames
    n_frames = min(counts.values())
    if len(set(counts.values())) > 1:
        detail = ", ".join(f"{n}: {c}" for n, c in counts.items())
        if not truncate:
            raise InputError(f"frame counts differ between cameras ({detail}); synchronize the "
                             f"videos or {truncate_hint} to cut all to the shortest ({n_frames})")
        log.warning("TRUNCATING every camera to %d frames: frame counts differ (%s)",
                    n_frames, detail)
    for c, k in enumerate(order):
        if k < 0:
            log.warning("camera %r of the calibration has no 2D input; it is left out",
                        camera_names[c])
    individuals = views.individuals
    if len(individuals) > 1 and same_individuals:
        per_cam = {c: views[c].individuals for c in views.cameras}
        if any(set(v) != set(individuals) for v in per_cam.values()):
            raise InputError(f"the 2D inputs name different individuals per camera "
                             f"({per_cam}); each individual is triangulated from the views "
                             f"that name it, so every camera must name the same ones")
        log.info("triangulating %d individuals %s, identities as the 2D inputs name them",
                 len(individuals), individuals)
    pos, conf = views.stack(cameras=camera_names, n_frames=n_frames, individuals=individuals)
    n_cams, _, n_ind, n_kp = conf.shape
    points2d = pos.reshape(n_cams, n_frames, n_ind * n_kp, 2).astype(dtype)
    scores = np.nan_to_num(conf.reshape(n_cams, n_frames, n_ind * n_kp), nan=0.0)
    fps = {views[c].fps for c in views.cameras} - {None}
    return Inputs(points2d, scores.astype(dtype), views.keypoints, individuals,
                  fps.pop() if len(fps) == 1 else None)


def check_outputs(out: str | Path, angles_out: str | Path | None, inputs, *more,
                  report_out: str | Path | None = None) -> None:
    """Refuse outputs that would write over an input or over each other, or that cannot be
    written (a folder, a link, under a file, a read-only folder), before any work.

    ``report_out`` adds the report and its identity CSV beside it
    (:func:`.multi.identity_csv_path`) to the outputs.

    Raises
    ------
    InputError
        Naming the output and the file it would replace or why it cannot be written.
    """
    def same(a, b) -> bool:
        a, b = Path(a), Path(b)
        try:
            return a.exists() and b.exists() and a.samefile(b) or a.resolve() == b.resolve()
        except OSError:
            return False

    outputs = [("-o", out), ("--angles", angles_out)]
    if report_out is not None:
        from .multi import identity_csv_path

        outputs += [("--report", report_out), ("--report", identity_csv_path(report_out))]
    outputs = [(what, target) for what, target in outputs if target is not None]
    for what, target in outputs:
        check_output(target, what)
    for i, (what, target) in enumerate(outputs):
        if any(same(target, earlier) for _, earlier in outputs[:i]):
            if what == "--angles":
                raise InputError(f"--angles {angles_out} is the 3D output too (-o); give the "
                                 f"angles their own file")
            raise InputError(f"{what} {target} is another output too; give the report its "
                             f"own file")
        for src in [*inputs, *more]:
            if same(target, src):
                raise InputError(f"{what} {target} would write over the input {src}; choose "
                                 f"another output path")


def _fold_skeleton(skel: Skeleton, keypoints: list[str], individuals: list[str]) -> Skeleton:
    """The skeleton over ``individuals x keypoints`` folded joints (limbs within each)."""
    if len(individuals) == 1:
        return skel.on_bodyparts(keypoints)
    names = [f"{i}\x1f{k}" for i in individuals for k in keypoints]

    def fold(pairs):
        return [(f"{i}\x1f{a}", f"{i}\x1f{b}") for i in individuals for a, b in pairs]

    return Skeleton(bodyparts=names, limbs=fold(skel.limbs), weak_limbs=fold(skel.weak_limbs))


def triangulate_views(rig, inputs: Inputs, skeleton: Skeleton | None = None,
                      method: str = "ransac", fps: float | None = None, fill_gaps: int = 0,
                      lowpass_hz: float | None = None,
                      axes: Sequence[tuple[str, str, str]] | None = None,
                      reference_point: str | None = None, **options):
    """Triangulate stacked inputs, then gap filling, low-pass and axis alignment.

    Parameters
    ----------
    rig : CameraRig
    inputs : Inputs
    skeleton : Skeleton, optional
        Limbs for optim (by name, per individual).
    method : {"dlt", "ransac", "optim"}
    fps : float, optional
        Frame rate, Hz (the low-pass filter needs it; default the inputs').
    fill_gaps : int
        Interpolate 3D gaps up to this many frames.
    lowpass_hz : float, optional
        Zero-phase Butterworth cutoff, Hz.
    axes, reference_point :
        Axis alignment (see :func:`triangulate.align.align_points`): one rigid transform of
        the whole scene, from all individuals' points.
    **options
        Passed to :func:`triangulate.triangulate`.

    Returns
    -------
    result : Triangulation
        Over the folded joints ``(n_frames, n_individuals * n_keypoints)``.
    poses : Poses
        ``(n_frames, n_individuals, n_keypoints, 3)`` in the rig's units.
    """
    from .api import triangulate

    fps = fps if fps is not None else inputs.fps
    kps, inds = inputs.keypoints, inputs.individuals
    if method == "optim" and skeleton is not None:
        options.setdefault("skeleton", _fold_skeleton(skeleton, kps, inds))
    result = triangulate(rig, inputs.points2d, inputs.scores, method=method, **options)
    if needs_filtering(fill_gaps, lowpass_hz, axes, reference_point):
        X = filter_points(result.points3d, kps, len(inds), fill_gaps, lowpass_hz, fps, axes,
                          reference_point)
        result = result.with_points(X, rig, inputs.points2d, inputs.scores)
    return result, result.to_poses(kps, inds, fps=fps)


def triangulate_files(calibration: str | Path, inputs: Mapping[str, Path], out: str | Path,
                      skeleton: str | Path | Skeleton | None = None, method: str = "ransac",
                      format: str | None = None, truncate: bool = False,
                      fps: float | None = 100.0, fill_gaps: int = 0,
                      lowpass_hz: float | None = None,
                      axes: Sequence[tuple[str, str, str]] | None = None,
                      reference_point: str | None = None, angles_out: str | Path | None = None,
                      truncate_hint: str = "pass --truncate", split_individuals: bool = True,
                      individuals: int | None = None, identity: str = "auto",
                      report_out: str | Path | None = None, association: dict | None = None,
                      **options):
    """Triangulate 2D files and write the 3D result.

    Parameters
    ----------
    calibration : path of an anipose / sleap-anipose / Pose2Sim calibration TOML
    inputs : mapping camera name -> 2D file (any 2D format of :mod:`poses.io`)
    out : output path; its suffix picks the format (``.csv`` anipose, ``.trc``, ``.c3d``,
        ``.parquet``, ``.nc``, ``.nwb``)
    skeleton : path of a skeleton TOML or a Skeleton (limbs for optim, angles), optional
    method : {"dlt", "ransac", "optim"}
    format : str, optional (default from ``out``'s suffix)
    truncate : bool
        Cut cameras to the shortest recording instead of refusing.
    fps : float, optional
        Frame rate, Hz (TRC/C3D headers and the low-pass filter).
    fill_gaps : int
        Interpolate 3D gaps up to this many frames.
    lowpass_hz : float, optional
        Zero-phase Butterworth cutoff, Hz.
    axes, reference_point :
        Axis alignment (see :func:`triangulate.align.align_points`).
    angles_out : path, optional
        Write the skeleton's joint angles (degrees) there as CSV (``ANGLES_<name>.csv`` per
        individual when there are several).
    truncate_hint : str
        How the caller's user asks for ``truncate``.
    split_individuals : bool
        Several individuals into an anipose CSV: ``OUT_<name>.csv`` each (see
        :func:`save_result`); False keeps them in one table with an ``individual`` column.
    individuals : int, optional
        The most animals present (default: the most individuals any camera's input names).
        With more than one, or inputs naming several, every camera's instances are
        associated across views and over time (:mod:`.associate`) and each animal is
        triangulated from its own views.
    identity : {"auto", "yes", "no"}
        Whether the inputs' individual names are identities (the same name in every camera
        is the same animal) to use as evidence: ``auto`` measures it (see
        :func:`.identity.resolve_identities`). Without identities, individuals are named
        ``ind1 ... indN`` in order of first appearance.
    report_out : path, optional
        Write a JSON report there (see :func:`.multi.build_report`) and, with several
        animals, every frame's identity confidence per individual beside it
        (``R_identity.csv``).
    association : dict, optional
        Options of :func:`.associate.associate`.
    **options
        Passed to :func:`triangulate.triangulate`.

    Returns
    -------
    result : Triangulation
    paths : list of Path written (3D files, the report, then angle files)
    """
    from calibration.load_rig import load_rig
    from poses.skeleton import load_skeleton

    from .associate import _options as association_options
    from .validators import check_choice, check_range

    check_choice(identity, ("auto", "yes", "no"), "identity")
    if individuals is not None:
        individuals = check_range(individuals, "individuals", 1, integer=True)
    if fps is not None:
        fps = check_range(fps, "fps", 0, low_open=True)
    association_options(dict(association or {}))
    more = [skeleton] if isinstance(skeleton, (str, Path)) else []
    check_outputs(out, angles_out, [calibration, *inputs.values()], *more,
                  report_out=report_out)
    rig = load_rig(calibration)
    skel = skeleton if isinstance(skeleton, Skeleton) or skeleton is None \
        else load_skeleton(skeleton)
    if angles_out is not None and (skel is None or not skel.angles):
        raise InputError("joint angles need a skeleton with [angles]; pass --skeleton")
    views = load_views(inputs, skeleton=skel)
    per_camera = max(views[c].n_individuals for c in views.cameras)
    n_individuals = individuals if individuals is not None else per_camera
    multi = n_individuals > 1 or len(views.individuals) > 1
    data = load_inputs(views, rig.names, truncate=truncate, truncate_hint=truncate_hint,
                       same_individuals=not multi)
    check_post_steps(data.keypoints, fill_gaps, lowpass_hz,
                     fps if fps is not None else data.fps, axes, reference_point)
    tracked = None
    if multi:
        from .multi import track_inputs

        data, tracked = track_inputs(
            rig, data, n_individuals, identity=identity,
            camera_names={c: views[c].individuals for c in views.cameras},
            **(association or {}))
    if skel is not None:
        where = f"skeleton file {skeleton}" if not isinstance(skeleton, Skeleton) \
            else "skeleton"
        check_skeleton_bodyparts(skel, data.keypoints, where=where)
    result, poses = triangulate_views(rig, data, skel, method=method, fps=fps,
                                      fill_gaps=fill_gaps, lowpass_hz=lowpass_hz, axes=axes,
                                      reference_point=reference_point, **options)
    if tracked is not None or report_out is not None:
        from .multi import build_report, save_report

        report = build_report(result, poses, tracked, n_individuals, dict(inputs))
        result.extra["report"] = report
        result.warnings.extend(m for m in report["warnings"] if m not in result.warnings)
    paths = save_result(poses, out, format=format, split=split_individuals)
    if report_out is not None:
        paths.append(save_report(report, report_out))
        if tracked is not None:
            from .multi import identity_csv_path, save_identity_csv

            paths.append(save_identity_csv(tracked.identities,
                                           identity_csv_path(report_out)))
    if angles_out is not None:
        from .angles import save_angles

        for name in poses.individuals:
            target = angles_out if poses.n_individuals == 1 else individual_path(angles_out,
                                                                                 name)
            X = poses.sel(individuals=[name]).position[:, 0]
            paths.append(save_angles(target, X, poses.keypoints, skel.angles))
    return result, paths


def individual_path(path: str | Path, individual: str) -> Path:
    """``OUT_<individual>.csv`` beside ``OUT.csv`` (characters other than letters, digits,
    ``.``, ``_`` and ``-`` become ``_``)."""
    path = Path(path)
    slug = re.sub(r"[^A-Za-z0-9._-]", "_", str(individual))
    return path.with_name(f"{path.stem}_{slug}{path.suffix}")


def save_result(poses: Poses, out: str | Path, format: str | None = None,
                split: bool = True) -> list[Path]:
    """Write 3D poses; several individuals to an anipose CSV go one file each.

    Parameters
    ----------
    poses : Poses
        ``(n_frames, n_individuals, n_keypoints, 3)``.
    out : str or Path
    format : str, optional
        Default from ``out``'s suffix.
    split : bool
        With several individuals and an anipose CSV, write ``OUT_<name>.csv`` per individual
        (each anipose's own single-animal table); otherwise one file holds them all (the
        model formats always do: ``.nwb``, ``.nc``, ``.parquet`` ...).

    Returns
    -------
    list of Path written
    """
    out = Path(out)
    anipose = writer_format(out, format, poses.is_3d).name == "anipose"
    if not (split and anipose and poses.n_individuals > 1):
        return [save_poses(poses, out, format=format)]
    targets = {name: individual_path(out, name) for name in poses.individuals}
    if len(set(targets.values())) < len(targets):
        raise InputError(f"individual names {poses.individuals} give the same file names "
                         f"({[p.name for p in targets.values()]}); write one file instead "
                         f"(-o {out.with_suffix('.parquet').name} or .nc / .nwb)")
    return [save_poses(poses.sel(individuals=[name]).replace(individuals=[DEFAULT_INDIVIDUAL]),
                       path, format="anipose") for name, path in targets.items()]
