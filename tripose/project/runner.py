"""``run_project``: every step of a project, skipping what is up to date, in parallel.

Steps run in order (:data:`~.config.STEPS`); the tasks of a step (sessions, or sessions x
cameras for analyze) run in parallel with joblib: local processes (``n_jobs``), or the
workers of an existing Dask cluster (``scheduler="tcp://HOST:PORT"``) through joblib's dask
backend. The workers must see the project at the same path (a shared file system). A task
writes its outputs atomically, then its manifest; a killed run therefore resumes where it
stopped and re-runs only the tasks that had not finished. One run per project at a time
(:func:`.lock.project_lock`).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from calibration.errors import InputError
from poses.atomic import make_folder

from .config import STEPS
from .layout import Project, open_project
from .lock import open_no_follow, project_lock
from .manifest import is_up_to_date, write_manifest
from .steps import Task, plan_step, viz3d_missing

__all__ = ["run_project", "parse_steps", "KILL_ENV"]

log = logging.getLogger(__name__)

#: Testing hook: ``TRIPOSE_KILL_AT=<task name>`` SIGKILLs the process running that task after
#: its outputs are written and before its manifest is (the worst moment for a kill).
KILL_ENV = "TRIPOSE_KILL_AT"
_LOGGERS = ("tripose", "calibration", "triangulate", "pose2d", "viz3d")


def parse_steps(steps: Sequence[str] | str | None) -> list[str]:
    """Steps to run, in pipeline order, from names (or one comma-separated string).

    Raises
    ------
    InputError
        An unknown step name (the message lists the steps).
    """
    if steps is None:
        return list(STEPS)
    if isinstance(steps, str):
        steps = [steps]
    names = [n.strip() for s in steps for n in str(s).split(",") if n.strip()]
    unknown = [n for n in names if n not in STEPS]
    if unknown:
        raise InputError(f"unknown step(s) {unknown}; steps: {list(STEPS)}")
    if not names:
        raise InputError(f"no step given; steps: {list(STEPS)}")
    return [s for s in STEPS if s in names]


class _ThreadFilter(logging.Filter):
    def __init__(self, thread: int) -> None:
        super().__init__()
        self.thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread == self.thread


_LEVELS_LOCK = threading.Lock()
_LEVELS: dict = {"users": 0, "saved": []}


def _raise_levels(enter: bool) -> None:
    """Lower the packages' levels to INFO while any task runs (refcounted across threads)."""
    with _LEVELS_LOCK:
        loggers = [logging.getLogger(n) for n in _LOGGERS]
        if enter:
            if _LEVELS["users"] == 0:
                _LEVELS["saved"] = [lg.level for lg in loggers]
                for lg in loggers:
                    if lg.getEffectiveLevel() > logging.INFO:
                        lg.setLevel(logging.INFO)
            _LEVELS["users"] += 1
        else:
            _LEVELS["users"] -= 1
            if _LEVELS["users"] == 0:
                for lg, level in zip(loggers, _LEVELS["saved"], strict=True):
                    lg.setLevel(level)


@contextmanager
def _session_log(path: Path | None) -> Iterator[None]:
    """Append this thread's log records (INFO and up) to ``path`` while the task runs."""
    if path is None:
        yield
        return
    make_folder(path.parent, "session folder")
    fd = open_no_follow(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, "the session log")
    handler = logging.StreamHandler(os.fdopen(fd, "a", encoding="utf-8"))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_ThreadFilter(threading.get_ident()))
    handler.setLevel(logging.INFO)
    loggers = [logging.getLogger(n) for n in _LOGGERS]
    _raise_levels(True)
    for lg in loggers:
        lg.addHandler(handler)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
        _raise_levels(False)
        handler.close()
        handler.stream.close()


def run_task(task: Task, root: str) -> dict:
    """Run one task in a worker: its function, then (atomically) its manifest."""
    t0 = time.perf_counter()
    with _session_log(task.log_path):
        log.info("%s: started", task.name)
        try:
            info = task.func(**task.kwargs)
        except Exception as exc:
            log.error("%s failed: %s", task.name, exc)
            raise
        if os.environ.get(KILL_ENV) == task.name:
            os.kill(os.getpid(), signal.SIGKILL)
        write_manifest(task.manifest, task.step, task.stamps, task.outputs, task.config_hash,
                       Path(root), extra={"info": info})
        elapsed = time.perf_counter() - t0
        log.info("%s: done in %.1f s", task.name, elapsed)
    return {"task": task.name, "seconds": elapsed}


