"""A project's folders: sessions, cameras, calibration sources and output paths.

Layout (anipose-like, one recording per session)::

    PROJECT/config.toml
    PROJECT/calibration/<cam>.mp4          optional, shared by sessions without their own
    PROJECT/<session>/videos-raw/<cam>.mp4  behaviour videos
    PROJECT/<session>/calibration/<cam>.mp4 ChArUco videos (or a calibration.toml)
    PROJECT/<session>/pose-2d/<cam>.h5      2D (DeepLabCut h5), written by analyze
    PROJECT/<session>/pose-3d/<session>.csv anipose pose-3d columns
    PROJECT/<session>/pose-3d-filtered/<session>.csv
    PROJECT/<session>/angles/<session>.csv   (+ an individual column with several animals)
    PROJECT/<session>/videos-3d/<session>.mp4 (+ .html)
    PROJECT/<session>/logs/tripose.log      one log per session
    PROJECT/<session>/.tripose/<step>.json  manifests of the up-to-date check

Several animals share each file: the pose-3d CSVs are anipose's long format (an
``individual`` column) and the angles CSV gets the same ``individual`` column (one row per
frame and individual, frame-major); one animal keeps the single-animal tables.

The camera name of a file is its stem, or the first group of ``project.cam_regex`` searched in
the stem (anipose's convention).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from calibration.errors import InputError
from calibration.sources import natural_key

from .config import CONFIG_NAME, load_config

__all__ = ["Session", "Project", "open_project", "camera_files", "check_video_lengths",
           "OUTPUT_DIRS"]

#: Output folders of a session.
OUTPUT_DIRS = ("pose-2d", "pose-3d", "pose-3d-filtered", "angles", "videos-3d", "logs")
_POSE2D_SUFFIXES = (".h5", ".slp", ".csv")
_RESERVED = {"calibration", ".tripose"}


def camera_name(path: Path, cam_regex: str, where: str) -> str:
    """The camera name of a file: its stem, or ``cam_regex``'s first group in the stem."""
    stem = path.name.split(".")[0] if path.suffix != ".slp" else path.stem
    if not cam_regex:
        return stem
    m = re.search(cam_regex, stem)
    if m is None:
        raise InputError(f"{where}: file {path.name} does not match project.cam_regex "
                         f"{cam_regex!r}; rename it or fix the regex")
    return m.group(1) if m.groups() else m.group(0)


def camera_files(folder: Path, suffixes: tuple[str, ...], cam_regex: str,
                 where: str) -> dict[str, Path]:
    """Camera name -> file of the given suffixes in ``folder`` (natural camera order).

    Earlier suffixes win when a camera has several files (``cam0.h5`` over ``cam0.csv``).

    Raises
    ------
    InputError
        Two files of the same suffix give the same camera name.
    """
    out: dict[str, Path] = {}
    if not folder.is_dir():
        return out
    for suffix in suffixes:
        found: dict[str, Path] = {}
        for p in sorted(folder.iterdir(), key=natural_key):
            if p.name.startswith(".") or p.suffix.lower() != suffix or not p.is_file():
                continue
            cam = camera_name(p, cam_regex, where)
            if cam in found:
                raise InputError(f"{where}: files {found[cam].name} and {p.name} are both "
                                 f"camera {cam!r}; keep one recording per session and camera")
            found[cam] = p
        for cam, p in found.items():
            out.setdefault(cam, p)
    return dict(sorted(out.items(), key=lambda kv: natural_key(kv[0])))


@dataclass
class Session:
    """One session: its inputs and where its outputs go.

    Attributes
    ----------
    name, root : the folder's name and path
    videos : camera -> behaviour video (empty when only 2D files are given)
    pose2d_given : camera -> existing 2D file (``pose_2d_dir``, or ``pose-2d/`` without a
        model); empty when the analyze step makes them
    calibration : calibration.toml the session uses (made by the calibrate step or given)
    """

    name: str
    root: Path
    videos: dict[str, Path] = field(default_factory=dict)
    pose2d_given: dict[str, Path] = field(default_factory=dict)
    calibration: Path = Path()

    @property
    def cameras(self) -> list[str]:
        """The session's cameras, in natural order."""
        return list(self.pose2d_given or self.videos)

    def pose2d(self, cam: str) -> Path:
        """The 2D file of ``cam`` that triangulation reads."""
        return self.pose2d_given.get(cam, self.root / "pose-2d" / f"{cam}.h5")

    @property
    def pose3d(self) -> Path:
        """``pose-3d/<session>.csv``."""
        return self.root / "pose-3d" / f"{self.name}.csv"

    @property
    def filtered(self) -> Path:
        """``pose-3d-filtered/<session>.csv``."""
        return self.root / "pose-3d-filtered" / f"{self.name}.csv"

    @property
    def angles(self) -> Path:
        """``angles/<session>.csv``."""
        return self.root / "angles" / f"{self.name}.csv"

    def video3d(self, suffix: str = ".mp4", tag: str = "") -> Path:
        """``videos-3d/<session><tag><suffix>``."""
        return self.root / "videos-3d" / f"{self.name}{tag}{suffix}"

    @property
    def state_dir(self) -> Path:
        """Manifests of the up-to-date check."""
        return self.root / ".tripose"

    @property
    def log_path(self) -> Path:
        """The session's log."""
        return self.root / "logs" / "tripose.log"


