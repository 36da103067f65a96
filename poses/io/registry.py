"""The format registry behind :func:`load_poses` and :func:`save_poses`.

Each format module registers itself with :func:`register` (name, suffixes, a content sniffer,
its ``load_<fmt>`` and ``save_<fmt>``). A format is found from the path: a folder is OpenPose
JSON; otherwise the suffix narrows the candidates and, where several formats share a suffix
(``.h5``: SLEAP or DeepLabCut; ``.csv``: DeepLabCut, Lightning Pose or anipose), the content
decides. When nothing fits, the error lists every format and its suffixes.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..model import Poses

__all__ = ["Format", "FORMATS", "register", "get_format", "detect_format", "writer_format",
           "load_poses", "save_poses", "formats_table"]


@dataclass(frozen=True)
class Format:
    """One file format.

    Attributes
    ----------
    name : str
        Short name used by ``format=`` (e.g. ``"dlc"``).
    suffixes : tuple of str
        Lower-case suffixes (``".h5"``); empty for folder formats.
    description : str
        One line for messages and docs.
    load : callable ``(path, **options) -> Poses`` or None
    save : callable ``(poses, path, **options) -> Path`` or None
    sniff : callable ``(path) -> bool`` or None
        Whether an existing path holds this format (cheap; never raises).
    folder : bool
        The format is a folder of files (OpenPose JSON).
    priority : int
        Among formats whose sniffers accept a path, the highest wins.
    """

    name: str
    suffixes: tuple[str, ...]
    description: str
    load: Callable | None = None
    save: Callable | None = None
    sniff: Callable[[Path], bool] | None = None
    folder: bool = False
    priority: int = 0


#: name -> Format, in registration order.
FORMATS: dict[str, Format] = {}

# the modules that register formats (imported on first use, so that reading a CSV does not
# import pynwb or xarray)
_MODULES = ("dlc", "lightning_pose", "sleap", "openpose", "anipose", "trc", "c3d", "parquet",
            "movement", "nwb")
_loaded = False


def register(fmt: Format) -> Format:
    """Add ``fmt`` to :data:`FORMATS` (its module calls this at import)."""
    FORMATS[fmt.name] = fmt
    return fmt


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        for mod in _MODULES:
            importlib.import_module(f"{__package__}.{mod}")
        _loaded = True


def formats_table() -> str:
    """Every format with its suffixes, one per line (for error messages and ``--help``)."""
    _ensure_loaded()
    rows = []
    for f in FORMATS.values():
        where = "folder of .json" if f.folder else " ".join(f.suffixes)
        modes = "/".join(m for m, fn in (("read", f.load), ("write", f.save)) if fn)
        rows.append(f"{f.name} ({where}; {modes}): {f.description}")
    return "; ".join(rows)


def get_format(name: str) -> Format:
    """The registered format called ``name``.

    Raises
    ------
    InputError
        Unknown name (the message lists the known ones).
    """
    _ensure_loaded()
    try:
        return FORMATS[name]
    except KeyError:
        raise InputError(f"unknown pose format {name!r}; choose one of "
                         f"{list(FORMATS)}") from None


def detect_format(path: str | Path, for_writing: bool = False) -> Format:
    """The format of ``path``: from the suffix and, for an existing file, its content.

    Parameters
    ----------
    path : str or Path
    for_writing : bool
        Choose a format that can write ``path`` (by suffix alone; the file may not exist).

    Raises
    ------
    InputError
        No format fits, or several do and the content does not decide.
    """
    _ensure_loaded()
    path = Path(path)
    if not for_writing and path.is_dir():
        cands = [f for f in FORMATS.values() if f.folder]
    else:
        suffix = path.suffix.lower()
        cands = [f for f in FORMATS.values() if suffix in f.suffixes and not f.folder]
        if for_writing:
            cands = [f for f in cands if f.save is not None]
    if not cands:
        what = "write" if for_writing else "read"
        raise InputError(f"{path}: cannot tell which pose format to {what} from "
                         f"{'a folder' if path.is_dir() else repr(path.suffix or '(no suffix)')}"
                         f"; pass the format explicitly. Formats: {formats_table()}")
    if len(cands) == 1 or for_writing:
        # writing a shared suffix: the format of lowest priority is the plain one (.h5 ->
        # DeepLabCut, not SLEAP; .csv for 3D is decided by save_poses)
        return min(cands, key=lambda f: f.priority)
    if not path.exists():
        raise FileNotFoundError(f"pose file not found: {path}")
    hits = [f for f in cands if f.sniff is not None and f.sniff(path)]
    if not hits:
        raise InputError(f"{path}: its content matches none of the formats that use "
                         f"{path.suffix!r} ({', '.join(f.name for f in cands)}); expected "
                         f"{' or '.join(f.description for f in cands)}")
    hits.sort(key=lambda f: -f.priority)
    if len(hits) > 1 and hits[0].priority == hits[1].priority:
        raise InputError(f"{path}: ambiguous format, it could be "
                         f"{' or '.join(f.name for f in hits)}; pass format=")
    return hits[0]


def _check_options(fn, options: dict, fmt: Format, what: str) -> None:
    """Refuse options the format's reader or writer does not take, naming them."""
    import inspect

    params = inspect.signature(fn).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    known = [n for n, p in list(params.items())[1:] if p.kind is not p.VAR_POSITIONAL]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InputError(f"format {fmt.name!r} {what} takes no option(s) {unknown}; its "
                         f"options: {known}")


