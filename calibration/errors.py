"""Exceptions shared by tripose's packages.

``InputError`` is a ``ValueError`` whose message names the file, camera or field at fault and
says what was expected; the CLI prints it without a traceback. ``CalibrationError`` reports a
solve that failed on valid input (e.g. cameras that share no views).
"""

from __future__ import annotations

__all__ = ["InputError", "CalibrationError"]


class InputError(ValueError):
    """Bad user input: a file, camera, key or option that is missing or malformed."""


class CalibrationError(RuntimeError):
    """A calibration that cannot be solved from the given (valid) input."""
