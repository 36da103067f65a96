"""Up-to-date checks: a small JSON manifest per task records its inputs, config and outputs.

A task (e.g. ``triangulate`` of session A) is up to date when its manifest exists, its config
fingerprint is unchanged, every input still has the recorded content and every output still
exists as recorded. File stamps are ``[size, mtime_ns, sha256]``; a file whose size and mtime
match its record is taken as unchanged without reading it, one whose mtime changed is hashed
(so an upstream step that rewrites identical bytes does not re-run what follows). Manifests
are written atomically after the outputs, so a killed run re-runs at most the tasks that were
in flight.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from pathlib import Path

from poses.atomic import write_text_atomic

__all__ = ["file_stamp", "stamp_inputs", "is_up_to_date", "write_manifest", "read_manifest",
           "MANIFEST_VERSION"]

log = logging.getLogger(__name__)

MANIFEST_VERSION = 1
_CHUNK = 1 << 20


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def file_stamp(path: Path, known: list | None = None) -> list:
    """``[size, mtime_ns, sha256]`` of a file (the hash reused from ``known`` when the size
    and mtime match it)."""
    st = path.stat()
    if known and known[0] == st.st_size and known[1] == st.st_mtime_ns:
        return [st.st_size, st.st_mtime_ns, known[2]]
    return [st.st_size, st.st_mtime_ns, _sha256(path)]


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [path]


def stamp_inputs(paths: Mapping[str, Path], root: Path, known: dict | None = None,
                 seen: dict | None = None) -> dict:
    """Stamps of input files (folders: every file inside), keyed by path relative to ``root``.

    Parameters
    ----------
    paths : label -> file or folder
    root : project root (keys are relative to it, so a moved project stays up to date)
    known : stamps of a previous manifest, to skip hashing unchanged files
    seen : stamps taken earlier in this run (updated): a file that several tasks read, such
        as the 2D model or a video, is hashed once per run, not once per task
    """
    known = known or {}
    seen = {} if seen is None else seen
    out = {}
    for p in paths.values():
        for f in _files(Path(p)):
            key = _rel(f, root)
            out[key] = seen[key] = file_stamp(f, seen.get(key) or known.get(key))
    return dict(sorted(out.items()))


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def read_manifest(path: Path) -> dict | None:
    """The manifest at ``path``, or None when absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION else None


def _same(stamp: list | None, path: Path) -> bool:
    if stamp is None or not path.is_file():
        return False
    return file_stamp(path, stamp)[2] == stamp[2]


def is_up_to_date(manifest: Path, inputs: Mapping[str, Path], outputs: Iterable[Path],
                  config_hash: str, root: Path,
                  seen: dict | None = None) -> tuple[bool, dict, str]:
    """Whether a task needs no re-run (``seen``: see :func:`stamp_inputs`).

    Returns
    -------
    up_to_date : bool
    stamps : dict
        Current input stamps (recorded by :func:`write_manifest` after a run).
    reason : str
        Why it is out of date (empty when up to date).
    """
    old = read_manifest(manifest)
    stamps = stamp_inputs(inputs, root, known=(old or {}).get("inputs"), seen=seen)
    if old is None:
        return False, stamps, "never run"
    if old.get("config") != config_hash:
        return False, stamps, "config changed"
    before = {k: v[2] for k, v in old.get("inputs", {}).items()}
    if before != {k: v[2] for k, v in stamps.items()}:
        return False, stamps, "inputs changed"
    recorded = old.get("outputs", {})
    for out in outputs:
        if not _same(recorded.get(_rel(out, root)), out):
            return False, stamps, f"output {out.name} missing or changed"
    return True, stamps, ""


def write_manifest(manifest: Path, step: str, stamps: dict, outputs: Iterable[Path],
                   config_hash: str, root: Path, extra: dict | None = None) -> Path:
    """Record a finished task (atomically): input stamps, config, output stamps."""
    data = {"version": MANIFEST_VERSION, "step": step, "config": config_hash,
            "inputs": stamps,
            "outputs": {_rel(p, root): file_stamp(p) for p in outputs},
            **(extra or {})}
    return write_text_atomic(manifest, json.dumps(data, indent=1, sort_keys=True) + "\n")
