"""Create projects: ``init_project`` (an empty project) and ``sample_project`` (a 2-session
project made from ``sample_data/``, for the demo and the tests)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

import toml

from calibration.errors import InputError
from poses.atomic import atomic_path, make_folder, write_text_atomic

from .config import CONFIG_NAME, config_template, validate_config

__all__ = ["init_project", "sample_project", "SESSION_DIRS"]

#: Input folders made in each new session.
SESSION_DIRS = ("videos-raw", "calibration")


def _copy_in(src: str | Path | None, root: Path, name: str, what: str) -> str | None:
    if src is None:
        return None
    src = Path(src)
    if not src.is_file():
        raise InputError(f"{what} file {src} does not exist")
    with atomic_path(root / name) as tmp:
        shutil.copyfile(src, tmp)
    return name


def init_project(root: str | Path, sessions: Sequence[str] = (), board: str | Path | None = None,
                 skeleton: str | Path | None = None, model: str | Path | None = None,
                 overrides: dict | None = None, force: bool = False,
                 individuals: int | None = None) -> Path:
    """Create a project folder with a commented ``config.toml`` and empty sessions.

    Parameters
    ----------
    root : the project folder (created; may exist but must not hold a config.toml)
    sessions : names of session folders to create, each with ``videos-raw/`` and
        ``calibration/``
    board, skeleton : files copied into the project as ``board.toml`` / ``skeleton.toml``
    model : 2D model folder (written as ``pose2d.model``, absolute)
    overrides : section -> key -> value written into config.toml instead of the defaults
    force : overwrite an existing config.toml
    individuals : the most animals present (``triangulation.individuals``, >= 1); None
        leaves the key commented out (as many as the 2D files name)

    Returns
    -------
    Path of config.toml

    Raises
    ------
    InputError
        The config exists (without ``force``), a given file is missing or cannot be read as
        a board / skeleton, a session name is not a plain folder name, or the project folder
        cannot be created.
    """
    root = Path(root)
    config = root / CONFIG_NAME
    if config.exists() and not force:
        raise InputError(f"{config} exists; pass --force to overwrite it")
    for name in sessions:
        if not name or Path(name).name != name or name in ("calibration", ".tripose"):
            raise InputError(f"session name {name!r} must be a plain folder name (not "
                             f"'calibration')")
    for src, what in ((board, "board"), (skeleton, "skeleton")):
        if src is not None and not Path(src).is_file():
            raise InputError(f"{what} file {src} does not exist")
    # a damaged or impossible file is refused now, not at the first `tripose run`
    if board is not None:
        from calibration.load_board import load_board

        load_board(board)
    if skeleton is not None:
        from poses.skeleton import load_skeleton

        load_skeleton(skeleton)
    values = {k: dict(v) for k, v in (overrides or {}).items()}
    if model is not None:
        if not Path(model).is_dir():
            raise InputError(f"model folder {model} does not exist")
        values.setdefault("pose2d", {})["model"] = str(Path(model).resolve())
    if individuals is not None:
        values.setdefault("triangulation", {})["individuals"] = individuals
    text = config_template(values)
    validate_config(toml.loads(text), where=f"{config} (from the given values)")
    make_folder(root, "project folder")
    _copy_in(board, root, "board.toml", "board")
    _copy_in(skeleton, root, "skeleton.toml", "skeleton")
    for name in sessions:
        for sub in SESSION_DIRS:
            make_folder(root / name / sub, "session folder")
    write_text_atomic(config, text)
    return config


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def sample_project(root: str | Path, sample: str | Path | None = None,
                   sessions: Sequence[str] = ("A", "B"), calibrate: bool = True,
                   render: bool = True, overrides: dict | None = None) -> Path:
    """A project of sessions that all hold the synthetic sample session.

    Files are hard-linked (copied across file systems): each session gets
    ``videos-raw/cam*.mp4`` and the simulated detections as existing 2D files
    (``pose-2d-dlc/cam*.h5``, ``pose2d.pose_2d_dir``), so no network is needed.

    Parameters
    ----------
    root : new project folder
    sample : a ``tripose synth`` folder (default: the repository's ``sample_data/``)
    sessions : session names
    calibrate : compute the calibration from the ChArUco videos (project-level
        ``calibration/`` shared by the sessions); else use the true ``calibration.toml``
    render : leave ``render.enabled`` on
    overrides : more config values (section -> key -> value)

    Returns
    -------
    Path of config.toml
    """
    from ..demo import SAMPLE_DATA

    src = Path(sample) if sample is not None else SAMPLE_DATA
    if not (src / "session.json").is_file():
        raise InputError(f"{src} is not a tripose synth session (no session.json)")
    root = Path(root)
    if (root / CONFIG_NAME).exists():
        raise InputError(f"{root / CONFIG_NAME} exists; choose a new project folder")
    cams = sorted(p.stem for p in (src / "videos").glob("*.mp4"))
    values: dict = {"pose2d": {"pose_2d_dir": "pose-2d-dlc"}, "render": {"enabled": render}}
    if calibrate:
        for cam in cams:
            _link(src / "calibration" / f"{cam}.mp4", root / "calibration" / f"{cam}.mp4")
    else:
        _link(src / "ground_truth" / "calibration.toml", root / "calibration.toml")
        values["calibration"] = {"calibration_file": "calibration.toml"}
    for section, kv in (overrides or {}).items():
        values.setdefault(section, {}).update(kv)
    for name in sessions:
        for cam in cams:
            _link(src / "videos" / f"{cam}.mp4", root / name / "videos-raw" / f"{cam}.mp4")
            _link(src / "pose2d" / f"{cam}.h5", root / name / "pose-2d-dlc" / f"{cam}.h5")
    return init_project(root, board=src / "board.toml", skeleton=src / "skeleton.toml",
                        overrides=values)
