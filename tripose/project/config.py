"""A project's ``config.toml``: the schema table, defaults, validation and the init template.

Every key is declared once in :data:`SCHEMA` (section -> key -> :class:`Key`); loading checks
that each section and key is known (an unknown one is an ``InputError`` naming it and the
allowed ones), that each value has the declared type ("``triangulation.score_threshold``
must be a float, got str 'high'"), and fills in defaults. ``docs/pipeline.md`` documents the
same table; :func:`config_template` writes it as a commented ``config.toml``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import toml

from calibration.errors import InputError

__all__ = ["Key", "SCHEMA", "STEPS", "load_config", "validate_config", "config_template",
           "section_hash", "CONFIG_NAME"]

CONFIG_NAME = "config.toml"

#: Pipeline steps, in order.
STEPS = ("calibrate", "analyze", "triangulate", "filter", "angles", "render")

_TYPE_NAMES = {str: "str", int: "int", float: "float", bool: "bool", list: "list", dict: "table"}


@dataclass(frozen=True)
class Key:
    """One config key: accepted types, default, one-line doc and an optional value check.

    Attributes
    ----------
    types : tuple of type
        ``float`` also accepts an int; ``bool`` is never taken for an int.
    default : Any
    doc : str
    choices : tuple, optional
        Allowed values.
    check : callable, optional
        ``check(value) -> str | None``: a message when the value is out of range.
    item : type, optional
        Element type of a list.
    example : Any, optional
        For a key whose default is None (unset): the value the template shows, commented
        out.
    """

    types: tuple
    default: Any
    doc: str
    choices: tuple | None = None
    check: Callable[[Any], str | None] | None = None
    item: type | None = None
    example: Any = None

    @property
    def type_name(self) -> str:
        """The expected type in words (``float``, ``str or table``, ``list of str``)."""
        names = []
        for t in self.types:
            name = _TYPE_NAMES[t]
            if t is list and self.item is not None:
                name = f"list of {_TYPE_NAMES[self.item]}"
            names.append(name)
        return " or ".join(names)


def _at_least(low: float, strict: bool = False) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        if (v <= low) if strict else (v < low):
            return f"must be {'>' if strict else '>='} {low}"
        return None
    return check


def _unit_interval(v: float) -> str | None:
    return None if 0.0 <= v <= 1.0 else "must be within [0, 1]"


def _regex(v: str) -> str | None:
    try:
        re.compile(v)
    except re.error as exc:
        return f"is not a valid regular expression ({exc})"
    return None


def _odd_or_zero(v: int) -> str | None:
    return None if v == 0 or (v > 0 and v % 2 == 1) else "must be 0 (off) or an odd number"


#: Every section and key of ``config.toml``.
SCHEMA: dict[str, dict[str, Key]] = {
    "project": {
        "sessions": Key((list,), [], "session folders to process (empty: every subfolder "
                        "holding videos-raw/ or the 2D files)", item=str),
        "cam_regex": Key((str,), "", "regex on a file's stem whose first group is the camera "
                         "name (anipose's cam_regex, e.g. '-cam([A-Z])$'); empty: the stem",
                         check=_regex),
        "video_extension": Key((str,), "mp4", "suffix of the videos, without the dot"),
        "skeleton": Key((str, dict), "skeleton.toml", "skeleton TOML (relative to the "
                        "project) or an inline table (bodyparts, limbs, weak_limbs, angles)"),
        "fps": Key((float,), 100.0, "frame rate of the behaviour videos, Hz (TRC/C3D, "
                   "low-pass, movies)", check=_at_least(0.0, strict=True)),
    },
    "calibration": {
        "board": Key((str, dict), "board.toml", "board TOML (relative to the project) or an "
                     "inline table (type, squares_x, squares_y, square_length, marker_length, "
                     "dictionary...)"),
        "calibration_file": Key((str,), "", "a given calibration.toml for every session "
                                "(skips the calibrate step); empty: calibrate"),
        "fisheye": Key((bool,), False, "fisheye (Kannala-Brandt) lenses"),
        "distortion": Key((str,), "k1k2p1p2", "pinhole distortion model",
                          choices=("none", "k1", "k1k2", "k1k2p1p2", "k1k2p1p2k3")),
        "step": Key((int,), 1, "examine every step-th calibration frame",
                    check=_at_least(1)),
    },
    "pose2d": {
        "model": Key((str,), "", "model folder of `tripose train` (relative to the project); "
                     "empty: the 2D files must exist already"),
        "pose_2d_dir": Key((str,), "", "folder of existing 2D files <cam>.h5/.csv/.slp "
                           "(DeepLabCut, SLEAP), relative to each session; set it to skip "
                           "the analyze step"),
        "batch_size": Key((int,), 16, "frames per inference batch", check=_at_least(1)),
        "filter": Key((str,), "", "2D filter after inference: '', 'median' or 'viterbi'",
                      choices=("", "median", "viterbi")),
        "device": Key((str,), "auto", "torch device ('auto', 'cpu', 'cuda')"),
    },
    "triangulation": {
        "method": Key((str,), "ransac", "triangulation method",
                      choices=("dlt", "ransac", "optim")),
        "score_threshold": Key((float,), 0.5, "drop 2D detections scoring below this",
                               check=_unit_interval),
        "reproj_threshold": Key((float,), 10.0, "inlier threshold and optim's robust scale, "
                                "px", check=_at_least(0.0, strict=True)),
        "median_filter": Key((int,), 0, "2D running median window, odd frames (0 off)",
                             check=_odd_or_zero),
        "smooth": Key((float,), 0.5, "optim: temporal smoothness weight",
                      check=_at_least(0.0)),
        "limb_tolerance": Key((float,), 0.02, "optim: relative tolerance of limb lengths",
                              check=_at_least(0.0, strict=True)),
        "weak_limb_tolerance": Key((float,), 0.1, "optim: relative tolerance of weak limbs",
                                   check=_at_least(0.0, strict=True)),
        "truncate": Key((bool,), False, "cut cameras to the shortest recording when frame "
                        "counts differ (else an error)"),
        "individuals": Key((int,), None, "most animals present (>= 1); unset: as many as "
                           "the 2D files name. Several are kept in one pose-3d table",
                           check=_at_least(1), example=2),
        "identity": Key((str,), "auto", "several animals: are the 2D files' individual names "
                        "identities? 'auto' (measured), 'yes' or 'no'",
                        choices=("auto", "yes", "no")),
    },
    "filter": {
        "fill_gaps": Key((int,), 0, "interpolate 3D gaps up to this many frames (0 off)",
                         check=_at_least(0)),
        "lowpass_hz": Key((float,), 0.0, "zero-phase Butterworth cutoff, Hz (0 off)",
                          check=_at_least(0.0)),
        "axes": Key((list,), [], "alignment: 'AXIS:FROM:TO' strings, e.g. ['x:tail:nose']",
                    item=str),
        "reference_point": Key((str,), "", "alignment: bodypart placed at the origin"),
    },
    "angles": {
        "enabled": Key((bool,), True, "write the skeleton's joint angles (needs [angles] in "
                       "the skeleton)"),
    },
    "render": {
        "enabled": Key((bool,), True, "render a 3D movie per session (needs viz3d)"),
        "html": Key((bool,), True, "also write an interactive HTML scene"),
        "combined": Key((bool,), False, "also write the raw videos beside the 3D view"),
        "fps": Key((float,), 0.0, "movie frame rate, Hz (0: project.fps)",
                   check=_at_least(0.0)),
    },
}


def _type_ok(value: Any, key: Key) -> bool:
    for t in key.types:
        if t is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True
        if t is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if t is list and isinstance(value, list):
            return key.item is None or all(_type_ok(v, Key((key.item,), None, ""))
                                           for v in value)
        if t in (str, bool, dict) and isinstance(value, t):
            return True
    return False


def _describe(value: Any) -> str:
    name = _TYPE_NAMES.get(type(value), type(value).__name__)
    text = repr(value)
    return f"{name} {text if len(text) <= 40 else text[:37] + '...'}"


def validate_config(data: dict, where: str = CONFIG_NAME) -> dict:
    """Check a parsed config against :data:`SCHEMA` and fill in the defaults.

    Parameters
    ----------
    data : dict
        Parsed TOML.
    where : str
        Source name for messages.

    Returns
    -------
    dict
        section -> key -> value, every key present; floats as float.

    Raises
    ------
    InputError
        An unknown section or key (naming it and the allowed ones), a value of the wrong type
        (naming the key, the expected type and what was found), a float that is not finite,
        an invalid regular expression, or a value out of range.
    """
    unknown = sorted(set(data) - set(SCHEMA))
    if unknown:
        raise InputError(f"{where}: unknown section(s) {unknown}; allowed: {list(SCHEMA)}")
    out: dict[str, dict] = {}
    for section, keys in SCHEMA.items():
        given = data.get(section, {})
        if not isinstance(given, dict):
            raise InputError(f"{where}: [{section}] must be a table, got {_describe(given)}")
        bad = sorted(set(given) - set(keys))
        if bad:
            raise InputError(f"{where}: unknown key(s) {bad} in [{section}]; allowed: "
                             f"{sorted(keys)}")
        values = {}
        for name, key in keys.items():
            if name not in given:
                values[name] = copy.deepcopy(key.default)
                continue
            v = given[name]
            if not _type_ok(v, key):
                raise InputError(f"{where}: {section}.{name} must be a {key.type_name}, got "
                                 f"{_describe(v)}")
            if key.types == (float,):
                v = float(v)
                if not math.isfinite(v):
                    raise InputError(f"{where}: {section}.{name} must be a finite number, got "
                                     f"{v!r}")
            if key.choices is not None and v not in key.choices:
                raise InputError(f"{where}: {section}.{name} must be one of "
                                 f"{list(key.choices)}, got {v!r}")
            if key.check is not None and (msg := key.check(v)):
                raise InputError(f"{where}: {section}.{name} {msg}, got {v!r}")
            values[name] = v
        out[section] = values
    return out


def load_config(path: str | Path) -> dict:
    """Read and validate a project's ``config.toml`` (see :func:`validate_config`).

    Raises
    ------
    InputError
        A missing file, invalid TOML, or a config that does not match :data:`SCHEMA`.
    """
    path = Path(path)
    if path.is_dir():
        path = path / CONFIG_NAME
    if not path.is_file():
        raise InputError(f"project config {path} not found; create a project with "
                         f"`tripose init PROJECT`")
    try:
        data = toml.loads(path.read_text(encoding="utf-8"))
    except (toml.TomlDecodeError, UnicodeDecodeError, IndexError) as exc:
        raise InputError(f"{path} is not valid TOML: {exc}") from None
    return validate_config(data, where=str(path))


def section_hash(*parts: Any) -> str:
    """SHA-256 of JSON-encoded config parts (sorted keys): a step's config fingerprint."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def config_template(overrides: dict | None = None) -> str:
    """A commented ``config.toml`` listing every key with its default (or ``overrides``).

    Parameters
    ----------
    overrides : dict, optional
        section -> key -> value written instead of the default (scalars and lists only).
    """
    overrides = overrides or {}
    lines = ["# tripose project configuration; every key is optional (defaults shown).",
             "# Reference: docs/pipeline.md", ""]
    for section, keys in SCHEMA.items():
        lines.append(f"[{section}]")
        for name, key in keys.items():
            value = overrides.get(section, {}).get(name, key.default)
            choices = f" ({', '.join(map(repr, key.choices))})" if key.choices else ""
            lines.append(f"# {key.doc}{choices}; {key.type_name}")
            if value is None:  # unset (TOML has no null): a commented-out example
                lines.append(f"# {name} = {_toml_value(key.example)}")
            else:
                lines.append(f"{name} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)
