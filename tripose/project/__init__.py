"""tripose projects: a folder of sessions, one ``config.toml``, and a resumable pipeline.

>>> from tripose.project import init_project, run_project  # doctest: +SKIP
>>> init_project("myproj", sessions=["day1"], board="board.toml")  # doctest: +SKIP
>>> run_project("myproj", n_jobs=2)  # calibrate, analyze, ..., render  # doctest: +SKIP

See ``docs/pipeline.md``.
"""

from .config import SCHEMA, STEPS, load_config, validate_config
from .export import export_pose
from .layout import Project, Session, open_project
from .runner import parse_steps, run_project
from .scaffold import init_project, sample_project

__all__ = ["SCHEMA", "STEPS", "load_config", "validate_config", "Project", "Session",
           "open_project", "run_project", "parse_steps", "init_project", "sample_project",
           "export_pose"]
