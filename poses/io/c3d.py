"""C3D motion-capture files (via ezc3d), read and written.

Mapping onto :class:`poses.Poses`: 3D points (``POINT:UNITS``), ``POINT:RATE`` is ``fps``,
``POINT:LABELS`` (and ``LABELS2`` ...) the markers, named as in :mod:`.trc`: the keypoints
for one individual, ``{individual}:{keypoint}`` for several (split back when they fill the
individuals x keypoints grid). A residual of -1 marks a missing point (C3D's rule). C3D has
no confidence: reading gives the default (1 where a point is present).

Residuals: C3D keeps one byte per point and frame, in steps of ``|POINT:SCALE|``. tripose
writes ``quality["error"]`` (reprojection error, pixels) there, with the step chosen from 1,
2, 5 x 10^k so that the largest error fits (<= 255 steps) and each error rounded to the
nearest step; a point with an unknown error is written as 0 (C3D cannot say "unknown").

tripose also writes a parameter group ``TRIPOSE``: ``INDIVIDUALS`` and ``KEYPOINTS`` (the
exact names, in chunks of at most 255 as ``KEYPOINTS2`` ...), ``FIRST_FRAME`` (the first
``frame_index``, as text), ``HAS_ERROR`` (1: residuals are reprojection errors in pixels)
and ``SOURCE_SOFTWARE``, so its files read back with names, frame numbers and errors intact.
Residuals of other software (often in position units) are read into ``quality["residual"]``
instead of ``"error"``.

Writing needs a frame rate and units, consecutive frame numbers, and 3D poses. Reading checks
the file's structure (header, parameter section, data size) in Python before ezc3d opens it:
ezc3d can crash or hang on damaged files.
"""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..errors import InputError
from ..model import Poses
from .registry import Format, register
from .trc import check_marker_names, marker_labels, require_markers, split_labels

__all__ = ["load_c3d", "save_c3d", "is_c3d_file", "check_c3d_structure", "GROUP"]

#: Parameter group of tripose's own metadata.
GROUP = "TRIPOSE"
_BLOCK = 512
_CHUNK = 255
_NUMBER, _TEXT = (1, 2, 4), (-1,)
# parameters ezc3d reads by kind (numbers by index): a wrong kind or an empty number crashes it
_SCALARS = {
    **{("POINT", n): _NUMBER for n in ("USED", "SCALE", "RATE", "DATA_START", "FRAMES")},
    **{("ANALOG", n): _NUMBER for n in ("USED", "RATE", "GEN_SCALE")},
    **{("ROTATION", n): _NUMBER for n in ("USED", "RATE", "RATIO", "DATA_START")},
    **{(g, n): _TEXT for g in ("POINT", "ANALOG", "ROTATION")
       for n in ("LABELS", "DESCRIPTIONS", "UNITS")},
}


def is_c3d_file(path: str | Path) -> bool:
    """Whether ``path`` starts like a C3D file (second byte 0x50). Never raises."""
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError:
        return False
    return len(head) == 2 and head[1] == 0x50 and head[0] >= 2


# ------------------------------------------------------------------- validation
def _bad(path: Path, why: str) -> InputError:
    return InputError(f"{path}: not a valid C3D file ({why})")