@dataclass
class Project:
    """A validated project: config, sessions and calibration units.

    Attributes
    ----------
    root : Path
    config : dict, validated (see :mod:`.config`)
    sessions : list of Session
    calibrations : calibration.toml to make -> (folder of its videos, camera -> video)
    """

    root: Path
    config: dict
    sessions: list[Session]
    calibrations: dict[Path, dict[str, Path]] = field(default_factory=dict)

    def path(self, text: str) -> Path:
        """A config path: absolute as given, else relative to the project."""
        p = Path(text).expanduser()
        return p if p.is_absolute() else self.root / p


def _find_sessions(root: Path, cfg: dict) -> list[Path]:
    names = cfg["project"]["sessions"]
    if names:
        missing = [n for n in names if not (root / n).is_dir()]
        if missing:
            raise InputError(f"session folder(s) {missing} listed in project.sessions do not "
                             f"exist in {root}")
        return [root / n for n in names]
    pose_dir = cfg["pose2d"]["pose_2d_dir"] or "pose-2d"
    found = [p for p in sorted(root.iterdir(), key=natural_key)
             if p.is_dir() and p.name not in _RESERVED and not p.name.startswith(".")
             and ((p / "videos-raw").is_dir() or (p / pose_dir).is_dir())]
    if not found:
        raise InputError(f"no session in {root}: a session is a folder holding videos-raw/ "
                         f"(or {pose_dir}/ with 2D files); see docs/pipeline.md")
    return found


def _calibration_for(project: Project, session_root: Path) -> Path:
    """The calibration.toml a session uses; registers the ones to compute."""
    cfg = project.config
    given = cfg["calibration"]["calibration_file"]
    if given:
        path = project.path(given)
        if not path.is_file():
            raise InputError(f"calibration.calibration_file {path} does not exist")
        return path
    ext = "." + cfg["project"]["video_extension"].lower().lstrip(".")
    for folder in (session_root / "calibration", project.root / "calibration"):
        videos = camera_files(folder, (ext,), cfg["project"]["cam_regex"], str(folder))
        out = folder / "calibration.toml"
        if videos:
            project.calibrations[out] = videos
            return out
        if out.is_file():
            return out
    raise InputError(f"session {session_root.name}: no calibration: put the board videos "
                     f"<cam>{ext} in {session_root / 'calibration'} or in "
                     f"{project.root / 'calibration'}, or set calibration.calibration_file")


def _session(project: Project, root: Path) -> Session:
    cfg = project.config
    regex = cfg["project"]["cam_regex"]
    ext = "." + cfg["project"]["video_extension"].lower().lstrip(".")
    s = Session(name=root.name, root=root)
    s.videos = camera_files(root / "videos-raw", (ext,), regex, f"session {s.name}")
    pose_dir = cfg["pose2d"]["pose_2d_dir"]
    if pose_dir:
        s.pose2d_given = camera_files(root / pose_dir, _POSE2D_SUFFIXES, regex,
                                      f"session {s.name}")
        if not s.pose2d_given:
            raise InputError(f"session {s.name}: no 2D files (.h5, .slp, .csv) in "
                             f"{root / pose_dir} (pose2d.pose_2d_dir)")
    elif not cfg["pose2d"]["model"]:
        s.pose2d_given = camera_files(root / "pose-2d", (".h5", ".csv"), regex,
                                      f"session {s.name}")
        if not s.pose2d_given:
            raise InputError(f"session {s.name}: no 2D files in {root / 'pose-2d'} and no "
                             f"pose2d.model to make them; set pose2d.model or "
                             f"pose2d.pose_2d_dir")
    elif not s.videos:
        raise InputError(f"session {s.name}: no videos *{ext} in {root / 'videos-raw'}")
    if s.videos and s.pose2d_given and set(s.videos) != set(s.pose2d_given):
        no_2d = sorted(set(s.videos) - set(s.pose2d_given))
        no_video = sorted(set(s.pose2d_given) - set(s.videos))
        where = root / (pose_dir or "pose-2d")
        raise InputError(f"session {s.name}: a camera is missing: "
                         + "; ".join(([f"missing {no_2d} in {where} (videos-raw/ has them)"]
                                      if no_2d else [])
                                     + ([f"missing {no_video} in videos-raw/ ({where} has "
                                         f"them)"] if no_video else [])))
    if len(s.cameras) < 2:
        raise InputError(f"session {s.name}: {len(s.cameras)} camera(s) {s.cameras}; "
                         f"triangulation needs at least 2")
    s.calibration = _calibration_for(project, root)
    return s


