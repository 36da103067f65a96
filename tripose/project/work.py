"""The work of each pipeline task: plain top-level functions of paths and options.

They run in joblib or Dask workers (so they take and return only picklable values), write
every output atomically, and never decide whether to run (that is :mod:`.steps`' job).

Several individuals: the pose-3d CSVs hold them all (anipose long format, an ``individual``
column); filter treats each individual's points apart (gap filling and low-pass are per
point; the alignment is one rigid transform of the whole scene, so the animals keep their
places relative to each other); angles writes one table, with an ``individual`` column when
there are several (:func:`save_angles_table`); render draws them all in one scene.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from poses.atomic import make_folder
from poses.errors import InputError

__all__ = ["calibrate_rig", "analyze_camera", "triangulate_session", "filter_session",
           "angles_session", "render_session", "load_skeleton_spec", "save_angles_table"]

log = logging.getLogger(__name__)


def _load_3d(src: str):
    """The 3D poses of a pose-3d CSV (every individual)."""
    from poses import load_poses

    return load_poses(src, format="anipose")


def load_skeleton_spec(spec: str | dict):
    """A :class:`~poses.skeleton.Skeleton` from a TOML path or an inline table."""
    from poses.skeleton import load_skeleton, skeleton_from_dict

    if isinstance(spec, dict):
        return skeleton_from_dict(spec, where="config.toml [project] skeleton")
    return load_skeleton(spec)


def calibrate_rig(videos: dict[str, str], board: str | dict, out: str, fisheye: bool,
                  distortion: str, step: int, n_jobs: int | None) -> dict:
    """Calibrate from ChArUco videos into ``out`` (calibration.toml, written atomically)."""
    from calibration import load_board
    from calibration.api import calibrate
    from calibration.load_board import board_from_dict

    b = (board_from_dict(board, where="config.toml calibration.board")
         if isinstance(board, dict) else load_board(board))
    out_p = Path(out)
    res = calibrate([f"{cam}={p}" for cam, p in videos.items()], b, fisheye=fisheye,
                    step=step, cache_dir=out_p.parent / ".tripose-cache", n_jobs=n_jobs,
                    progress=False, distortion_model=distortion)
    res.rig.save(out_p)
    r = res.report
    log.info("calibrated %d cameras into %s: median reprojection %.3f px", res.rig.n_cams,
             out_p, r["reprojection_median_px"])
    return {"reprojection_median_px": r["reprojection_median_px"]}


def analyze_camera(model: str, video: str, out: str, batch_size: int, filter: str,
                   device: str) -> dict:
    """Run a 2D model over one video into ``out`` (``<cam>.h5`` + ``.csv``), atomically.

    The network writes into a temporary folder beside ``out``; both files are renamed into
    place when it finishes, so a killed run leaves no partial 2D file.
    """
    from pose2d.analyze import analyze_videos

    out_p = Path(out)
    make_folder(out_p.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_p.stem}.", dir=out_p.parent))
    try:
        res = analyze_videos(model, [video], tmp, batch_size=batch_size, overwrite=True,
                             progress=False, device=device, filter=filter or None)[0]
        made = Path(res["output"])
        os.replace(made.with_suffix(".csv"), out_p.with_suffix(".csv"))
        os.replace(made, out_p)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("analyzed %s: %s frames into %s", video, res.get("n_frames"), out_p)
    return {"n_frames": res.get("n_frames")}


def triangulate_session(session: str, calibration: str, inputs: dict[str, str], out: str,
                        skeleton: str | dict, method: str, options: dict,
                        truncate: bool, individuals: int | None = None) -> dict:
    """Triangulate a session's 2D files into ``out`` (anipose pose-3d CSV, every individual
    in one table), through the one file-level orchestration
    :func:`triangulate.files.triangulate_files`.

    ``individuals`` (``triangulation.individuals``): the most animals present, passed on
    only when set (None: as many as the 2D files name).
    """
    from triangulate.files import triangulate_files

    skel = load_skeleton_spec(skeleton)
    if individuals is not None:
        options = {**options, "individuals": individuals}
    try:
        result, _ = triangulate_files(
            calibration, {c: Path(p) for c, p in inputs.items()}, out, skeleton=skel,
            method=method, format="anipose", truncate=truncate,
            truncate_hint="set triangulation.truncate = true", split_individuals=False,
            **options)
    except InputError as exc:
        raise InputError(f"session {session}: {exc}") from None
    for msg in result.warnings:
        log.warning("session %s: %s", session, msg)
    ok = np.isfinite(result.points3d).all(-1)
    log.info("triangulated session %s (%s): %d frames, %.1f%% of points", session, method,
             result.n_frames, 100 * ok.mean() if ok.size else 0.0)
    return {"frames": int(result.n_frames), "triangulated": float(ok.mean()) if ok.size else 0}


def filter_session(src: str, out: str, fps: float, fill_gaps: int, lowpass_hz: float,
                   axes: list[str], reference_point: str) -> dict:
    """Gap filling, low-pass and alignment of a pose-3d CSV into ``out``.

    Every individual is filtered on its own points (gap filling and low-pass work point by
    point, so the result equals filtering each individual alone); the alignment is one rigid
    transform of the whole scene, taken from all individuals' points.
    """
    from poses import save_poses
    from triangulate.postprocess import filter_poses

    pose = _load_3d(src)
    pose = filter_poses(pose, fill_gaps, lowpass_hz or None, fps,
                        axes=[_axis(a) for a in axes] or None,
                        reference_point=reference_point or None)
    save_poses(pose.replace(fps=fps), out, format="anipose")
    return {"frames": int(pose.n_frames), "individuals": list(pose.individuals)}


def _axis(text: str) -> tuple[str, str, str]:
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in ("x", "y", "z") or not all(parts):
        raise InputError(f"config.toml filter.axes: each entry must look like AXIS:FROM:TO "
                         f"(e.g. 'x:tail:nose'), got {text!r}")
    return parts[0], parts[1], parts[2]


def angles_session(src: str, out: str, skeleton: str | dict) -> dict:
    """The skeleton's joint angles (degrees) of a pose-3d CSV into ``out``: one table, with
    an ``individual`` column when the CSV holds several (see :func:`save_angles_table`)."""
    skel = load_skeleton_spec(skeleton)
    pose = _load_3d(src)
    save_angles_table(out, pose, skel.angles)
    return {"angles": sorted(skel.angles), "individuals": list(pose.individuals)}


def save_angles_table(path: str | Path, pose, angles: dict) -> Path:
    """Write the joint angles (degrees) of every individual of 3D ``pose`` as one CSV.

    One individual: :func:`triangulate.angles.save_angles`' table (a column per angle, then
    ``fnum``), whatever the individual's name. Several: the same columns plus
    ``individual``, one row per frame and individual, frame-major (the layout of the
    pose-3d CSV); ``df[df.individual == name]`` is that individual's table.

    Raises
    ------
    InputError
        An angle named like the ``individual`` column.
    """
    from triangulate.angles import save_angles

    if pose.n_individuals == 1:
        return save_angles(path, pose.position[:, 0], pose.keypoints, angles)
    return save_angles(path, pose.position, pose.keypoints, angles,
                       individuals=pose.individuals)


def render_session(src: str, calibration: str, skeleton: str | dict, movie: str,
                   html: str | None, combined: str | None, videos: dict[str, str],
                   fps: float) -> dict:
    """The 3D movie (and HTML scene, and combined video) of a session, via viz3d: every
    individual in one scene (each in its colour family, named above its head)."""
    import viz3d
    from calibration.load_rig import load_rig

    rig = load_rig(calibration)
    pose = _load_3d(src)
    skel = load_skeleton_spec(skeleton).on_bodyparts(pose.keypoints)
    # one individual: its (n_frames, n_joints, 3) points, drawn as always (no name)
    X = pose if pose.n_individuals > 1 else pose.position[:, 0]
    make_folder(Path(movie).parent)
    # viz3d writes each file atomically itself
    viz3d.render_movie(X, skel, movie, fps=fps, rig=rig)
    if html:
        viz3d.export_html(X, skel, html, rig=rig)
    if combined:
        viz3d.combined_video([videos[c] for c in rig.names], rig, X, skel, combined)
    return {"frames": int(pose.n_frames), "individuals": list(pose.individuals)}