def _walk_parameters(buf: bytes, start: int, end: int, path: Path, endian: str
                     ) -> dict[tuple[str, str], int]:
    """Follow the parameter section's entries, checking each stays inside it.

    Returns the first value of every integer parameter, keyed by (GROUP, NAME).
    """
    pos, groups, ints = start + 4, {}, {}
    while True:
        if pos + 2 > end:
            raise _bad(path, "parameter section runs past its end")
        nchar, gid = struct.unpack_from("bb", buf, pos)
        if nchar == 0 or gid == 0:
            break
        n = abs(nchar)
        off_at = pos + 2 + n
        if off_at + 2 > end:
            raise _bad(path, "parameter name runs past the parameter section")
        name = buf[pos + 2:off_at].decode("latin-1").upper()
        (offset,) = struct.unpack_from(endian + "h", buf, off_at)
        nxt = end if offset == 0 else off_at + offset
        if offset < 0 or nxt > end or nxt < off_at + 2:
            raise _bad(path, f"parameter entry at byte {pos} points outside the section")
        body = buf[off_at + 2:nxt]
        if gid < 0:
            if len(body) < 1 or 1 + body[0] > len(body):
                raise _bad(path, f"group entry at byte {pos} is cut short")
            groups[-gid] = name
        else:
            if len(body) < 2:
                raise _bad(path, f"parameter entry at byte {pos} is cut short")
            kind, ndim = struct.unpack_from("bB", body, 0)
            if kind not in (-1, 1, 2, 4):
                raise _bad(path, f"parameter at byte {pos} has unknown data type {kind}")
            if 2 + ndim > len(body):
                raise _bad(path, f"parameter at byte {pos} is cut short")
            if kind == -1 and ndim == 0:  # ezc3d crashes on text without dimensions
                raise _bad(path, f"text parameter {name} at byte {pos} has no dimensions")
            count = math.prod(body[2:2 + ndim])  # exact: no int64 overflow
            stop = 2 + ndim + abs(kind) * count
            if stop + 1 > len(body) or stop + 1 + body[stop] > len(body):
                raise _bad(path, f"parameter at byte {pos} holds more data than its entry")
            value = None
            if kind in (1, 2) and count:
                fmt = "B" if kind == 1 else endian + "h"
                value = struct.unpack_from(fmt, body, 2 + ndim)[0]
            ints[(gid, name)] = (kind, count, value)
        if offset == 0:
            break
        pos = nxt
    lost = sorted({g for g, _ in ints} - set(groups))
    if lost:
        raise _bad(path, f"parameters refer to undeclared group(s) {lost}")
    params = {(groups[g], name): v for (g, name), v in ints.items()}
    for key, (kind, count, _) in params.items():
        want = _SCALARS.get(key)
        if want and (kind not in want or (want is _NUMBER and not count)):
            raise _bad(path, f"parameter {':'.join(key)} must hold a "
                             f"{'number' if -1 not in want else 'text'}, got type {kind} with "
                             f"{count} value(s)")
    return {k: v[2] for k, v in params.items() if v[2] is not None}


def _check_counts(ints: dict, n_points: int, n_analog: int, n_frames: int, size: int,
                  path: Path) -> None:
    """Counts that size ezc3d's allocations must agree with the header and the file."""
    used = ints.get(("POINT", "USED"), n_points)
    if used != n_points:
        raise _bad(path, f"POINT:USED = {used} but the header says {n_points} points")
    analogs = ints.get(("ANALOG", "USED"), 0)
    if analogs < 0 or (analogs and n_analog % analogs) or (n_analog and not analogs):
        raise _bad(path, f"ANALOG:USED = {analogs} does not divide the header's {n_analog} "
                         f"analog samples per frame")
    rot_used = ints.get(("ROTATION", "USED"), 0)
    ratio = ints.get(("ROTATION", "RATIO"), 1)
    rot_start = ints.get(("ROTATION", "DATA_START"), 0)
    if rot_used < 0 or ratio < 0 or n_frames * ratio * max(rot_used, 1) > size:
        raise _bad(path, f"ROTATION:USED = {rot_used}, RATIO = {ratio} do not fit the file")
    if rot_used and (rot_start - 1) * _BLOCK + n_frames * ratio * rot_used * 16 * 4 > size:
        raise _bad(path, f"its {rot_used} rotations run past the end of the file: truncated")


