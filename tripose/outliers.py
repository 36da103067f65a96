"""``tripose extract-outliers SESSION``: frames of a project session to relabel, for every camera.

Ranks the session's frames by its 2D results (``pose-2d/<cam>.h5``, or the project's
``pose2d.pose_2d_dir``) and its 3D result (``pose-3d/<session>.csv``) through the calibration
and the project's skeleton (the criteria and the score are
:mod:`triangulate.outliers`'), picks up to ``n`` frames of different poses among those past
a threshold, and writes, for every camera ``<cam>`` of the rig::

    OUT/<cam>/img<frame>.png            the video frame (existing images are kept)
    OUT/<cam>/machinelabels-iter0.h5    the network's predictions at those frames
    OUT/<cam>/reprojections-iter0.h5    the 3D points reprojected into the camera
    OUT/outliers.csv                    frame, rank, score, reason and every criterion

``OUT`` defaults to ``SESSION/labeled-data``. Both h5 files are DeepLabCut tables (key
``df_with_missing``, likelihood column, rows ``("labeled-data", <cam>, <image>)``); an
existing one is merged (its rows are kept, new images are appended). ``tripose label`` reads
the machinelabels files to pre-fill the frames.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from poses import DEFAULT_INDIVIDUAL, Poses, load_poses, load_views
from poses.atomic import atomic_path
from poses.errors import InputError
from poses.io.dlc import SINGLE, read_dlc_table, to_dlc_dataframe, write_dlc_table

from .project.config import CONFIG_NAME
from .project.layout import Project, Session, open_project, video_frame_count

__all__ = ["SessionOutliers", "open_session", "extract_session_outliers",
           "MACHINE_LABELS", "REPROJECTIONS", "OUTLIERS_CSV"]

log = logging.getLogger(__name__)

#: Per camera: the network's predictions at the picked frames.
MACHINE_LABELS = "machinelabels-iter0.h5"
#: Per camera: the 3D points reprojected (likelihood: agreeing views / cameras).
REPROJECTIONS = "reprojections-iter0.h5"
#: The picked frames and their criteria.
OUTLIERS_CSV = "outliers.csv"
#: First level of the image rows (DeepLabCut's folder of labelled frames).
LABELED_DATA = "labeled-data"
#: Scorer of the reprojection tables.
REPROJECTION_SCORER = "tripose-reprojection"
#: Columns of outliers.csv.
COLUMNS = ("frame", "image", "rank", "score", "reason", "individual", "keypoint", "camera",
           "limb", "disagreement_px", "reprojection_px", "limb_deviation", "jump_speed",
           "low_score")


@dataclass
class SessionOutliers:
    """What :func:`extract_session_outliers` did.

    Attributes
    ----------
    session : str
    out : Path
        The labeled-data folder written into.
    cameras : list of str
    frames : list of int
        Frames picked (sorted).
    table : DataFrame
        Every frame of the session (its worst individual), columns :data:`COLUMNS` (the
        ``image`` column empty for frames not picked), sorted by rank.
    images_written, images_kept : int
        Images written, and images already there (all cameras).
    """

    session: str
    out: Path
    cameras: list[str]
    frames: list[int]
    table: pd.DataFrame
    images_written: int = 0
    images_kept: int = 0


def open_session(path: str | Path) -> tuple[Project, Session]:
    """The project and session of a session folder (``PROJECT/<session>``).

    Raises
    ------
    InputError
        No ``config.toml`` in the folder above, the project does not validate (see
        :func:`tripose.project.open_project`), or the folder is not one of its sessions.
    """
    path = Path(path).resolve()
    if not path.is_dir():
        raise InputError(f"session folder {path} does not exist")
    if not (path.parent / CONFIG_NAME).is_file():
        raise InputError(f"{path} is not a session of a tripose project: no {CONFIG_NAME} in "
                         f"{path.parent}")
    project = open_project(path.parent)
    for s in project.sessions:
        if s.root.resolve() == path:
            return project, s
    raise InputError(f"{path.name} is not a session of project {project.root} (sessions: "
                     f"{[s.name for s in project.sessions]}); check project.sessions")


def _check_inputs(project: Project, session: Session) -> None:
    """Refuse a session whose videos, calibration, 2D or 3D results are missing."""
    run = f"`tripose run {project.root} --steps"
    cams = session.cameras
    no_video = [c for c in cams if c not in session.videos or not session.videos[c].is_file()]
    if no_video:
        raise InputError(f"session {session.name}: no video for camera(s) {no_video} in "
                         f"{session.root / 'videos-raw'}; the frames to label come from them")
    if not session.calibration.is_file():
        raise InputError(f"session {session.name}: no calibration {session.calibration}; run "
                         f"{run} calibrate` first")
    no_2d = [c for c in cams if not session.pose2d(c).is_file()]
    if no_2d:
        raise InputError(f"session {session.name}: no 2D poses for camera(s) {no_2d} "
                         f"({', '.join(str(session.pose2d(c)) for c in no_2d)}); run {run} "
                         f"analyze` first")
    if not session.pose3d.is_file():
        raise InputError(f"session {session.name}: no 3D poses {session.pose3d}; run {run} "
                         f"triangulate` first")


def _load(project: Project, session: Session) -> tuple:
    """The rig, the 2D views (PoseViews), the 3D Poses, its points on the 2D frames
    ``(n_frames, n_individuals, n_keypoints, 3)`` rig units (NaN where missing), and the
    skeleton's limbs as keypoint index pairs of the 3D poses."""
    from calibration.load_rig import load_rig

    from .project.work import load_skeleton_spec

    rig = load_rig(session.calibration)
    views = load_views({c: session.pose2d(c) for c in rig.names})
    pose3d = load_poses(session.pose3d, format="anipose")
    n_frames = min(views.n_frames.values())
    missing = [k for k in pose3d.keypoints if k not in views.keypoints]
    if missing:
        raise InputError(f"session {session.name}: {session.pose3d} has bodyparts {missing} "
                         f"that the 2D files lack; run `tripose run {project.root} --steps "
                         f"triangulate` again")
    X = np.full((n_frames, *pose3d.position.shape[1:]), np.nan)
    fi = pose3d.frame_index
    keep = (fi >= 0) & (fi < n_frames)
    X[fi[keep]] = pose3d.position[keep]
    spec = project.config["project"]["skeleton"]
    skeleton = load_skeleton_spec(str(project.path(spec)) if isinstance(spec, str) else spec)
    kp = list(pose3d.keypoints)
    limbs = [(kp.index(a), kp.index(b)) for a, b in skeleton.limbs if a in kp and b in kp]
    return rig, views, pose3d, X, limbs