@contextmanager
def _backend(scheduler: str | None) -> Iterator[None]:
    if scheduler is None:
        yield
        return
    import joblib

    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise InputError(f"--scheduler needs dask.distributed: pip install 'dask[distributed]' "
                         f"({exc})") from None
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise InputError(f"cannot reach the Dask scheduler {scheduler!r}: {exc}") from None
    try:
        with joblib.parallel_backend("dask"):
            yield
    finally:
        client.close()


def _execute(tasks: list[Task], root: Path, n_jobs: int, scheduler: str | None,
             progress: bool, step: str) -> list[dict]:
    import joblib
    from tqdm.auto import tqdm

    done = []
    bar = tqdm(total=len(tasks), desc=step, unit="task", disable=not progress, leave=True)
    try:
        if scheduler is None and (n_jobs == 1 or len(tasks) == 1):
            for t in tasks:
                done.append(run_task(t, str(root)))
                bar.update(1)
            return done
        jobs = -1 if scheduler is not None else min(n_jobs, len(tasks)) if n_jobs > 0 else n_jobs
        par = joblib.Parallel(n_jobs=jobs, return_as="generator_unordered")
        for r in par(joblib.delayed(run_task)(t, str(root)) for t in tasks):
            done.append(r)
            bar.update(1)
        return done
    finally:
        bar.close()


def run_project(root: str | Path, steps: Sequence[str] | str | None = None, n_jobs: int = 1,
                scheduler: str | None = None, progress: bool = False,
                force: bool = False) -> dict:
    """Run the pipeline of a project, skipping tasks whose outputs are up to date.

    Parameters
    ----------
    root : project folder (holding ``config.toml``)
    steps : names among calibrate, analyze, triangulate, filter, angles, render
        Default: all, in that order.
    n_jobs : int
        Parallel tasks (joblib; -1 for every core). Ignored with ``scheduler``.
    scheduler : str, optional
        Address of a running Dask scheduler, e.g. ``tcp://127.0.0.1:8786``.
    progress : bool
        Progress bars (one per step).
    force : bool
        Re-run the selected steps even when up to date.

    Returns
    -------
    dict
        step -> ``{"ran": [task names], "up_to_date": [task names], "skipped": reason}``
        (``skipped`` only for a step that could not run, e.g. render without viz3d).

    Raises
    ------
    InputError
        A bad config, a missing session, camera or file, videos of different lengths (all
        checked before anything is written), another run working on the project
        (:mod:`.lock`), or a task's own input error.
    """
    names = parse_steps(steps)
    if n_jobs == 0 or n_jobs < -1:
        raise InputError(f"--jobs must be a positive number of tasks, or -1 for every core, "
                         f"got {n_jobs}")
    project: Project = open_project(root)
    summary: dict = {}
    inner_jobs = 1 if (n_jobs != 1 or scheduler) else None
    seen: dict = {}  # input stamps of this run, shared by the tasks' up-to-date checks
    with project_lock(project.root), _backend(scheduler):
        for step in names:
            entry: dict = {"ran": [], "up_to_date": []}
            summary[step] = entry
            if step == "render" and project.config["render"]["enabled"] and (
                    missing := viz3d_missing()):
                entry["skipped"] = f"viz3d lacks {missing}"
                log.warning("render step skipped: viz3d lacks %s (not installed or not written "
                            "yet); it runs on a later `tripose run` once available", missing)
                continue
            tasks = plan_step(project, step, n_jobs=inner_jobs)
            todo = []
            for t in tasks:
                ok, t.stamps, reason = is_up_to_date(t.manifest, t.inputs, t.outputs,
                                                     t.config_hash, project.root, seen)
                if ok and not force:
                    entry["up_to_date"].append(t.name)
                    continue
                log.info("%s: %s", t.name, "forced" if ok else reason)
                todo.append(t)
            if todo:
                _execute(todo, project.root, n_jobs, scheduler, progress, step)
                entry["ran"] = [t.name for t in todo]
            log.info("%s: %d ran, %d up to date", step, len(entry["ran"]),
                     len(entry["up_to_date"]))
    return summary
