"""Atomic file writes: write beside the target, then rename, so a failed run loses nothing.

The one copy in tripose. Files are created with the usual permissions (0666 less the umask,
so 0644 under the common umask 022), never mkstemp's 0600: a lab group reads a colleague's
outputs.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "write_text_atomic", "write_json_atomic", "file_mode"]


def _umask() -> int:
    """The process umask, read without changing it where Linux tells it (``/proc``), since
    setting it to read it would race with threads that create files meanwhile."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """Permission bits of a newly created file under the current umask (e.g. 0o644)."""
    return 0o666 & ~_umask()


def _prefix(path: Path) -> str:
    """Start of the temporaries of ``path``: hidden, named after it, this host's."""
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40]
    return f".{path.name}.tripose-{host}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's) or cannot tell: keep its file
    return True


def _remove_stale(path: Path) -> None:
    """Remove the temporaries of ``path`` that a killed run of this host left behind (their
    process is gone); another host's, or a live process's, are kept."""
    prefix = _prefix(path)
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        pid = entry.name[len(prefix):].split("-", 1)[0]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False) or entry.is_symlink():
                os.unlink(entry.path)


@contextlib.contextmanager
def atomic_path(path: str | Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    Parameters
    ----------
    path : str or Path
        The final file. Its folder is created when missing.
    suffix : str, optional
        Suffix of the temporary file (defaults to the target's, so writers that pick a
        format from the extension keep working).

    Temporaries are named ``.<name>.tripose-<host>-<pid>-<random><suffix>``; those of the
    same target left by a killed process of this host are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f"{_prefix(path)}{os.getpid()}-", suffix=path.suffix if suffix is None else suffix,
        dir=path.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, file_mode())  # mkstemp creates 0600; give the usual bits
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (UTF-8) and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json_atomic(path: str | Path, obj: object) -> Path:
    """Write ``obj`` as indented JSON atomically and return the path."""
    return write_text_atomic(path, json.dumps(obj, indent=2) + "\n")