def _image_rows(cam: str, names: list[str]) -> list[str]:
    return [f"{LABELED_DATA}/{cam}/{name}" for name in names]


def _merged_table(path: Path, new: pd.DataFrame) -> pd.DataFrame | None:
    """The DeepLabCut table at ``path`` with the rows of ``new`` it lacks appended.

    Returns
    -------
    DataFrame or None
        ``new`` when there is no file yet; None when the file has every row already (it
        stays untouched); existing rows keep their values.

    Raises
    ------
    InputError
        The existing table has other columns (bodyparts, individuals, coords).
    """
    if not path.is_file():
        return new
    old = read_dlc_table(path)
    ok = old.columns.nlevels == new.columns.nlevels and list(
        old.columns.droplevel(0)) == list(new.columns.droplevel(0))
    if not ok:
        raise InputError(f"{path} holds other columns (bodyparts, individuals) than the "
                         f"session's; move it away to write new frames")
    new = new.set_axis(old.columns, axis=1)
    if not isinstance(old.index, pd.MultiIndex):
        new = new.set_axis(pd.Index(["/".join(map(str, r)) for r in new.index]), axis=0)
    add = new[~new.index.isin(old.index)]
    return None if add.empty else pd.concat([old, add])


def _predictions(view: Poses, frames: np.ndarray, cam: str, names: list[str]) -> pd.DataFrame:
    """The network's 2D predictions of one camera at ``frames`` with image rows."""
    sub = view.frames(frames)
    attrs = {k: v for k, v in sub.attrs.items() if k != "labels"}
    attrs.update(image_paths=_image_rows(cam, names), index_levels=3)
    return to_dlc_dataframe(sub.replace(attrs=attrs), labels=False)


def _reprojections(rig, cam_index: int, X: np.ndarray, agreeing: np.ndarray, pose3d: Poses,
                   view: Poses, cam: str, names: list[str]) -> pd.DataFrame:
    """The 3D points at the picked frames projected into one camera.

    Parameters
    ----------
    X : (n_picked, n_individuals, n_keypoints, 3) rig units
    agreeing : (n_picked, n_individuals, n_keypoints) int
        Views agreeing with each point; likelihood ``agreeing / n_cams``.
    """
    camera = rig.cameras[cam_index]
    px = camera.project(X)
    depth = camera.world_to_camera(np.nan_to_num(X))[..., 2]
    seen = camera.in_image(px) & (depth > 0) & np.isfinite(X).all(-1)
    px = np.where(seen[..., None], px, np.nan)
    conf = np.where(seen, agreeing / rig.n_cams, np.nan)
    one = pose3d.n_individuals == 1 and view.n_individuals == 1
    individuals = view.individuals if one else pose3d.individuals
    multi = bool(view.attrs.get("multianimal")) if one else True
    p = Poses(px, conf, keypoints=pose3d.keypoints, individuals=individuals, units="px",
              attrs={"scorer": REPROJECTION_SCORER, "multianimal": multi,
                     "image_paths": _image_rows(cam, names), "index_levels": 3})
    return to_dlc_dataframe(p, labels=False,
                            multianimal=multi or individuals != [DEFAULT_INDIVIDUAL])


