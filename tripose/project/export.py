"""``export_pose``: any pose file to any pose format (:mod:`poses.io`), by the output's suffix."""

from __future__ import annotations

from pathlib import Path

from poses.errors import InputError

__all__ = ["export_pose", "EXPORT_SUFFIXES"]

#: Output suffixes export writes (``.csv``: anipose for 3D poses, DeepLabCut for 2D; the
#: format of each is the registry's, :func:`poses.io.registry.writer_format`).
EXPORT_SUFFIXES = (".csv", ".trc", ".c3d", ".parquet", ".nc", ".nwb", ".h5")
#: Formats that cannot store a pose without a frame rate and units: the defaults the export
#: has always used for input that carries none (a pose-3d CSV).
_MARKER_FORMATS = ("trc", "c3d")
DEFAULT_FPS = 100.0
DEFAULT_UNITS = "mm"


def _choices() -> str:
    from poses.io import FORMATS

    names = [s.lstrip(".") for s in EXPORT_SUFFIXES]
    names += [n for n, f in FORMATS.items() if f.save is not None and n not in names]
    return ", ".join(names)


def _format_of(format: str | None, out: Path, is_3d: bool | None) -> str | None:
    """The registry format to write (None: ``.csv``, decided by the poses' dimension)."""
    from poses.io import FORMATS
    from poses.io.registry import writer_format

    if format is None:
        if out.suffix.lower() not in EXPORT_SUFFIXES:
            raise InputError(f"cannot tell the format of {out} from its suffix; pass --format "
                             f"({_choices()})")
        key = None
    else:
        key = format.strip().lower()
        if f".{key.lstrip('.')}" not in EXPORT_SUFFIXES and not (
                key in FORMATS and FORMATS[key].save is not None):
            raise InputError(f"unknown export format {format!r}; choose one of {_choices()}")
    fmt = writer_format(out, key, is_3d)
    return None if fmt is None else fmt.name


def export_pose(src: str | Path, out: str | Path, format: str | None = None,
                fps: float | None = None, units: str | None = None) -> Path:
    """Convert a pose file to another format.

    Parameters
    ----------
    src : str or Path
        Any file :func:`poses.io.load_poses` reads (DeepLabCut, SLEAP, Lightning Pose,
        OpenPose, anipose / pose-3d CSV, TRC, C3D, parquet, movement ``.nc``, NWB); its
        format from its suffix and content.
    out : str or Path
        Output file, written atomically.
    format : str, optional
        ``csv``, ``trc``, ``c3d``, ``parquet``, ``nc``, ``nwb``, ``h5`` or a format name of
        :data:`poses.io.FORMATS` (``anipose``, ``dlc``, ``movement`` ...). Default: from
        ``out``'s suffix (``.csv``: anipose for 3D poses, DeepLabCut for 2D; ``.h5``:
        DeepLabCut).
    fps : float, optional
        Frame rate (Hz) to store. When the input has none (CSV carries none), TRC and C3D
        get 100; the other formats keep it unknown.
    units : str, optional
        Units to store. When the input has none, TRC and C3D get ``"mm"``.

    Returns
    -------
    Path written

    Raises
    ------
    InputError
        Missing input, unknown format or suffix, same input and output, ``fps <= 0``, an
        unreadable input, or poses the output format cannot hold (e.g. 2D into TRC).
    """
    from poses.io import load_poses, save_poses

    src, out = Path(src), Path(out)
    if not src.exists():
        raise InputError(f"pose file {src} does not exist")
    _format_of(format, out, None)  # refuse an unknown format before reading anything
    if out.exists() and src.resolve() == out.resolve():
        raise InputError(f"export would overwrite its input {src}; choose another output")
    if fps is not None and not fps > 0:
        raise InputError(f"--fps must be > 0, got {fps}")
    poses = load_poses(src)
    name = _format_of(format, out, poses.is_3d)
    changes: dict = {}
    if fps is not None:
        changes["fps"] = float(fps)
    elif poses.fps is None and name in _MARKER_FORMATS:
        changes["fps"] = DEFAULT_FPS
    if units is not None:
        changes["units"] = units
    elif not poses.units and name in _MARKER_FORMATS:
        changes["units"] = DEFAULT_UNITS
    if changes:
        poses = poses.replace(**changes)
    return save_poses(poses, out, format=name)
