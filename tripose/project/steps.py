"""Plan each pipeline step of a project as tasks: what to run, on which inputs, into which
outputs, under which config fingerprint.

A :class:`Task` is plain data (picklable for joblib and Dask workers). Its ``inputs`` and
``config_hash`` decide whether it is up to date (:mod:`.manifest`); only the config keys a
step reads enter its fingerprint, so changing e.g. ``filter.lowpass_hz`` re-runs filter,
angles and render, not triangulation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from calibration.errors import InputError

from . import work
from .config import section_hash
from .layout import Project, Session

__all__ = ["Task", "plan_step", "PLANNERS"]

log = logging.getLogger(__name__)


@dataclass
class Task:
    """One unit of work of a step.

    Attributes
    ----------
    step : str
    name : str
        ``<step>:<session>[:<camera>]`` (or ``calibrate:<folder>``), unique in a run.
    func : callable
        A function of :mod:`.work`.
    kwargs : dict
        Its arguments (strings, numbers, lists and dicts only).
    inputs : label -> Path
        Files (or folders) whose content the outputs depend on.
    outputs : list of Path
    config_hash : str
    manifest : Path
        Where the up-to-date record goes.
    log_path : Path, optional
        The session log the task's messages are appended to.
    """

    step: str
    name: str
    func: Callable
    kwargs: dict
    inputs: dict[str, Path]
    outputs: list[Path]
    config_hash: str
    manifest: Path
    log_path: Path | None = None
    stamps: dict = field(default_factory=dict)


def _spec(project: Project, value: str | dict) -> str | dict:
    """A config path made absolute (inline tables pass through)."""
    return value if isinstance(value, dict) else str(project.path(value))


def _spec_inputs(project: Project, label: str, value: str | dict) -> dict[str, Path]:
    return {} if isinstance(value, dict) else {label: project.path(value)}


def _require(task_inputs: dict[str, Path], step: str, session: str) -> None:
    for label, p in task_inputs.items():
        if not p.exists():
            raise InputError(f"session {session}: {step} needs {p} ({label}), which does not "
                             f"exist; run the step that makes it first (tripose run --steps)")


def plan_calibrate(project: Project, n_jobs: int | None) -> list[Task]:
    """One task per calibration.toml to compute (per session or shared)."""
    cfg = project.config["calibration"]
    tasks = []
    board = _spec(project, cfg["board"])
    conf = section_hash("calibrate", {k: cfg[k] for k in ("fisheye", "distortion", "step")},
                        board if isinstance(board, dict) else None)
    for out, videos in project.calibrations.items():
        inputs = {f"video {c}": p for c, p in videos.items()}
        inputs.update(_spec_inputs(project, "board", cfg["board"]))
        folder = out.parent
        owner = folder.parent.name if folder.parent != project.root else "project"
        tasks.append(Task(
            "calibrate", f"calibrate:{owner}", work.calibrate_rig,
            {"videos": {c: str(p) for c, p in videos.items()}, "board": board, "out": str(out),
             "fisheye": cfg["fisheye"], "distortion": cfg["distortion"], "step": cfg["step"],
             "n_jobs": n_jobs},
            inputs, [out], conf, folder / ".tripose" / "calibrate.json",
            folder.parent / "logs" / "tripose.log"))  # the session's log, or the project's
    return tasks


def plan_analyze(project: Project, session: Session) -> list[Task]:
    """One task per camera when 2D files come from the model."""
    cfg = project.config["pose2d"]
    if session.pose2d_given:
        return []
    model = project.path(cfg["model"])
    conf = section_hash("analyze", {k: cfg[k] for k in ("batch_size", "filter")})
    tasks = []
    for cam, video in session.videos.items():
        out = session.pose2d(cam)
        tasks.append(Task(
            "analyze", f"analyze:{session.name}:{cam}", work.analyze_camera,
            {"model": str(model), "video": str(video), "out": str(out),
             "batch_size": cfg["batch_size"], "filter": cfg["filter"],
             "device": cfg["device"]},
            {"model": model, "video": video}, [out, out.with_suffix(".csv")], conf,
            session.state_dir / f"analyze-{cam}.json", session.log_path))
    return tasks


def _triangulation_options(cfg: dict) -> tuple[dict, dict]:
    opts = {k: cfg[k] for k in ("score_threshold", "reproj_threshold", "median_filter")}
    if cfg["method"] == "optim":
        opts.update({k: cfg[k] for k in ("smooth", "limb_tolerance", "weak_limb_tolerance")})
    fingerprint = {"method": cfg["method"], "truncate": cfg["truncate"], **opts}
    if cfg["individuals"] is not None:  # unset keeps the fingerprints of older projects
        fingerprint["individuals"] = cfg["individuals"]
    if cfg["identity"] != "auto":  # so does the default
        fingerprint["identity"] = cfg["identity"]
        opts["identity"] = cfg["identity"]
    return opts, fingerprint


def plan_triangulate(project: Project, session: Session) -> list[Task]:
    """One task per session: 2D files + calibration -> ``pose-3d/<session>.csv``."""
    cfg = project.config
    opts, fingerprint = _triangulation_options(cfg["triangulation"])
    skel = _spec(project, cfg["project"]["skeleton"])
    inputs = {f"2D {c}": session.pose2d(c) for c in session.cameras}
    inputs["calibration"] = session.calibration
    inputs.update(_spec_inputs(project, "skeleton", cfg["project"]["skeleton"]))
    return [Task(
        "triangulate", f"triangulate:{session.name}", work.triangulate_session,
        {"session": session.name, "calibration": str(session.calibration),
         "inputs": {c: str(session.pose2d(c)) for c in session.cameras},
         "out": str(session.pose3d), "skeleton": skel, "method": cfg["triangulation"]["method"],
         "options": opts, "truncate": cfg["triangulation"]["truncate"],
         "individuals": cfg["triangulation"]["individuals"]},
        inputs, [session.pose3d],
        section_hash("triangulate", fingerprint, skel if isinstance(skel, dict) else None),
        session.state_dir / "triangulate.json", session.log_path)]


def plan_filter(project: Project, session: Session) -> list[Task]:
    """One task per session: ``pose-3d`` -> ``pose-3d-filtered`` (a copy when all is off)."""
    f = project.config["filter"]
    fps = project.config["project"]["fps"]
    conf = section_hash("filter", f, fps if f["lowpass_hz"] else None)
    return [Task(
        "filter", f"filter:{session.name}", work.filter_session,
        {"src": str(session.pose3d), "out": str(session.filtered), "fps": fps,
         "fill_gaps": f["fill_gaps"], "lowpass_hz": f["lowpass_hz"], "axes": list(f["axes"]),
         "reference_point": f["reference_point"]},
        {"pose-3d": session.pose3d}, [session.filtered], conf,
        session.state_dir / "filter.json", session.log_path)]


def plan_angles(project: Project, session: Session) -> list[Task]:
    """One task per session when the skeleton defines angles and ``angles.enabled``."""
    cfg = project.config
    if not cfg["angles"]["enabled"]:
        return []
    spec = _spec(project, cfg["project"]["skeleton"])
    if not work.load_skeleton_spec(spec).angles:
        log.info("session %s: the skeleton defines no [angles]; angles step skipped",
                 session.name)
        return []
    inputs = {"pose-3d-filtered": session.filtered}
    inputs.update(_spec_inputs(project, "skeleton", cfg["project"]["skeleton"]))
    return [Task(
        "angles", f"angles:{session.name}", work.angles_session,
        {"src": str(session.filtered), "out": str(session.angles), "skeleton": spec},
        inputs, [session.angles], section_hash("angles", spec if isinstance(spec, dict)
                                               else None),
        session.state_dir / "angles.json", session.log_path)]


def viz3d_missing() -> list[str]:
    """Names of the viz3d functions, or of the modules under them, that the render step needs
    and are not available."""
    try:
        import viz3d
    except ImportError:
        return ["viz3d"]
    missing = [n for n in ("render_movie", "export_html") if not hasattr(viz3d, n)]
    if hasattr(viz3d, "missing_dependencies"):
        missing += viz3d.missing_dependencies()
    return missing


def plan_render(project: Project, session: Session) -> list[Task]:
    """One task per session: the 3D movie (+ HTML, + combined video) through viz3d."""
    cfg = project.config
    r = cfg["render"]
    if not r["enabled"]:
        return []
    fps = r["fps"] or cfg["project"]["fps"]
    spec = _spec(project, cfg["project"]["skeleton"])
    movie = session.video3d()
    html = session.video3d(".html") if r["html"] else None
    combined = session.video3d(tag="-combined") if r["combined"] and session.videos else None
    inputs = {"pose-3d-filtered": session.filtered, "calibration": session.calibration}
    inputs.update(_spec_inputs(project, "skeleton", cfg["project"]["skeleton"]))
    if combined:
        inputs.update({f"video {c}": p for c, p in session.videos.items()})
    return [Task(
        "render", f"render:{session.name}", work.render_session,
        {"src": str(session.filtered), "calibration": str(session.calibration),
         "skeleton": spec, "movie": str(movie), "html": str(html) if html else None,
         "combined": str(combined) if combined else None,
         "videos": {c: str(p) for c, p in session.videos.items()}, "fps": fps},
        inputs, [p for p in (movie, html, combined) if p is not None],
        section_hash("render", r, fps, spec if isinstance(spec, dict) else None),
        session.state_dir / "render.json", session.log_path)]


PLANNERS: dict[str, Callable[[Project, Session], list[Task]]] = {
    "analyze": plan_analyze, "triangulate": plan_triangulate, "filter": plan_filter,
    "angles": plan_angles, "render": plan_render,
}


def plan_step(project: Project, step: str, n_jobs: int | None = None) -> list[Task]:
    """The tasks of one step over every session.

    Raises
    ------
    InputError
        A task's input is missing (its producing step was not run).
    """
    if step == "calibrate":
        return plan_calibrate(project, n_jobs)
    tasks = []
    for s in project.sessions:
        for t in PLANNERS[step](project, s):
            _require({k: v for k, v in t.inputs.items() if k != "model"}, step, s.name)
            tasks.append(t)
    return tasks