def check_c3d_structure(path: str | Path) -> None:
    """Check a C3D file's header, parameter section and data size before ezc3d reads it.

    Raises
    ------
    InputError
        The file is not C3D, is cut short, or its parameter entries point outside their
        section.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        buf = f.read(_BLOCK)
        if size < _BLOCK:
            raise _bad(path, f"{size} bytes, shorter than the 512-byte C3D header")
        if buf[1] != 0x50:
            raise _bad(path, "its second byte is not 0x50")
        p_start = (buf[0] - 1) * _BLOCK
        if buf[0] < 2 or p_start + 4 > size:
            raise _bad(path, f"parameter section at block {buf[0]} is missing or cut short")
        f.seek(p_start)
        buf += b"\0" * (p_start - _BLOCK) + f.read(255 * _BLOCK)  # the most it can span
    n_blocks, proc = buf[p_start + 2], buf[p_start + 3] - 83
    if proc not in (1, 2, 3):
        raise _bad(path, f"unknown processor type {proc + 83}")
    endian = ">" if proc == 3 else "<"
    p_end = p_start + n_blocks * _BLOCK
    if n_blocks < 1 or p_end > size:
        raise _bad(path, f"its {n_blocks}-block parameter section runs past the end of the "
                         f"file ({size} bytes): truncated")
    ints = _walk_parameters(buf, p_start, p_end, path, endian)
    n_points, n_analog, first, last, _, _ = struct.unpack_from(endian + "HHHHHf", buf, 2)
    (data_block,) = struct.unpack_from(endian + "H", buf, 16)
    sign_byte = {1: 15, 2: 13, 3: 12}[proc]
    word = 4 if buf[sign_byte] & 0x80 else 2  # negative scale: floating-point data
    n_frames = max(last - first + 1, 0)
    need = (data_block - 1) * _BLOCK + n_frames * (4 * n_points + n_analog) * word
    if data_block < 2 or ((data_block - 1) * _BLOCK < p_end and n_frames):
        raise _bad(path, f"its data section starts at block {data_block}, inside the header or "
                         f"parameters")
    if need > size:
        raise _bad(path, f"its header promises {n_frames} frames of {n_points} points "
                         f"({need} bytes) but the file has {size}: truncated")
    _check_counts(ints, n_points, n_analog, n_frames, size, path)


# ----------------------------------------------------------------------- reading
def _strings(group: dict, name: str) -> list[str] | None:
    """A char parameter and its continuations (``NAME2``, ``NAME3`` ...), or None."""
    if name not in group:
        return None
    out, i = [], 2
    key = name
    while key in group:
        out += [str(v).strip() for v in group[key]["value"]]
        key, i = f"{name}{i}", i + 1
    return out


def _residual_step(max_err: float) -> float:
    """Smallest of 1, 2, 5 x 10^k (>= 0.001) with ``255 * step >= max_err``."""
    need = max(max_err / 255.0, 1e-3)
    k = np.floor(np.log10(need))
    for m in (1.0, 2.0, 5.0, 10.0):
        step = float(f"{m * 10.0 ** k:.12g}")
        if step >= need * (1 - 1e-12):
            return step
    return 10.0 ** (k + 1)  # pragma: no cover


def load_c3d(path: str | Path) -> Poses:
    """Read a C3D file's 3D points.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Poses
        3D in ``POINT:UNITS`` (None when empty), ``fps`` = ``POINT:RATE``; tripose's files
        give back their individuals, keypoints, frame numbers and ``quality["error"]``.

    Raises
    ------
    FileNotFoundError
        No such file.
    InputError
        Not a C3D file, a damaged or truncated one, or one ezc3d cannot read.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"C3D file not found: {path}")
    check_c3d_structure(path)
    import ezc3d

    try:
        c3d = ezc3d.c3d(str(path))
        params = c3d["parameters"]
        point = params["POINT"]
        pts = np.asarray(c3d["data"]["points"], dtype=np.float64)
        res = np.asarray(c3d["data"]["meta_points"]["residuals"], dtype=np.float64)
    except (RuntimeError, OSError, ValueError, TypeError, KeyError, IndexError,
            MemoryError) as exc:
        raise InputError(f"{path}: ezc3d cannot read it as C3D ({exc})") from None
    labels = _strings(point, "LABELS") or []
    n_points = pts.shape[1]
    if len(labels) != n_points:
        raise InputError(f"{path}: POINT:LABELS names {len(labels)} markers for {n_points} "
                         f"points")
    try:
        rate = float(point["RATE"]["value"][0])
    except (KeyError, IndexError, TypeError, ValueError):
        raise InputError(f"{path}: C3D file lacks POINT:RATE (the frame rate)") from None
    units = (_strings(point, "UNITS") or [""])[0] or None
    pos = np.transpose(pts[:3], (2, 1, 0))  # (n_frames, n_points, 3)
    res = res[0].T if res.size else np.zeros(pos.shape[:2])
    gone = ~(res >= 0)
    pos[gone] = np.nan
    ours = params.get(GROUP, {})
    inds, kps = _strings(ours, "INDIVIDUALS"), _strings(ours, "KEYPOINTS")
    if not (inds and kps and len(inds) * len(kps) == n_points):
        inds, kps = split_labels(labels)
    try:
        first = (int(_strings(ours, "FIRST_FRAME")[0]) if "FIRST_FRAME" in ours
                 else int(c3d["header"]["points"].get("first_frame", 0)))
        has_error = "HAS_ERROR" in ours and int(np.ravel(ours["HAS_ERROR"]["value"])[0]) == 1
    except (ValueError, TypeError, IndexError):
        raise InputError(f"{path}: {GROUP}:FIRST_FRAME and {GROUP}:HAS_ERROR must be whole "
                         f"numbers") from None
    key = "error" if has_error else "residual"
    quality = {} if GROUP in params and not has_error else {key: np.where(gone, np.nan, res)}
    n_frames = pos.shape[0]
    shape = (n_frames, len(inds), len(kps))
    software = (_strings(ours, "SOURCE_SOFTWARE") or [""])[0] or None
    return Poses(pos.reshape(*shape, 3), keypoints=kps, individuals=inds, fps=rate,
                 units=units, source_file=str(path), source_software=software,
                 frame_index=first + np.arange(n_frames, dtype=np.int64),
                 quality={k: v.reshape(shape) for k, v in quality.items()})


