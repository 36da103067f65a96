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

__all__ = ["LOCK_NAME", "project_lock", "open_no_follow"]

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
    fd = open_no_follow(path, os.O_RDWR | os.O_CREAT, "the run lock")
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


def open_no_follow(path: str | Path, flags: int, what: str, mode: int = 0o644) -> int:
    """``os.open`` that never follows a symbolic link at ``path`` (nor opens a folder).

    Parameters
    ----------
    path : path
    flags : int
        ``os.O_*`` flags (``O_NOFOLLOW`` is added where the system has it).
    what : str
        What tripose keeps there, for the message.
    mode : int
        Permissions of a new file (before the umask).

    Returns
    -------
    int
        The file descriptor.

    Raises
    ------
    InputError
        ``path`` is a symbolic link or a folder: writing through it would destroy somebody
        else's file.
    """
    path = Path(path)
    if path.is_symlink():
        raise InputError(f"{path} is a symbolic link; tripose keeps {what} there and never "
                         f"writes through a link: remove it (rm {path}) and run again")
    try:
        return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0), mode)
    except IsADirectoryError:
        raise InputError(f"{path} is a folder; tripose keeps {what} there: remove or rename "
                         f"it and run again") from None
    except OSError as exc:
        if path.is_symlink():  # replaced by a link between the check and the open
            raise InputError(f"{path} is a symbolic link; tripose keeps {what} there and "
                             f"never writes through a link: remove it and run again") from None
        raise InputError(f"cannot open {path} ({what}): {exc.strerror}") from None


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text())
        return f"pid {info['pid']} on {info['host']}, since {info['started']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "holder unknown"
