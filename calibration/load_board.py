"""Read and write board TOML files (our keys, sleap-anipose's, anipose's ``[calibration]``)."""

from __future__ import annotations

from pathlib import Path

import toml

from poses.atomic import write_text_atomic

from .board import Board
from .errors import InputError

__all__ = ["load_board", "save_board", "board_from_dict"]

_OURS = {"type", "squares_x", "squares_y", "square_length", "marker_length", "dictionary",
         "legacy", "inverted", "units"}


def _from_sleap_anipose(d: dict) -> dict:
    bits, size = int(d.get("marker_bits", 4)), int(d.get("dict_size", 50))
    return dict(type="charuco", squares_x=d["board_x"], squares_y=d["board_y"],
                square_length=d["square_length"], marker_length=d["marker_length"],
                dictionary=f"DICT_{bits}X{bits}_{size}")


def _from_anipose(d: dict) -> dict:
    sx, sy = d["board_size"]
    btype = str(d.get("board_type", "charuco")).lower()
    btype = "checkerboard" if btype.startswith("checker") else "charuco"
    bits = int(d.get("board_marker_bits", 4))
    size = int(d.get("board_marker_dict_number", 50))
    out = dict(type=btype, squares_x=sx, squares_y=sy,
               square_length=d["board_square_side_length"])
    if btype == "charuco":
        out.update(marker_length=d["board_marker_length"], dictionary=f"DICT_{bits}X{bits}_{size}")
    return out


def board_from_dict(d: dict, where: str = "board") -> Board:
    """A :class:`Board` from a parsed board TOML in any of the accepted key styles.

    Parameters
    ----------
    d : dict
        Our keys (``type, squares_x, squares_y, square_length, marker_length, dictionary``,
        optional ``legacy, inverted, units``), sleap-anipose's (``board_x, board_y,
        square_length, marker_length, marker_bits, dict_size``), or anipose's config with a
        ``[calibration]`` table (``board_type, board_size, board_square_side_length,
        board_marker_length, board_marker_bits, board_marker_dict_number``).
    where : str
        Source name for error messages.
    """
    if "calibration" in d and isinstance(d["calibration"], dict):
        d = d["calibration"]
    try:
        if "board_x" in d:
            fields = _from_sleap_anipose(d)
        elif "board_size" in d:
            fields = _from_anipose(d)
        else:
            unknown = sorted(set(d) - _OURS)
            if unknown:
                raise InputError(
                    f"{where}: unknown board key(s) {unknown}; expected {sorted(_OURS)}"
                )
            required = ["squares_x", "squares_y", "square_length"]
            if d.get("type", "charuco") == "charuco":
                required.append("marker_length")
            missing = [k for k in required if k not in d]
            if missing:
                raise InputError(f"{where}: missing board key(s) {missing}")
            fields = dict(d)
    except KeyError as exc:
        raise InputError(f"{where}: missing board key {exc.args[0]!r}") from None
    try:
        return Board(**fields)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from None


def load_board(path: str | Path) -> Board:
    """Read a board TOML file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Board
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"board file not found: {path}")
    try:
        data = toml.load(path)
    except (toml.TomlDecodeError, UnicodeDecodeError, IndexError) as exc:
        raise InputError(f"board file {path} is not valid TOML: {exc}") from None
    return board_from_dict(data, where=f"board file {path}")


def save_board(board: Board, path: str | Path) -> Path:
    """Write ``board`` with our keys (atomically)."""
    d = {"type": board.type, "squares_x": board.squares_x, "squares_y": board.squares_y,
         "square_length": board.square_length, "units": board.units}
    if board.type == "charuco":
        d.update(marker_length=board.marker_length, dictionary=board.dictionary)
    if board.legacy is not None:
        d["legacy"] = board.legacy
    if board.inverted is not None:
        d["inverted"] = board.inverted
    return write_text_atomic(path, toml.dumps(d))