# ----------------------------------------------------------------------- writing
def _chunks(names: list[str]) -> list[list[str]]:
    width = max((len(n) for n in names), default=1) or 1
    size = max(1, min(_CHUNK, 30000 // width))
    return [names[i:i + size] for i in range(0, len(names), size)] or [[""]]


def save_c3d(poses: Poses, path: str | Path) -> Path:
    """Write a C3D file atomically with ezc3d.

    Parameters
    ----------
    poses : Poses
        3D, with ``fps`` (Hz), ``units`` and consecutive ``frame_index``.
    path : str or Path

    Returns
    -------
    Path written.

    Raises
    ------
    InputError
        2D poses, no fps or units, frame numbers with gaps, no frames, names with ``:``, or
        a file that could not be written completely (a full disk).
    """
    import ezc3d

    path = Path(path)
    require_markers(poses, path, "C3D")
    check_marker_names(poses, str(path))
    fi = poses.frame_index
    if poses.n_frames == 0:
        raise InputError(f"{path}: C3D needs at least one frame; these poses have none")
    if poses.n_frames > 1 and not np.all(np.diff(fi) == 1):
        raise InputError(f"{path}: C3D stores consecutive frames from a first frame; "
                         f"frame_index has gaps or is out of order ({fi[:5].tolist()} ...); "
                         f"write TRC, anipose CSV or parquet instead")
    labels = marker_labels(poses)
    n_frames, n_markers = poses.n_frames, len(labels)
    pos = poses.position.reshape(n_frames, n_markers, 3)
    missing = ~np.isfinite(pos).all(-1)  # (n_frames, n_markers)
    err = poses.quality.get("error")
    err = (np.full(missing.shape, np.nan) if err is None
           else np.clip(err.reshape(n_frames, n_markers), 0.0, None))
    finite = np.isfinite(err) & ~missing
    step = _residual_step(float(err[finite].max())) if finite.any() else 1.0
    # ezc3d truncates residual / step to a byte: half a step rounds to the nearest one
    res = np.where(finite, (np.round(err / step) + 0.5) * step, 0.0)
    res[missing] = -1.0
    pts = np.ones((4, n_markers, n_frames))
    pts[:3] = np.transpose(np.where(missing[..., None], 0.0, pos), (2, 1, 0))
    c3d = ezc3d.c3d()
    point = c3d["parameters"]["POINT"]
    point["RATE"]["value"] = [float(poses.fps)]
    point["LABELS"]["value"] = tuple(labels)
    point["UNITS"]["value"] = [poses.units]
    point["SCALE"]["value"] = [-step]
    c3d["header"]["points"]["first_frame"] = int(fi[0]) if 0 <= fi[0] < 65535 else 0
    c3d["data"]["points"] = pts
    c3d["data"]["meta_points"]["residuals"] = res.T[None]
    for name, values in (("INDIVIDUALS", list(poses.individuals)),
                         ("KEYPOINTS", list(poses.keypoints))):
        for i, chunk in enumerate(_chunks(values)):
            c3d.add_parameter(GROUP, name if i == 0 else f"{name}{i + 1}", chunk)
    c3d.add_parameter(GROUP, "FIRST_FRAME", [str(int(fi[0]))])
    c3d.add_parameter(GROUP, "HAS_ERROR", int(poses.quality.get("error") is not None))
    if poses.source_software:
        c3d.add_parameter(GROUP, "SOURCE_SOFTWARE", [poses.source_software])
    with atomic_path(path, suffix=".c3d") as tmp:
        try:
            c3d.write(str(tmp))
        except (RuntimeError, OSError, ValueError, TypeError) as exc:
            raise InputError(f"{path}: ezc3d cannot write these poses as C3D ({exc})") from None
        try:  # ezc3d reports no write error (a full disk leaves a short file): check it
            check_c3d_structure(tmp)
        except InputError:
            raise InputError(f"{path}: the C3D file was not written completely (ezc3d left a "
                             f"short or damaged file); is the disk full? {path.name} is left "
                             f"as it was") from None
    return path


register(Format(
    name="c3d", suffixes=(".c3d",),
    description="C3D motion capture (3D points, rate, units; residuals = reprojection error)",
    load=load_c3d, save=save_c3d, sniff=is_c3d_file, priority=0))
