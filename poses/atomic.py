"""Atomic file writes: write beside the target, then rename, so a failed run loses nothing.

The one copy in tripose. Files are created with the usual permissions (0666 less the umask,
so 0644 under the common umask 022), never mkstemp's 0600: a lab group reads a colleague's
outputs.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError

__all__ = ["atomic_path", "write_text_atomic", "write_json_atomic", "file_mode",
           "check_output", "check_output_folder", "make_folder", "same_file"]


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


def _file_in_the_way(path: Path) -> Path | None:
    """The nearest of ``path`` and its parents that exists and is not a folder, if any."""
    for p in (path, *path.parents):
        if p.is_symlink() and not p.exists():
            return p  # a dangling link
        if p.exists():
            return None if p.is_dir() else p
    return None


def _existing_ancestor(path: Path) -> Path:
    for p in path.parents:
        if p.exists():
            return p
    return Path(path.anchor or ".")


def check_output(path: str | Path, what: str = "output") -> Path:
    """Refuse an output file that cannot be written, before any work is done.

    Parameters
    ----------
    path : str or Path
        The file to write (it may exist: it is then replaced, never written through).
    what : str
        The output in words for the message (``"-o"``, ``"--report"``, ``"output"``).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        ``path`` is a folder or a symbolic link, one of its parents is a file, or the
        nearest existing folder is not writable.
    """
    path = Path(path)
    if path.is_symlink():
        raise InputError(f"{what} {path} is a symbolic link (to {os.readlink(path)}); tripose "
                         f"writes neither through nor over links: remove it or choose another "
                         f"path")
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder; give a file path")
    blocker = _file_in_the_way(path.parent)
    if blocker is not None:
        raise InputError(f"cannot write {what} {path}: {blocker} is a file, not a folder; move "
                         f"it away or choose another path")
    folder = _existing_ancestor(path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write {what} {path}: folder {folder} is not writable; choose "
                         f"another path or fix its permissions")
    return path


def check_output_folder(path: str | Path, what: str = "output folder") -> Path:
    """Refuse an output folder that cannot be created or written, before any work is done.

    Raises
    ------
    InputError
        ``path`` or one of its parents is a file, or the nearest existing folder is not
        writable.
    """
    path = Path(path)
    blocker = _file_in_the_way(path)
    if blocker is not None:
        raise InputError(f"cannot use {what} {path}: {blocker} is a file, not a folder; move "
                         f"it away or choose another folder")
    folder = path if path.is_dir() else _existing_ancestor(path)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"cannot write into {what} {path}: folder {folder} is not writable; "
                         f"choose another folder or fix its permissions")
    return path


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether paths ``a`` and ``b`` name the same file (links and ``..`` resolved)."""
    a, b = Path(a), Path(b)
    try:
        return (a.exists() and b.exists() and a.samefile(b)) or a.resolve() == b.resolve()
    except OSError:
        return False


def make_folder(path: str | Path, what: str = "output folder") -> Path:
    """Create the folder ``path`` and its parents (nothing when it exists).

    Raises
    ------
    InputError
        A file stands in place of the folder or of one of its parents, or the folder cannot
        be created (permissions, read-only file system), naming it.
    """
    path = Path(path)
    blocker = _file_in_the_way(path)
    if blocker is not None:
        raise InputError(f"cannot create {what} {path}: {blocker} is a file, not a folder; "
                         f"move it away or choose another folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {what} {path}: {exc.strerror or exc}; choose a "
                         f"writable folder") from None
    return path


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

    Raises
    ------
    InputError
        ``path`` cannot be written (see :func:`check_output`), or the disk is full or
        read-only; the target is then left as it was.
    """
    path = check_output(path)
    make_folder(path.parent)
    _remove_stale(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{_prefix(path)}{os.getpid()}-",
                                   suffix=path.suffix if suffix is None else suffix,
                                   dir=path.parent)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}; choose a writable "
                         f"folder") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, file_mode())  # mkstemp creates 0600; give the usual bits
        os.replace(tmp_path, path)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EISDIR):
            raise
        reason = os.strerror(exc.errno)  # h5py's own text spans lines
        raise InputError(f"cannot write {path}: {reason}; {path.name} is left as it "
                         f"was") from None
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
