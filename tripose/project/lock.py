"""One ``tripose run`` per project at a time: an advisory lock on ``PROJECT/.tripose.lock``.

Two runs of the same project would plan the same tasks and race on their outputs and
manifests. The lock is ``flock`` on a file in the project folder: the operating system
drops it when the process ends, however it ends, so a killed run never leaves a stale lock
behind. The file records the holder's process id, host and start time for the message the
second run shows. Where ``fcntl`` is missing (Windows) runs are not locked.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from calibration.errors import InputError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["LOCK_NAME", "project_lock"]

#: The lock file, in the project folder.
LOCK_NAME = ".tripose.lock"


@contextmanager
def project_lock(root: str | Path) -> Iterator[None]:
    """Hold the project's run lock for the ``with`` block.

    Parameters
    ----------
    root : path
        The project folder.

    Raises
    ------
    InputError
        Another process holds the lock (the message names its pid, host and start time).
    """
    path = Path(root) / LOCK_NAME
    if fcntl is None:
        yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(
                f"another `tripose run` is working on {Path(root)} ({_holder(path)}); wait for "
                f"it to finish, or stop it (the lock in {path} goes with its process)"
            ) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text())
        return f"pid {info['pid']} on {info['host']}, since {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