def _frame_table(fs, n_frames: int, keypoints: list[str], cameras: list[str],
                 individuals: list[str], limbs: list[tuple[int, int]]) -> pd.DataFrame:
    """Every frame's worst individual: score, reason and each criterion (sorted by rank)."""
    from triangulate.outliers import CRITERIA

    f = np.arange(n_frames)
    ind = fs.worst_individual
    reason = fs.reason[f, ind]
    crit = np.array(CRITERIA)[reason]
    kp_idx = np.stack([fs.keypoint[c][f, ind] for c in CRITERIA])[reason, f]
    cam_idx = np.stack([fs.camera[c][f, ind] for c in CRITERIA])[reason, f]
    score = fs.score[f, ind]
    names = np.array([*keypoints, ""], dtype=object)
    cams = np.array([*cameras, ""], dtype=object)
    limb_names = np.array([f"{keypoints[a]}-{keypoints[b]}" for a, b in limbs] + [""],
                          dtype=object)
    limb = fs.limb[f, ind]
    table = pd.DataFrame({
        "frame": f,
        "image": "",
        "rank": 0,
        "score": score,
        "reason": np.where(score > 0, crit, ""),
        "individual": np.array(individuals, dtype=object)[ind],
        "keypoint": names[np.where(score > 0, kp_idx, -1)],
        "camera": cams[np.where(score > 0, cam_idx, -1)],
        "limb": limb_names[limb],
        "disagreement_px": fs.values["disagreement"][f, ind],
        "reprojection_px": fs.values["reprojection"][f, ind],
        "limb_deviation": fs.values["limb"][f, ind],
        "jump_speed": fs.values["jump"][f, ind],
        "low_score": fs.values["low_score"][f, ind],
    })
    order = np.argsort(-score, kind="stable")
    table["rank"] = np.empty(n_frames, int)
    table.loc[order, "rank"] = np.arange(1, n_frames + 1)
    return table.iloc[order].reset_index(drop=True)