def _calibration_cameras(project: Project, path: Path) -> list[str]:
    if path in project.calibrations:
        return list(project.calibrations[path])
    from calibration.load_rig import load_rig

    return load_rig(path).names


def video_frame_count(path: Path) -> int:
    """Frames a video's container announces (0 when unknown)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise InputError(f"video {path} cannot be opened; check the file")
        return int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()


def check_video_lengths(session: Session) -> None:
    """Refuse a session whose behaviour videos differ in length.

    Raises
    ------
    InputError
        Naming the session and each camera's frame count.
    """
    if len(session.videos) < 2:
        return
    counts = {cam: video_frame_count(p) for cam, p in session.videos.items()}
    known = {c for c in counts.values() if c > 0}
    if len(known) > 1:
        detail = ", ".join(f"{cam}: {n}" for cam, n in counts.items())
        raise InputError(f"session {session.name}: videos of different lengths ({detail} "
                         f"frames); synchronize them, or set triangulation.truncate = true to "
                         f"cut every camera to the shortest")


def open_project(root: str | Path) -> Project:
    """Read ``root/config.toml``, find the sessions and check that their inputs fit.

    Checks (before anything is written): the config (see :func:`load_config`), that listed
    sessions exist, that every session has at least 2 cameras with videos or 2D files, a
    calibration, and the same cameras as its calibration, and that the board, skeleton and
    model exist.

    Raises
    ------
    InputError
        The first problem found, naming the session, camera, file or key.
    """
    root = Path(root).resolve()
    if not root.is_dir():
        raise InputError(f"project folder {root} does not exist; create it with "
                         f"`tripose init {root}`")
    cfg = load_config(root / CONFIG_NAME)
    project = Project(root=root, config=cfg, sessions=[])
    project.sessions = [_session(project, p) for p in _find_sessions(root, cfg)]
    for s in project.sessions:
        cams = _calibration_cameras(project, s.calibration)
        missing, extra = sorted(set(cams) - set(s.cameras)), sorted(set(s.cameras) - set(cams))
        if missing or extra:
            raise InputError(f"session {s.name}: cameras {s.cameras} do not match the "
                             f"calibration {s.calibration} ({cams}): "
                             + (f"missing {missing}" if missing else "")
                             + ("; " if missing and extra else "")
                             + (f"not calibrated {extra}" if extra else ""))
    for section, key in (("project", "skeleton"), ("calibration", "board")):
        value = cfg[section][key]
        if isinstance(value, str) and not project.path(value).is_file():
            if section == "calibration" and not project.calibrations:
                continue  # no calibration to compute: the board is not needed
            raise InputError(f"{section}.{key}: file {project.path(value)} does not exist")
    _check_filter(project)
    if not cfg["triangulation"]["truncate"]:
        for s in project.sessions:
            check_video_lengths(s)
    model = cfg["pose2d"]["model"]
    if model and not cfg["pose2d"]["pose_2d_dir"] and not project.path(model).is_dir():
        raise InputError(f"pose2d.model: folder {project.path(model)} does not exist")
    return project


def _check_filter(project: Project) -> None:
    """The [filter] settings checked against the skeleton and fps before any step runs (the
    filter step comes after the expensive ones)."""
    f = project.config["filter"]
    if not (f["fill_gaps"] or f["lowpass_hz"] or f["axes"] or f["reference_point"]):
        return
    from triangulate.postprocess import check_post_steps

    from .work import _axis, load_skeleton_spec

    spec = project.config["project"]["skeleton"]
    spec = spec if isinstance(spec, dict) else project.path(spec)
    try:
        keypoints = load_skeleton_spec(spec).bodyparts
    except (InputError, OSError, ValueError):
        return  # reported by the steps that read the skeleton
    try:
        check_post_steps(keypoints, f["fill_gaps"], f["lowpass_hz"] or None,
                         project.config["project"]["fps"],
                         [_axis(a) for a in f["axes"]] or None, f["reference_point"] or None)
    except InputError as exc:
        msg = str(exc)
        raise InputError(msg if msg.startswith("config.toml") else
                         f"config.toml [filter]: {msg}") from None
