"""Read calibration TOML files: anipose / sleap-anipose (``[cam_N]`` tables) and Pose2Sim."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import toml

from .camera import Camera
from .errors import InputError
from .rig import CameraRig

__all__ = ["load_rig", "from_anipose_toml", "from_pose2sim_toml", "from_calibration_dict"]

_CAM_KEY = re.compile(r"^cam_?(\d+)$")
_REQUIRED = ("size", "matrix", "distortions", "rotation", "translation")


def _read_toml(path: Path) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"calibration file not found: {path}")
    if path.is_dir():
        raise InputError(f"calibration file {path} is a folder; give its calibration.toml")
    try:
        return toml.load(path)
    except (toml.TomlDecodeError, UnicodeDecodeError, IndexError) as exc:
        raise InputError(f"calibration file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise InputError(f"cannot read calibration file {path}: {exc.strerror or exc}") from None


def _ordered_tables(data: dict, where: str) -> list[tuple[str, dict]]:
    tables = [(k, v) for k, v in data.items() if k != "metadata"]
    if not tables:
        raise InputError(
            f"{where} holds no camera tables; expected [cam_0], [cam_1], ... tables with "
            f"name, size, matrix, distortions, rotation and translation"
        )
    for key, value in tables:
        if not isinstance(value, dict):
            raise InputError(f"{where}: top-level key {key!r} should be a camera table, "
                             f"got {type(value).__name__}")
    numbered = [_CAM_KEY.match(k) for k, _ in tables]
    if all(numbered):
        # numeric order: cam_2 before cam_10 (aniposelib sorts these as strings)
        order = np.argsort([int(m.group(1)) for m in numbered], kind="stable")
        tables = [tables[i] for i in order]
    return tables


def _camera_from_table(key: str, table: dict, where: str) -> Camera:
    missing = [k for k in _REQUIRED if k not in table]
    if missing:
        raise InputError(
            f"{where}, camera table [{key}]: missing key(s) {missing}; each camera needs "
            f"{list(_REQUIRED)} (and optionally name, fisheye)"
        )
    name = str(table.get("name", key))
    for k in _REQUIRED:
        try:
            np.asarray(table[k], dtype=np.float64)
        except (ValueError, TypeError):
            raise InputError(f"{where}, camera table [{key}]: {k} must hold numbers, got "
                             f"{str(table[k])[:60]!r}") from None
    rotation = np.asarray(table["rotation"], dtype=np.float64)
    try:
        cam = Camera(
            name=name,
            size=table["size"],
            matrix=table["matrix"],
            dist=table["distortions"],
            rvec=np.zeros(3) if rotation.shape == (3, 3) else rotation,
            tvec=table["translation"],
            fisheye=bool(table.get("fisheye", False)),
        )
        if rotation.shape == (3, 3):
            cam.R = rotation
    except (ValueError, TypeError) as exc:
        raise InputError(f"{where}, camera table [{key}]: {exc}") from None
    return cam


def from_calibration_dict(data: dict, where: str = "calibration", units: str | None = None,
                          default_units: str = "mm") -> CameraRig:
    """A rig from a parsed calibration TOML.

    Parameters
    ----------
    data : dict
        Parsed TOML with camera tables and an optional ``metadata`` table.
    where : str
        Name of the source, used in error messages.
    units : str, optional
        Forces the unit; otherwise ``metadata.units`` or ``default_units``.
    default_units : str
        Unit assumed when the file does not say.
    """
    tables = _ordered_tables(data, where)
    cams = [_camera_from_table(k, t, where) for k, t in tables]
    metadata = dict(data.get("metadata", {}) or {})
    unit = units or str(metadata.get("units", default_units))
    try:
        return CameraRig(cams, units=unit, metadata=metadata)
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


def _looks_like_pose2sim(data: dict) -> bool:
    meta = data.get("metadata", {}) or {}
    if "units" in meta:
        return False
    if "adjusted" in meta or "error" in meta:
        return True
    sizes = [t.get("size") for k, t in data.items() if k != "metadata" and isinstance(t, dict)]
    return any(isinstance(s, list) and s and isinstance(s[0], float) for s in sizes)


def from_anipose_toml(path: str | Path) -> CameraRig:
    """Read anipose's / sleap-anipose's calibration.toml.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    CameraRig
        Cameras in ``cam_N`` numeric order; units from ``metadata.units`` (default ``"mm"``).
    """
    path = Path(path)
    return from_calibration_dict(_read_toml(path), where=str(path))


def from_pose2sim_toml(path: str | Path) -> CameraRig:
    """Read Pose2Sim's calibration TOML (same keys as anipose, translations in metres).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    CameraRig
        Cameras in file order (or ``cam_N`` order), units ``"m"`` unless the file says.
    """
    path = Path(path)
    return from_calibration_dict(_read_toml(path), where=str(path), default_units="m")


def load_rig(path: str | Path, format: str = "auto") -> CameraRig:
    """Read a calibration TOML file.

    Parameters
    ----------
    path : str or Path
    format : {"auto", "anipose", "pose2sim"}
        ``"auto"`` takes Pose2Sim when its metadata (``adjusted``/``error``) or float sizes
        are seen and no ``units`` is given, else anipose.

    Returns
    -------
    CameraRig
    """
    choices = ("auto", "anipose", "pose2sim")
    if format not in choices:
        raise InputError(f"unknown calibration format {format!r}; choose one of {choices}")
    path = Path(path)
    data = _read_toml(path)
    if format == "pose2sim" or (format == "auto" and _looks_like_pose2sim(data)):
        return from_calibration_dict(data, where=str(path), default_units="m")
    return from_calibration_dict(data, where=str(path))
