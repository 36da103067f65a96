"""Poses as a parquet table (pyarrow): anipose's pose table plus every field in metadata.

The table is :func:`poses.io.anipose.to_anipose_dataframe` without anipose's defaults: per
keypoint ``{kp}_x, {kp}_y[, {kp}_z]``, ``{kp}_score`` (confidence) and one float column per
``quality`` field (``{kp}_error`` pixels, ``{kp}_ncams``, ``{kp}_sigma`` in ``units``, ...),
then ``fnum`` (frame_index) and, for several individuals (or one not named ``"ind1"``), the
string column ``individual`` (long format, one row per frame and individual). 2D and 3D.

The parquet file's key-value metadata holds, under the key ``"tripose"``, a JSON object with
``n_space``, ``keypoints``, ``individuals``, ``quality`` (the field names), ``units``,
``fps``, ``camera``, ``source_software`` and ``attrs`` (values JSON cannot hold are stored as
their ``str``), so that a written file reads back to the same :class:`poses.Poses`.

Files without that metadata (tripose's earlier 3D parquet, anipose tables saved with pandas)
are read as anipose pose-3d tables, with ``units`` and ``fps`` from pandas' ``df.attrs`` when
present, else None.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import atomic_path
from ..errors import InputError
from ..model import Poses
from .anipose import from_anipose_dataframe, to_anipose_dataframe
from .registry import Format, register

__all__ = ["load_parquet", "save_parquet", "is_parquet_file", "METADATA_KEY"]

#: Key of tripose's JSON metadata in the parquet schema metadata.
METADATA_KEY = b"tripose"
_MAGIC = b"PAR1"


def _pyarrow(path: Path):
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is a dependency
        raise InputError(f"{path}: parquet needs pyarrow: pip install pyarrow ({exc})") from None
    return pa, pq


def is_parquet_file(path: str | Path) -> bool:
    """Whether ``path`` starts with parquet's magic bytes ``PAR1``. Never raises."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == _MAGIC
    except OSError:
        return False


def _meta(poses: Poses) -> dict:
    return {"n_space": poses.n_space, "keypoints": list(poses.keypoints),
            "individuals": list(poses.individuals), "quality": list(poses.quality),
            "units": poses.units, "fps": poses.fps, "camera": poses.camera,
            "source_software": poses.source_software, "attrs": poses.attrs}


def save_parquet(poses: Poses, path: str | Path) -> Path:
    """Write ``poses`` as a parquet file atomically, every field included.

    Parameters
    ----------
    poses : Poses
        2D or 3D.
    path : str or Path

    Returns
    -------
    Path written.
    """
    path = Path(path)
    pa, pq = _pyarrow(path)
    df = to_anipose_dataframe(poses, anipose_defaults=False)
    table = pa.Table.from_pandas(df, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[METADATA_KEY] = json.dumps(_meta(poses), default=str).encode("utf-8")
    table = table.replace_schema_metadata(meta)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return path


def _field(meta: dict, key: str, typ, path: Path, optional: bool = True):
    value = meta.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, typ):
        raise InputError(f"{path}: tripose metadata field {key!r} must be "
                         f"{getattr(typ, '__name__', typ)}, got {value!r}")
    return value


def load_parquet(path: str | Path) -> Poses:
    """Read a parquet pose table (tripose's, or a pose-3d table without metadata).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Poses
        With every field the file's metadata records; ``source_file`` = ``path``.

    Raises
    ------
    FileNotFoundError
        No such file.
    InputError
        Not a parquet file, or a table whose columns or metadata do not fit.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"parquet file not found: {path}")
    pa, pq = _pyarrow(path)
    try:
        table = pq.read_table(path)
        df = table.to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable parquet file ({str(exc).splitlines()[0]})"
                         ) from None
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    if raw is None:
        attrs = df.attrs or {}
        return from_anipose_dataframe(df, where=str(path), units=attrs.get("units"),
                                      fps=attrs.get("fps"))
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: its tripose metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise InputError(f"{path}: its tripose metadata must be a JSON object, got "
                         f"{type(meta).__name__}")
    n_space = meta.get("n_space")
    if n_space not in (2, 3):
        raise InputError(f"{path}: tripose metadata n_space must be 2 or 3, got {n_space!r}")
    keypoints = _field(meta, "keypoints", list, path, optional=False)
    individuals = _field(meta, "individuals", list, path, optional=False)
    quality = _field(meta, "quality", list, path) or []
    p = from_anipose_dataframe(df, where=str(path), keypoints=keypoints, n_space=n_space,
                               quality=[str(q) for q in quality], individuals=individuals,
                               units=_field(meta, "units", str, path), fps=meta.get("fps"))
    missing = [q for q in quality if q not in p.quality]
    if missing:
        raise InputError(f"{path}: quality field(s) {missing} lack their {{keypoint}}_{{field}} "
                         f"columns")
    return p.replace(camera=_field(meta, "camera", str, path),
                     source_software=_field(meta, "source_software", str, path),
                     attrs=_field(meta, "attrs", dict, path) or {})


register(Format(
    name="parquet", suffixes=(".parquet",),
    description="parquet pose table (anipose columns; every field in its metadata)",
    load=load_parquet, save=save_parquet, sniff=is_parquet_file, priority=0))
