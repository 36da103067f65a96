"""The ``movement`` poses dataset (an ``xarray.Dataset``) and its netCDF files.

``movement`` (neuroinformatics-unit) holds poses as an :class:`xarray.Dataset` with

* ``position``: dims ``("time", "space", "keypoints", "individuals")``
  (:data:`poses.dims.MOVEMENT_POSITION_DIMS`);
* ``confidence``: dims ``("time", "keypoints", "individuals")``
  (:data:`poses.dims.MOVEMENT_CONFIDENCE_DIMS`);
* coordinates ``time`` (seconds, ``frame / fps``, when the frame rate is known, else integer
  frame numbers), ``space`` (``x, y`` or ``x, y, z``), ``keypoints`` and ``individuals``;
* attributes ``source_software`` (None when unknown), ``ds_type = "poses"``, ``fps`` (only
  when known), ``time_unit`` (``"seconds"`` or ``"frames"``) and, for data read from a file,
  ``source_file``.

This is what ``movement.io.load_poses.from_numpy`` builds; its native file format is that
dataset written by ``Dataset.to_netcdf`` (netCDF-4, i.e. HDF5). ``movement`` itself is not
imported (it needs a newer Python); this module follows its layout.

Our extra fields ride along so that a round trip of a :class:`~poses.Poses` is exact, and a
plain ``movement`` dataset still loads: ``units`` as ``position.attrs["space_unit"]`` (the
attribute ``movement.transforms.scale`` sets), ``camera`` as a dataset attribute, every
``quality`` array (``error``, ``ncams``, ``sigma`` ...) as a data variable with the confidence
dims (flagged ``poses_quality = 1``), and ``frame_index`` through the ``time`` coordinate.
Other dataset attributes become :attr:`Poses.attrs`. Older ``movement`` datasets (dims
``time, individuals, keypoints, space``; variables ``pose_tracks`` / ``confidence_scores``)
are read too, by dimension name.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..dims import MOVEMENT_CONFIDENCE_DIMS, MOVEMENT_POSITION_DIMS, QUALITY_FIELDS, SPACE_3D
from ..errors import InputError
from ..model import Poses
from .registry import Format, register

__all__ = ["to_xarray", "from_xarray", "load_movement", "save_movement"]

#: Dataset attributes that map onto :class:`Poses` fields (the rest become ``Poses.attrs``).
_RESERVED_ATTRS = ("fps", "time_unit", "source_software", "source_file", "ds_type", "camera")
#: Variable names of early ``movement`` releases.
_ALIASES = {"pose_tracks": "position", "confidence_scores": "confidence"}
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def to_xarray(poses: Poses):
    """The ``movement`` poses dataset of ``poses``.

    Parameters
    ----------
    poses : Poses

    Returns
    -------
    xarray.Dataset
        ``position (time, space, keypoints, individuals)`` float64 and ``confidence (time,
        keypoints, individuals)`` float64; ``time`` is ``frame_index / fps`` seconds when
        ``fps`` is known, else ``frame_index`` (int64 frames). Attributes as ``movement``
        writes them, plus ``camera`` when set and every entry of ``poses.attrs``; quality
        arrays as extra variables.
    """
    import xarray as xr

    fi = np.asarray(poses.frame_index, dtype=np.int64)
    attrs: dict = {"source_software": poses.source_software, "ds_type": "poses"}
    if poses.fps is not None:
        time = fi / poses.fps
        attrs["fps"] = poses.fps
        attrs["time_unit"] = "seconds"
    else:
        time = fi
        attrs["time_unit"] = "frames"
    if poses.source_file is not None:
        attrs["source_file"] = str(poses.source_file)
    if poses.camera is not None:
        attrs["camera"] = poses.camera
    for key, value in poses.attrs.items():
        if key not in _RESERVED_ATTRS:
            attrs[str(key)] = value

    conf_dims = MOVEMENT_CONFIDENCE_DIMS
    pos_attrs = {} if poses.units is None else {"space_unit": poses.units}
    data_vars = {
        "position": (MOVEMENT_POSITION_DIMS, poses.position.transpose(0, 3, 2, 1), pos_attrs),
        "confidence": (conf_dims, poses.confidence.transpose(0, 2, 1)),
    }
    for key, arr in poses.quality.items():
        var_attrs: dict = {"poses_quality": 1}
        unit = QUALITY_FIELDS.get(key)
        unit = poses.units if unit == "units" else unit
        if unit is not None:
            var_attrs["units"] = unit
        data_vars[key] = (conf_dims, arr.transpose(0, 2, 1), var_attrs)
    coords = {"time": time, "space": list(SPACE_3D[:poses.n_space]),
              "keypoints": list(poses.keypoints), "individuals": list(poses.individuals)}
    return xr.Dataset(data_vars=data_vars, coords=coords, attrs=attrs)


def _plain(value):
    """An attribute value as plain Python (netCDF hands back numpy scalars and arrays)."""
    if isinstance(value, np.ndarray):
        return value.tolist() if value.ndim else value.item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _frame_index(time, attrs: dict, fps: float | None, n: int) -> np.ndarray:
    """Frame numbers from the ``time`` coordinate (seconds or frames)."""
    t = np.asarray(time)
    if t.shape != (n,) or t.dtype.kind not in "iuf" or (t.dtype.kind == "f"
                                                       and not np.isfinite(t).all()):
        return np.arange(n, dtype=np.int64)  # no coordinate, datetimes, ...: count frames
    unit = attrs.get("time_unit")
    if fps is not None and (unit == "seconds" or (unit is None and t.dtype.kind == "f")):
        return np.rint(t * fps).astype(np.int64)
    if unit in (None, "frames") and np.all(t == np.round(t)):
        return t.astype(np.int64)
    return np.arange(n, dtype=np.int64)


def _names(ds, dim: str):
    if dim in ds.coords:
        return [str(v) for v in np.asarray(ds.coords[dim].values).tolist()]
    return None


def from_xarray(ds, source_file: str | None = None) -> Poses:
    """Poses from a ``movement`` poses dataset (current or early dimension order).

    Parameters
    ----------
    ds : xarray.Dataset
        With ``position`` (dims ``time``, ``space``, ``keypoints``, ``individuals`` in any
        order; ``keypoints`` / ``individuals`` may be absent after a selection) and
        optionally ``confidence``. An ``xarray.DataArray`` of positions is accepted too.
    source_file : str, optional
        The file ``ds`` was read from (default: its ``source_file`` attribute); named in
        error messages.

    Returns
    -------
    Poses
        ``fps`` from the ``fps`` attribute (None when absent), ``frame_index`` from ``time``
        (``rint(time * fps)`` for seconds, the values for frames), ``units`` from
        ``position.attrs["space_unit"]``, quality arrays from flagged variables.

    Raises
    ------
    InputError
        Not a poses dataset (a ``bboxes`` one, no ``position``, unknown or extra dims,
        space labels other than x, y(, z)), or values :class:`Poses` rejects.
    """
    import xarray as xr

    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name="position")
    if not isinstance(ds, xr.Dataset):
        raise InputError(f"expected an xarray.Dataset (a movement poses dataset), got "
                         f"{type(ds).__name__}")
    attrs = {str(k): _plain(v) for k, v in ds.attrs.items()}
    where = source_file or attrs.get("source_file") or "movement dataset"
    ds = ds.rename({old: new for old, new in _ALIASES.items() if old in ds and new not in ds})
    if attrs.get("ds_type", "poses") != "poses":
        raise InputError(f"{where}: a movement {attrs['ds_type']!r} dataset; expected a "
                         f"poses dataset (ds_type 'poses')")
    if "position" not in ds:
        raise InputError(f"{where}: no 'position' variable; expected a movement poses dataset "
                         f"with position {MOVEMENT_POSITION_DIMS} and confidence "
                         f"{MOVEMENT_CONFIDENCE_DIMS}")
    for dim in ("keypoints", "individuals"):  # dropped by a scalar selection
        if dim not in ds["position"].dims:
            ds = ds.expand_dims(dim)
    pos_da = ds["position"]
    extra = sorted(set(pos_da.dims) - set(MOVEMENT_POSITION_DIMS))
    if extra or "time" not in pos_da.dims or "space" not in pos_da.dims:
        hint = f"; select one first, e.g. ds.sel({extra[0]}=...)" if extra else ""
        raise InputError(f"{where}: position has dims {tuple(pos_da.dims)}; expected "
                         f"{MOVEMENT_POSITION_DIMS}{hint}")
    n_space = pos_da.sizes["space"]
    space = _names(ds, "space")
    want = list(SPACE_3D[:n_space])
    if n_space not in (2, 3) or (space is not None and sorted(space) != sorted(want)):
        raise InputError(f"{where}: space coordinates {space or n_space}; expected x, y or "
                         f"x, y, z")
    if space is not None and space != want:
        ds = ds.sel(space=want)
    pos = ds["position"].transpose("time", "individuals", "keypoints", "space").values
    conf = None
    if "confidence" in ds:
        conf_da = ds["confidence"]
        for dim in ("keypoints", "individuals"):
            if dim not in conf_da.dims:
                conf_da = conf_da.expand_dims(dim)
        if set(conf_da.dims) != set(MOVEMENT_CONFIDENCE_DIMS):
            raise InputError(f"{where}: confidence has dims {tuple(conf_da.dims)}; expected "
                             f"{MOVEMENT_CONFIDENCE_DIMS}")
        conf = conf_da.transpose("time", "individuals", "keypoints").values
    quality = {}
    for name, var in ds.data_vars.items():
        if name in ("position", "confidence") or set(var.dims) != set(MOVEMENT_CONFIDENCE_DIMS):
            continue
        if var.attrs.get("poses_quality") or name in QUALITY_FIELDS:
            quality[str(name)] = var.transpose("time", "individuals", "keypoints").values

    fps = attrs.get("fps")
    fps = float(fps) if isinstance(fps, (int, float)) and fps > 0 else None
    n = pos.shape[0]
    time = ds["time"].values if "time" in ds.coords else None
    units = ds["position"].attrs.get("space_unit", attrs.get("space_unit"))
    extra_attrs = {k: v for k, v in attrs.items()
                   if k not in _RESERVED_ATTRS and k != "space_unit"}
    software = attrs.get("source_software")
    return Poses(
        pos, conf, keypoints=_names(ds, "keypoints"), individuals=_names(ds, "individuals"),
        fps=fps, units=None if units is None else str(units),
        camera=None if attrs.get("camera") is None else str(attrs["camera"]),
        source_file=where if (source_file or attrs.get("source_file")) else None,
        source_software=None if software is None else str(software),
        frame_index=_frame_index(time, attrs, fps, n), quality=quality, attrs=extra_attrs)


# ------------------------------------------------------------------------------ files
#: File attribute listing the attributes :func:`save_movement` stored as JSON text.
_JSON_ATTRS = "poses_json_attrs"


def _netcdf_attrs(attrs: dict) -> dict:
    """Attributes netCDF can store: None dropped; strings and numbers as they are; anything
    else (lists, which netCDF would collapse to a scalar when of length 1, dicts, booleans)
    as JSON text, listed under :data:`_JSON_ATTRS` so that loading restores it."""
    out, as_json = {}, []
    for key, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, (str, int, float, np.integer, np.floating)) \
                and not isinstance(value, (bool, np.bool_)):
            out[key] = value
        else:
            out[key] = json.dumps(value.tolist() if isinstance(value, np.ndarray) else value,
                                  default=str)
            as_json.append(key)
    if as_json:
        out[_JSON_ATTRS] = json.dumps(as_json)
    return out


def _from_netcdf_attrs(attrs: dict) -> dict:
    out = dict(attrs)
    try:
        keys = json.loads(out.pop(_JSON_ATTRS, "[]"))
        for key in keys:
            out[key] = json.loads(out[key])
    except (TypeError, ValueError, KeyError):
        pass  # not ours: keep the text as it is
    return out


def save_movement(poses: Poses, path: str | Path) -> Path:
    """Write ``poses`` as a ``movement`` netCDF file (``.nc``, netCDF-4 via h5netcdf).

    Parameters
    ----------
    poses : Poses
    path : str or Path
        Written atomically.

    Returns
    -------
    Path written

    Notes
    -----
    netCDF cannot store None: attributes that are None (e.g. an unknown
    ``source_software``) are left out, which ``movement`` and :func:`load_movement` read
    back as unknown. Values of ``poses.attrs`` other than strings and numbers are stored as
    JSON text (listed in the ``poses_json_attrs`` attribute) and restored on loading.
    """
    ds = to_xarray(poses)
    ds.attrs = _netcdf_attrs(ds.attrs)
    path = Path(path)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    return path


def _open(path: Path):
    import xarray as xr

    errors = []
    for engine in ("h5netcdf", None):  # netCDF-4 (HDF5); then netCDF-3 through scipy
        try:
            return xr.load_dataset(path, engine=engine)
        except Exception as exc:  # each backend fails in its own way on a foreign file
            errors.append(f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}")
    raise InputError(f"{path}: not a netCDF file that can be read ({errors[0]}); expected a "
                     f"movement poses dataset saved with Dataset.to_netcdf")


def load_movement(path: str | Path) -> Poses:
    """Read a ``movement`` poses dataset from a netCDF file.

    Parameters
    ----------
    path : str or Path
        A ``.nc`` file written by ``movement`` (``ds.to_netcdf``; netCDF-4 or netCDF-3) or
        by :func:`save_movement`.

    Returns
    -------
    Poses
        ``source_file`` is ``path``; see :func:`from_xarray`.

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    InputError
        Not netCDF, or not a poses dataset.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"movement file not found: {path}")
    ds = _open(path)
    ds.attrs = _from_netcdf_attrs(ds.attrs)
    return from_xarray(ds, source_file=str(path))


def _sniff(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head.startswith(_HDF5_MAGIC) or head[:4] in (b"CDF\x01", b"CDF\x02", b"CDF\x05")


register(Format(name="movement", suffixes=(".nc",),
                description="movement poses dataset (xarray, netCDF .nc)",
                load=load_movement, save=save_movement, sniff=_sniff))
