"""The run lock and the session logs are never written through a symbolic link: a link in
their place is refused with one line and the file it points to is left as it was."""

from __future__ import annotations

import logging

import pytest

from calibration.errors import InputError
from tripose.cli import main
from tripose.project import sample_project
from tripose.project.lock import LOCK_NAME, project_lock
from tripose.project.runner import _session_log

PRECIOUS = "somebody else's data\n" * 3


def _precious(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text(PRECIOUS)
    return target


def test_a_symlinked_lock_is_refused_and_its_target_kept(tmp_path):
    target = _precious(tmp_path)
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / LOCK_NAME).symlink_to(target)
    with pytest.raises(InputError, match="symbolic link"):
        with project_lock(tmp_path / "proj"):
            pass
    assert target.read_text() == PRECIOUS


def test_a_lock_that_is_a_folder_is_one_line(tmp_path):
    (tmp_path / LOCK_NAME).mkdir()
    with pytest.raises(InputError, match="is a folder"):
        with project_lock(tmp_path):
            pass


def test_a_symlinked_session_log_is_refused_and_its_target_kept(tmp_path):
    target = _precious(tmp_path)
    log = tmp_path / "session" / "tripose.log"
    log.parent.mkdir()
    log.symlink_to(target)
    with pytest.raises(InputError, match="symbolic link"):
        with _session_log(log):
            pass
    assert target.read_text() == PRECIOUS
    # a real log file is appended to
    real = tmp_path / "other" / "tripose.log"
    real.parent.mkdir()
    real.write_text("earlier\n")
    with _session_log(real):
        logging.getLogger("tripose").info("a line")
    text = real.read_text()
    assert text.startswith("earlier\n") and "a line" in text


def test_tripose_run_with_a_symlinked_lock(tmp_path, capsys):
    target = _precious(tmp_path)
    sample_project(tmp_path / "p", calibrate=False, render=False, sessions=("A",))
    (tmp_path / "p" / LOCK_NAME).symlink_to(target)
    assert main(["run", str(tmp_path / "p"), "--steps", "triangulate"]) == 2
    err = capsys.readouterr().err
    assert "symbolic link" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert target.read_text() == PRECIOUS
