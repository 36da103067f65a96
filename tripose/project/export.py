"""``export_pose``: a pose-3d file to CSV, TRC, C3D or parquet."""

from __future__ import annotations

from pathlib import Path

from calibration.errors import InputError

__all__ = ["export_pose"]


def export_pose(src: str | Path, out: str | Path, format: str | None = None,
                fps: float | None = None, units: str | None = None) -> Path:
    """Convert a 3D points file (csv, parquet, trc, c3d) to another format.

    Parameters
    ----------
    src : input file; its format from the suffix
    out : output file, written atomically
    format : {"csv", "trc", "c3d", "parquet"}, optional
        Default: from ``out``'s suffix.
    fps : float, optional
        Frame rate (Hz) to store; CSV carries none (default 100), the others keep theirs.
    units : str, optional
        Units to store; CSV carries none (default "mm").

    Returns
    -------
    Path written

    Raises
    ------
    InputError
        Unknown format or suffix, same input and output, or an unreadable input.
    """
    from triangulate import load_pose3d, save_pose3d
    from triangulate.save_3d import FORMATS

    src, out = Path(src), Path(out)
    if not src.is_file():
        raise InputError(f"3D file {src} does not exist")
    if format is not None and format not in FORMATS:
        raise InputError(f"unknown export format {format!r}; choose one of {list(FORMATS)}")
    if format is None and out.suffix.lower() not in FORMATS.values():
        raise InputError(f"cannot tell the format of {out} from its suffix; pass --format "
                         f"({', '.join(FORMATS)})")
    if src.resolve() == out.resolve():
        raise InputError(f"export would overwrite its input {src}; choose another output")
    if fps is not None and not fps > 0:
        raise InputError(f"--fps must be > 0, got {fps}")
    pose = load_pose3d(src)
    if fps is not None:
        pose.fps = float(fps)
    if units is not None:
        pose.units = units
    return save_pose3d(out, pose, format=format)
