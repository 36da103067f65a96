"""One ``tripose label`` per TARGET: the lock file ``TARGET/.tripose-label.lock``.

Created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` (never through a link), it holds JSON
``{"pid", "host", "port"}`` (and ``url``, the address served, once bound); a second app on
the same TARGET reads it and stops with a message saying where the first one runs. A lock
whose process is gone (same host, pid not alive) is stale and replaced. The holder removes it
on exit.
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
from tripose.project.lock import open_no_follow

__all__ = ["LABEL_LOCK", "label_lock", "pid_alive"]

#: The lock file, in the TARGET folder.
LABEL_LOCK = ".tripose-label.lock"
#: A lock younger than this whose content cannot be read is being written: not stale.
_FRESH_S = 10.0


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by somebody else
        return True
    except OSError:
        return False
    return True


def _read(path: Path) -> dict | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        return info if isinstance(info, dict) else None
    except (OSError, ValueError):
        return None


def _holder_message(root: Path, info: dict) -> str:
    port = info.get("port")
    host = info.get("host") or "?"
    where = info.get("url") or (f"http://127.0.0.1:{port}/" if port else "port not bound yet")
    if host != socket.gethostname():
        where += f" on host {host}"
    return (f"{root} is already open in tripose label (pid {info.get('pid')}, {where}); close "
            f"it first")


def _stale(path: Path, info: dict | None) -> bool:
    if info is None:
        try:
            return time.time() - path.lstat().st_mtime > _FRESH_S
        except FileNotFoundError:
            return True
    if info.get("host") != socket.gethostname():
        return False  # cannot tell from here
    try:
        return not pid_alive(int(info.get("pid")))
    except (TypeError, ValueError):
        return True


def _write(fd: int, info: dict) -> None:
    data = (json.dumps(info) + "\n").encode()
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, data)


@contextmanager
def label_lock(root: str | Path) -> Iterator:
    """Hold ``root/.tripose-label.lock`` for the ``with`` block.

    Yields
    ------
    callable
        ``set_port(port, url=None)``: records the bound port (and address) in the lock.

    Raises
    ------
    InputError
        Another live ``tripose label`` holds the lock (the message names its pid and
        address), or the lock path is a link or a folder.
    """
    root = Path(root)
    path = root / LABEL_LOCK
    info = {"pid": os.getpid(), "host": socket.gethostname(), "port": None}
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for attempt in range(3):
        try:
            fd = open_no_follow(path, flags, "the label lock")
            break
        except InputError:
            if not path.exists() or path.is_symlink() or path.is_dir():
                raise
            held = _read(path)
            if not _stale(path, held) or attempt == 2:
                raise InputError(_holder_message(root, held or {})) from None
            try:
                path.unlink()
            except FileNotFoundError:
                pass
    try:
        _write(fd, info)

        def set_port(port: int, url: str | None = None) -> None:
            info["port"] = int(port)
            if url:
                info["url"] = str(url)
            _write(fd, info)

        yield set_port
    finally:
        os.close(fd)
        held = _read(path)
        if held is not None and held.get("pid") == os.getpid() and not path.is_symlink():
            try:
                path.unlink()
            except FileNotFoundError:
                pass