def load_poses(path: str | Path, format: str | None = None, **options) -> Poses:
    """Read poses from any supported file, inferring the format.

    Parameters
    ----------
    path : str or Path
        A file, or a folder of OpenPose / Pose2Sim JSON files.
    format : str, optional
        A name from :data:`FORMATS` (default: inferred from the suffix and content).
    **options
        Passed to the format's reader (e.g. ``skeleton=`` for OpenPose).

    Returns
    -------
    Poses

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    InputError
        Unknown or ambiguous format, or a file that does not hold what its format promises.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"pose file not found: {path}")
    fmt = get_format(format) if format else detect_format(path)
    if fmt.load is None:
        raise InputError(f"{path}: format {fmt.name!r} cannot be read")
    _check_options(fmt.load, options, fmt, "reading")
    return fmt.load(path, **options)


def writer_format(path: str | Path, format: str | None = None,
                  is_3d: bool | None = None) -> Format | None:
    """The format that writes ``path``: the one ``format`` names, else the path's suffix's.

    Parameters
    ----------
    path : str or Path
    format : str, optional
        A name from :data:`FORMATS`, or a suffix (``"csv"``, ``"trc"``, ``"h5"`` ...).
    is_3d : bool, optional
        Whether the poses are 3D, which decides ``.csv`` (anipose for 3D, DeepLabCut for 2D)
        and a path without suffix (an OpenPose folder for 2D); None leaves those undecided.

    Returns
    -------
    Format, or None when ``is_3d`` is None and it would decide

    Raises
    ------
    InputError
        An unknown format name, or a suffix no writer takes.
    """
    _ensure_loaded()
    path = Path(path)
    if format and format not in FORMATS:  # a suffix as format: "csv", "trc", "h5", "nc" ...
        suffix = "." + format.lower().lstrip(".")
        if not any(suffix in f.suffixes for f in FORMATS.values()):
            get_format(format)  # raises, listing the formats
        path, format = Path(f"x{suffix}"), None
    if format:
        return get_format(format)
    if not path.suffix and is_3d is not True:  # a folder of JSON files
        return None if is_3d is None else get_format("openpose")
    if path.suffix.lower() == ".csv":
        return None if is_3d is None else get_format("anipose" if is_3d else "dlc")
    return detect_format(path, for_writing=True)


def save_poses(poses: Poses, path: str | Path, format: str | None = None, **options) -> Path:
    """Write ``poses`` in the format its suffix (or ``format``) names, atomically.

    Parameters
    ----------
    poses : Poses
    path : str or Path
    format : str, optional
        A name from :data:`FORMATS`, or a suffix (``"csv"``, ``"trc"``, ``"h5"`` ...).
        Default: from the path's suffix (``.csv`` is DeepLabCut for 2D poses and anipose for
        3D, ``.h5`` DeepLabCut, no suffix an OpenPose folder).
    **options
        Passed to the format's writer.

    Returns
    -------
    Path written

    Raises
    ------
    InputError
        Unknown format, a format that cannot write, or ``path`` is the file ``poses`` was
        read from.
    """
    path = Path(path)
    if not isinstance(poses, Poses):
        raise InputError(f"save_poses needs Poses, got {type(poses).__name__}")
    if poses.source_file and Path(poses.source_file).exists() and path.exists() \
            and Path(poses.source_file).resolve() == path.resolve():
        raise InputError(f"writing {path} would overwrite the file these poses were read "
                         f"from; choose another output")
    fmt = writer_format(path, format, poses.is_3d)
    if fmt.save is None:
        raise InputError(f"{path}: format {fmt.name!r} cannot be written; writable formats: "
                         f"{[f.name for f in FORMATS.values() if f.save]}")
    _check_options(fmt.save, options, fmt, "writing")
    return fmt.save(poses, path, **options)