def _write_csv(path: Path, rows: pd.DataFrame) -> None:
    """``outliers.csv``: merged by frame with an existing file of the same columns."""
    if path.is_file():
        try:
            old = pd.read_csv(path, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            old = None
        if old is not None and list(old.columns) == list(COLUMNS):
            old = old[~old["frame"].isin(rows["frame"])]
            rows = pd.concat([old.astype({"frame": int}), rows]) if len(old) else rows
        else:
            log.info("replacing %s (other columns)", path)
    rows = rows.sort_values("frame", kind="stable")
    with atomic_path(path) as tmp:
        rows.to_csv(tmp, index=False, float_format="%.6g")


def extract_session_outliers(session_dir: str | Path, out: str | Path | None = None,
                             n: int = 20, seed: int = 0, pcutoff: float = 0.6,
                             max_reprojection_px: float = 15.0,
                             max_disagreement_px: float = 15.0,
                             max_limb_deviation: float = 0.3,
                             jump_mad: float = 10.0) -> SessionOutliers:
    """Pick a session's outlier frames and write them, for every camera, to relabel.

    Parameters
    ----------
    session_dir : str or Path
        ``PROJECT/<session>`` after ``tripose run`` (analyze and triangulate).
    out : str or Path, optional
        The labeled-data folder (default ``SESSION/labeled-data``); one folder per camera.
    n : int
        Most frames to pick (>= 1).
    seed : int
        Seed of the k-means that spreads the picks over poses.
    pcutoff : float
        Likelihood from which a 2D detection is confident, in [0, 1].
    max_reprojection_px, max_disagreement_px : float
        Pixels; thresholds of the ``reprojection`` and ``disagreement`` criteria.
    max_limb_deviation : float
        Relative limb-length deviation threshold.
    jump_mad : float
        Robust standard deviations above the median 3D speed that make a jump.

    Returns
    -------
    SessionOutliers

    Raises
    ------
    InputError
        Bad options, a folder that is not a session, or missing inputs (checked before any
        work: videos, calibration, 2D per camera, 3D), naming the step to run.
    """
    from pose2d.extract import frame_image_name, write_frames
    from triangulate.outliers import match_detections, pick_diverse, pose_features, score_frames

    if int(n) != n or n < 1:
        raise InputError(f"-n must be a whole number of frames >= 1, got {n}")
    if not 0 <= pcutoff <= 1:
        raise InputError(f"--pcutoff must lie in [0, 1], got {pcutoff}")
    for value, name in ((max_reprojection_px, "--max-reprojection-px"),
                        (max_disagreement_px, "--max-disagreement-px"),
                        (max_limb_deviation, "--max-limb-deviation"), (jump_mad, "--jump-mad")):
        if not np.isfinite(value) or value <= 0:
            raise InputError(f"{name} must be a positive number, got {value}")
    project, session = open_session(session_dir)
    _check_inputs(project, session)
    out_dir = Path(out) if out is not None else session.root / LABELED_DATA

    rig, views, pose3d, X, limbs = _load(project, session)
    cams = rig.names
    n_frames = X.shape[0]
    P, S = views.stack(cameras=cams, n_frames=n_frames,
                       individuals=[i for i in views.individuals if i != SINGLE])
    kk = [views.keypoints.index(k) for k in pose3d.keypoints]
    P, S = P[:, :, :, kk], S[:, :, :, kk]
    P, S, _ = match_detections(rig, X, P, S)
    fs = score_frames(rig, X, P, S, limbs, pcutoff=pcutoff,
                      max_reprojection_px=max_reprojection_px,
                      max_disagreement_px=max_disagreement_px,
                      max_limb_deviation=max_limb_deviation, jump_mad=jump_mad)
    table = _frame_table(fs, n_frames, list(pose3d.keypoints), cams, list(pose3d.individuals),
                         limbs)
    worst = fs.worst_individual
    features = pose_features(X[np.arange(n_frames), worst])
    picked = pick_diverse(features, fs.frame_score(), int(n), seed=seed)
    result = SessionOutliers(session.name, out_dir, cams, [int(f) for f in picked], table)
    if picked.size == 0:
        return result

    counts = [video_frame_count(session.videos[c]) for c in cams]
    basis = max([*counts, n_frames])
    names = [frame_image_name(int(f), basis) for f in picked]
    agreeing = fs.agreeing[picked]
    tables = {}  # every existing table is read and checked before anything is written
    for c, cam in enumerate(cams):
        tables[out_dir / cam / MACHINE_LABELS] = _merged_table(
            out_dir / cam / MACHINE_LABELS, _predictions(views[cam], picked, cam, names))
        tables[out_dir / cam / REPROJECTIONS] = _merged_table(
            out_dir / cam / REPROJECTIONS,
            _reprojections(rig, c, X[picked], agreeing, pose3d, views[cam], cam, names))
    for cam in cams:
        written = write_frames(session.videos[cam], [int(f) for f in picked], out_dir / cam,
                               n_frames=basis)
        result.images_written += len(written)
        result.images_kept += len(picked) - len(written)
    for path, df in tables.items():
        if df is not None:
            write_dlc_table(df, path)
    image = dict(zip(picked.tolist(), names, strict=True))
    mask = table["frame"].isin(picked)
    table.loc[mask, "image"] = table.loc[mask, "frame"].map(image)
    rows = table[mask].sort_values("frame")
    _write_csv(out_dir / OUTLIERS_CSV, rows[list(COLUMNS)])
    log.debug("session %s: %d outlier frames into %s", session.name, len(picked), out_dir)
    return result


def extract_session_frames(session_dir: str | Path, out: str | Path | None = None,
                           n: int = 20, seed: int = 0) -> tuple[list[int], Path]:
    """Pick ``n`` diverse instants of a session and write them for every camera.

    The cameras' frames are clustered side by side (:func:`pose2d.extract.pick_frames`), so
    each picked frame number is one instant: ``OUT/<cam>/img<frame>.png`` for every camera,
    the layout ``tripose label SESSION`` opens as one multi-view group. Existing images are
    kept.

    Parameters
    ----------
    session_dir : path
        ``PROJECT/<session>`` with ``videos-raw/<cam>.*``.
    out : path, optional
        Default ``SESSION/labeled-data``.
    n : int
    seed : int

    Returns
    -------
    frames : list of int
    out : Path
    """
    from pose2d.extract import pick_frames, write_frames

    if n < 1:
        raise InputError(f"-n must be at least 1, got {n}")
    _, session = open_session(session_dir)
    cams = session.cameras
    missing = [c for c in cams if c not in session.videos or not session.videos[c].is_file()]
    if missing:
        raise InputError(f"session {session.name}: no video for camera(s) {missing} in "
                         f"{session.root / 'videos-raw'}")
    out = Path(out) if out is not None else session.root / "labeled-data"
    videos = [session.videos[c] for c in cams]
    frames = pick_frames(videos, n=n, seed=seed)
    n_frames = min(video_frame_count(v) for v in videos)
    for cam, video in zip(cams, videos, strict=True):
        write_frames(video, frames, out / cam, n_frames=n_frames)
    return frames, out
